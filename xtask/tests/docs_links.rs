//! Every tracked Markdown file (`git ls-files '*.md'`) points only at things in the repository.
//!
//! Two rules, both applied outside fenced code blocks:
//!
//! - **Links.** The target of an inline link or image (`[text](target)`, `![alt](target)`) and of
//!   a reference definition (`[label]: target`) must resolve when it has no URL scheme
//!   (`https:`, `mailto:`, …): relative to the Markdown file, or to the repository root when it
//!   starts with `/`, to a tracked file or to a directory holding one. A `#fragment` on a
//!   Markdown target (or alone, for the same file) must name a heading of that file, slugged as
//!   GitHub does (lowercase; letters, digits, `-` and `_` kept, spaces become `-`, everything else
//!   dropped; repeats get `-1`, `-2`, …), or an `<a id="…">` / `<a name="…">` anchor in it.
//! - **Paths in backticks.** An inline code span counts as a repository path when it is made only
//!   of ASCII letters, digits, `.`, `_`, `-` and `/`, contains a `/`, has no empty, `.` or `..`
//!   component, and its first component is a tracked top-level directory (`crates/…`, `docs/…`)
//!   or an entry of the Markdown file's own directory (`src/…` in a crate README). Such a path
//!   must exist as above. Anything else in backticks (`application/json`, `/api/v5/…`,
//!   `docs/bench/*.json`, `target/…`, `{base}/my/NAME`) is not a claim about the tree.
//!
//! Existence is judged against the tracked files, so a file that is only on one machine does not
//! make a link good.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The tracked files, as `/`-separated paths relative to the repository root, and every directory
/// that holds one.
struct Tree {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
}

impl Tree {
    fn new<I: IntoIterator<Item = String>>(paths: I) -> Tree {
        let files: BTreeSet<String> = paths.into_iter().collect();
        let mut dirs = BTreeSet::from([String::new()]);
        for file in &files {
            let mut dir = file.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                dirs.insert(parent.to_owned());
                dir = parent;
            }
        }
        Tree { files, dirs }
    }

    fn exists(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        self.files.contains(path) || self.dirs.contains(path)
    }

    fn top_level_dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs
            .iter()
            .filter(|d| !d.is_empty() && !d.contains('/'))
            .map(String::as_str)
    }
}

/// `dir/target` with `.` and `..` resolved; `None` when it climbs out of the repository.
fn join(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    let base = if let Some(rooted) = target.strip_prefix('/') {
        PathBuf::from(rooted)
    } else {
        Path::new(dir).join(target)
    };
    let joined = base.to_str()?.to_owned();
    for component in Path::new(&joined).components() {
        match component {
            Component::Normal(name) => parts.push(name.to_str()?),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

fn parent_dir(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The GitHub anchor of a heading's text.
fn slug(heading: &str) -> String {
    // Links keep only their text: `[text](url)` -> `text`.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|i| close + i) else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The lines of a Markdown text outside fenced code blocks, with their 1-based numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m => fence = None,
            (Some(_), _) => {}
            (None, None) => lines.push((index + 1, line)),
        }
    }
    lines
}

/// The anchors a Markdown text defines: its headings' slugs and its `<a id|name="…">` tags.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && trimmed[level..].starts_with(' ') {
            let base = slug(trimmed[level..].trim().trim_end_matches('#'));
            let count = seen.entry(base.clone()).or_insert(0);
            anchors.insert(if *count == 0 {
                base
            } else {
                format!("{base}-{count}")
            });
            *count += 1;
        }
        for attribute in ["<a id=\"", "<a name=\""] {
            let mut rest = line;
            while let Some(start) = rest.find(attribute) {
                rest = &rest[start + attribute.len()..];
                if let Some(end) = rest.find('"') {
                    anchors.insert(rest[..end].to_owned());
                }
            }
        }
    }
    anchors
}

/// A line with its inline code spans blanked out, and the spans' contents.
fn split_code_spans(line: &str) -> (String, Vec<&str>) {
    let mut prose = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('`') {
        let ticks = rest[open..].chars().take_while(|&c| c == '`').count();
        let fence = &rest[open..open + ticks];
        let after = &rest[open + ticks..];
        let Some(close) = after.find(fence) else {
            break;
        };
        prose.push_str(&rest[..open]);
        prose.push_str(&" ".repeat(ticks * 2 + close));
        spans.push(after[..close].trim());
        rest = &after[close + ticks..];
    }
    prose.push_str(rest);
    (prose, spans)
}

/// The link targets of a line whose code spans are blanked: inline links and images, and a
/// reference definition.
fn link_targets(prose: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = prose;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let target = if let Some(bracketed) = rest.strip_prefix('<') {
            bracketed.split('>').next().unwrap_or_default()
        } else {
            rest.split([' ', ')']).next().unwrap_or_default()
        };
        targets.push(target);
    }
    let trimmed = prose.trim_start();
    if trimmed.starts_with('[')
        && let Some((label, target)) = trimmed.split_once("]:")
        && !label.contains(']')
        && let Some(target) = target.split_whitespace().next()
    {
        targets.push(target.trim_start_matches('<').trim_end_matches('>'));
    }
    targets
}

fn has_scheme(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

/// Whether a code span is a claim about the tree (see the module documentation), and the path it
/// names relative to the repository root.
fn path_claim(span: &str, markdown_dir: &str, tree: &Tree) -> Option<String> {
    let valid = span.contains('/')
        && span
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && span
            .trim_end_matches('/')
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if !valid {
        return None;
    }
    let first = span.split('/').next()?;
    if tree.top_level_dirs().any(|dir| dir == first) {
        return Some(span.to_owned());
    }
    let local = join(markdown_dir, first)?;
    (!markdown_dir.is_empty() && tree.exists(&local)).then(|| join(markdown_dir, span))?
}

/// Every broken link or path of one Markdown file, as `file:line: what`.
fn check(
    file: &str,
    text: &str,
    tree: &Tree,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let dir = parent_dir(file);
    let mut problems = Vec::new();
    for (number, line) in prose_lines(text) {
        let (prose, spans) = split_code_spans(line);
        for target in link_targets(&prose) {
            if target.is_empty() || has_scheme(target) {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target, None),
            };
            let resolved = if path.is_empty() {
                Some(file.to_owned())
            } else {
                join(dir, path)
            };
            let Some(resolved) = resolved.filter(|p| tree.exists(p)) else {
                problems.push(format!("{file}:{number}: link to `{target}`: no such file"));
                continue;
            };
            let Some(fragment) = fragment else { continue };
            if !resolved.ends_with(".md") || !tree.files.contains(&resolved) {
                continue;
            }
            let defined = read(&resolved).map(|t| anchors(&t)).unwrap_or_default();
            if !defined.contains(fragment) {
                problems.push(format!(
                    "{file}:{number}: link to `{target}`: `{resolved}` has no heading or anchor `{fragment}`"
                ));
            }
        }
        for span in spans {
            if let Some(path) = path_claim(span, dir, tree)
                && !tree.exists(&path)
            {
                problems.push(format!(
                    "{file}:{number}: path `{span}` is not in the repository"
                ));
            }
        }
    }
    problems
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The tracked files of the repository.
fn tracked_tree(root: &Path) -> Tree {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .expect("git runs (the check reads the tracked files)");
    assert!(output.status.success(), "git ls-files failed");
    let listing = String::from_utf8(output.stdout).expect("tracked paths are UTF-8");
    Tree::new(
        listing
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    )
}

#[test]
fn tracked_markdown_links_and_paths_resolve() {
    let root = root();
    let tree = tracked_tree(&root);
    let read = |path: &str| std::fs::read_to_string(root.join(path)).ok();
    let markdown: Vec<&String> = tree.files.iter().filter(|f| f.ends_with(".md")).collect();
    assert!(
        markdown.len() > 10,
        "expected the repository's Markdown files"
    );
    let mut problems = Vec::new();
    for file in markdown {
        // A tracked file deleted in the working tree is git's business, not a broken link.
        if let Some(text) = read(file) {
            problems.extend(check(file, &text, &tree, &read));
        }
    }
    assert!(
        problems.is_empty(),
        "broken links and paths:\n{}",
        problems.join("\n")
    );
}

/// `docs/README.md` links every guide and reference page under `docs/`, every example of the
/// crates and every client script of `fixtures/clients`.
#[test]
fn docs_index_links_every_guide_reference_page_and_example() {
    let root = root();
    let tree = tracked_tree(&root);
    let index = std::fs::read_to_string(root.join("docs/README.md")).expect("docs/README.md");
    let linked: BTreeSet<String> = prose_lines(&index)
        .into_iter()
        .flat_map(|(_, line)| {
            let (prose, _) = split_code_spans(line);
            link_targets(&prose)
                .into_iter()
                .filter_map(|t| join("docs", t.split('#').next().unwrap_or_default()))
                .collect::<Vec<_>>()
        })
        .collect();
    let in_list = |file: &str| {
        let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
        (file.starts_with("docs/") && name.ends_with(".md") && file != "docs/README.md")
            || (dir.starts_with("crates/") && dir.ends_with("/examples") && name.ends_with(".rs"))
            || (dir == "fixtures/clients" && (name.ends_with(".py") || name.ends_with(".mjs")))
    };
    let missing: Vec<&String> = tree
        .files
        .iter()
        .filter(|f| in_list(f) && !linked.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/README.md does not link: {missing:?}"
    );
}

#[test]
fn broken_links_unknown_anchors_and_missing_paths_are_reported() {
    let tree = Tree::new(
        [
            "README.md",
            "docs/guide.md",
            "docs/reference/facts.md",
            "crates/a/README.md",
            "crates/a/src/lib.rs",
        ]
        .map(str::to_owned),
    );
    let facts =
        "# Facts\n\n## The `signature` field\n\n## Hosts\n\n## Hosts\n<a id=\"extra\"></a>\n";
    let read = |path: &str| (path == "docs/reference/facts.md").then(|| facts.to_owned());
    let guide = "\
See [facts](reference/facts.md#the-signature-field), [hosts](reference/facts.md#hosts-1),
[extra](reference/facts.md#extra), [the README](../README.md), [docs](reference/),
<https://example.com/x>, [web](https://example.com/y.md#z) and `docs/reference/facts.md`.
Not paths: `application/json`, `/api/v5/objects`, `docs/*.md`, `target/debug`, `{base}/my/NAME`.
```sh
cat docs/missing.md   # [no](nowhere.md) inside a fence
```
Broken: [gone](gone.md), [anchor](reference/facts.md#nope), [self](#nowhere),
`docs/reference/gone.md`, `crates/b/README.md`, and a span hiding a link: `[x](y.md)`.
[label]: reference/missing.md
";
    let problems = check("docs/guide.md", guide, &tree, &read);
    let lines: Vec<&str> = problems.iter().map(String::as_str).collect();
    assert_eq!(
        lines,
        [
            "docs/guide.md:8: link to `gone.md`: no such file",
            "docs/guide.md:8: link to `reference/facts.md#nope`: `docs/reference/facts.md` has no heading or anchor `nope`",
            "docs/guide.md:8: link to `#nowhere`: `docs/guide.md` has no heading or anchor `nowhere`",
            "docs/guide.md:9: path `docs/reference/gone.md` is not in the repository",
            "docs/guide.md:9: path `crates/b/README.md` is not in the repository",
            "docs/guide.md:10: link to `reference/missing.md`: no such file",
        ],
    );
    // A crate README's own `src/…` is checked against the crate's directory.
    let readme = "The code is in `src/lib.rs`, not `src/main.rs`.\n";
    assert_eq!(
        check("crates/a/README.md", readme, &tree, &read),
        ["crates/a/README.md:1: path `src/main.rs` is not in the repository"],
    );
}

#[test]
fn headings_slug_as_github_does() {
    assert_eq!(
        slug("The v3/v4 URLs and envelope"),
        "the-v3v4-urls-and-envelope"
    );
    assert_eq!(slug("The `signature` field"), "the-signature-field");
    assert_eq!(
        slug("3. Make a private key and a certificate"),
        "3-make-a-private-key-and-a-certificate"
    );
    assert_eq!(
        slug("Revoke, userinfo, identity URL, introspect"),
        "revoke-userinfo-identity-url-introspect"
    );
    assert_eq!(slug("[Hosts](hosts.md) and more"), "hosts-and-more");
    assert_eq!(slug("snake_case stays"), "snake_case-stays");
}
