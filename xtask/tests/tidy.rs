//! Tidy checks over the workspace's source: there is one redactor of server text,
//! `pardot_auth_core::redact`, and no second one grows beside it.

use std::fs;
use std::path::{Path, PathBuf};

/// Words in a function's name that say it cuts or masks text for display.
const REDACTOR_WORDS: &[&str] = &[
    "excerpt", "snippet", "redact", "truncat", "mask", "clip", "shorten", "abbrev", "elide",
];

/// The one redactor.
const CORE_REDACTOR: &str = "crates/pardot-auth-core/src/redact.rs";

/// Functions that match the words but are not a second redactor of server text, and why.
const ALLOWED: &[(&str, &str)] = &[
    // The mock's journal masks named fields and headers of the requests it records: it
    // removes known secrets by name from what a client sent, a different job.
    ("crates/pardot-mock/src/journal.rs", "mask_"),
];

/// Text cut by characters for display outside the redactor, and why each is allowed.
const ALLOWED_CHAR_CUTS: &[&str] = &[
    // The token store's record name: a readable prefix of a consumer key or user name.
    "crates/pardot-auth/src/config.rs",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every library and tool source file (`crates/*/src`, `xtask/src`), as paths relative to the
/// workspace root with `/` separators, and their text.
fn sources() -> Vec<(String, String)> {
    let root = workspace_root();
    let mut dirs = vec![root.join("xtask/src")];
    for entry in fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .flatten()
    {
        dirs.push(entry.path().join("src"));
    }
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&dir, &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("source is UTF-8");
            let relative = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            (relative, text)
        })
        .collect()
}

/// `(name, parameters)` of a function declared on `line`, if any.
fn declared_fn(line: &str) -> Option<(&str, &str)> {
    let after = line.split_once("fn ")?.1;
    let (name, rest) = after.split_once('(')?;
    let name = name.split('<').next()?.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let params = rest.split(')').next().unwrap_or_default();
    Some((name, params))
}

#[test]
fn no_second_redactor_outside_core() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path == CORE_REDACTOR {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let Some((name, params)) = declared_fn(line) else {
                continue;
            };
            let lower = name.to_ascii_lowercase();
            let takes_text = !matches!(params.trim(), "" | "&self" | "self" | "&mut self");
            let allowed = ALLOWED
                .iter()
                .any(|(file, prefix)| path == *file && name.starts_with(prefix));
            if takes_text && !allowed && REDACTOR_WORDS.iter().any(|w| lower.contains(w)) {
                found.push(format!("{path}:{}: fn {name}({params})", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "excerpt/redaction functions outside {CORE_REDACTOR}: call \
         pardot_auth_core::redact::{{excerpt, redact}} instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_text_cut_by_characters_outside_the_redactor() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path == CORE_REDACTOR
            || path.starts_with("xtask/")
            || ALLOWED_CHAR_CUTS.contains(&path.as_str())
        {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if line.contains(".chars().take(") {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "text cut for display outside {CORE_REDACTOR} (cut after redacting, with \
         pardot_auth_core::redact::excerpt):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_a_second_redactor() {
    // The checks are worth something only if they recognise what they forbid.
    let old_legacy_excerpt = "pub(crate) fn excerpt(body: &[u8]) -> String {";
    let (name, params) = declared_fn(old_legacy_excerpt).expect("a declaration");
    assert_eq!((name, params), ("excerpt", "body: &[u8]"));
    assert!(declared_fn("let x = y.chars().take(3);").is_none());
    assert_eq!(
        declared_fn("    pub fn excerpt(&self) -> Option<&str> {"),
        Some(("excerpt", "&self"))
    );
}
