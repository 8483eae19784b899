//! The root README's "In your project" snippet is what a user can paste: every crate it takes
//! from git is one of ours, from this repository; every crate the README's Rust examples name
//! is in it; and tokio has the features those examples' `#[tokio::main]` needs.
//!
//! (The snippet was also built once as a scratch crate with path dependencies in place of git;
//! this test keeps the facts that build rests on.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bodies of the fenced blocks whose info string starts with `lang`.
fn fenced<'a>(markdown: &'a str, lang: &str) -> Vec<&'a str> {
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("\n```") {
        let after = &rest[start + 4..];
        let (info, body) = after.split_once('\n').unwrap_or((after, ""));
        let end = body.find("\n```").map_or(body.len(), |i| i + 1);
        if info.trim().starts_with(lang) {
            blocks.push(&body[..end]);
        }
        rest = body.get(end + 3..).unwrap_or("");
    }
    blocks
}

/// The crates a Rust snippet names by path (`use x::…`, `x::y`), without the standard ones.
fn crates_named(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices("::") {
        let before = &code[..i];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        let name = &before[start..];
        let is_path_start = !before[..start].ends_with("::");
        if is_path_start
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !["std", "core", "alloc", "crate", "self", "super"].contains(&name)
        {
            names.insert(name.to_owned());
        }
    }
    names
}

#[test]
fn the_dependency_snippet_covers_the_readme_examples_from_this_repository() {
    let readme = read(&root().join("README.md"));
    let section_start = readme
        .find("\n## In your project")
        .expect("the README has an `## In your project` section");
    let section = &readme[section_start..];
    let snippet = fenced(section, "toml")
        .into_iter()
        .next()
        .expect("the section shows a toml block");
    let manifest: toml::Table = snippet.parse().expect("the snippet is TOML");

    let workspace: toml::Table = read(&root().join("Cargo.toml")).parse().unwrap();
    let repository = workspace["workspace"]["package"]["repository"]
        .as_str()
        .expect("the workspace names its repository");

    let mut dependencies = BTreeSet::new();
    for table in ["dependencies", "dev-dependencies"] {
        let Some(entries) = manifest.get(table).and_then(|t| t.as_table()) else {
            continue;
        };
        for (name, spec) in entries {
            if let Some(git) = spec.get("git") {
                assert_eq!(git.as_str(), Some(repository), "{name}'s git source");
                let member = root().join("crates").join(name).join("Cargo.toml");
                assert!(member.is_file(), "{name} is not a crate of this repository");
            }
            if table == "dependencies" {
                dependencies.insert(name.replace('-', "_"));
            }
        }
    }

    let tokio_features: BTreeSet<&str> = manifest["dependencies"]
        .get("tokio")
        .and_then(|t| t.get("features"))
        .and_then(|f| f.as_array())
        .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for code in fenced(&readme, "rust") {
        for name in crates_named(code) {
            assert!(
                dependencies.contains(&name),
                "the README's example uses `{name}`, which the snippet's [dependencies] lack"
            );
        }
        if code.contains("#[tokio::main]") {
            for feature in ["macros", "rt-multi-thread"] {
                assert!(
                    tokio_features.contains(feature),
                    "`#[tokio::main]` needs tokio's `{feature}` feature in the snippet"
                );
            }
        }
    }
}

#[test]
fn crates_are_read_from_paths_only() {
    let code = "use pardot_auth::{Config, connect};\nlet v: serde_json::Value = x;\n\
                Box<dyn std::error::Error>; Config::from_env()";
    assert_eq!(
        crates_named(code),
        BTreeSet::from(["pardot_auth".to_owned(), "serde_json".to_owned()])
    );
}
