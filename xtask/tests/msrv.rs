//! The declared minimum Rust version is the real one: no package of the locked dependency graph
//! that is built on Linux (normal, dev and build dependencies, every feature) asks for a newer
//! Rust than the workspace's `rust-version`, every workspace member declares it, and the README
//! (and any Markdown file that names a minimum, `1.NN or newer`) states it.
//!
//! No older toolchain can be installed to build with, so the graph's own `rust-version` fields
//! (from `cargo metadata`) are the evidence; clippy's `incompatible_msrv` lint (on through
//! `clippy::all`) covers our own code's use of newer standard-library items.

use std::process::Command;

/// The platform the MSRV promise is checked for.
const LINUX: &str = "x86_64-unknown-linux-gnu";

/// `1.89`, `1.89.0` -> `(1, 89, 0)`.
fn parse_version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("`{text}` is not a Rust version"))
    });
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

fn metadata() -> serde_json::Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--all-features",
            "--filter-platform",
            LINUX,
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

fn rust_version(package: &serde_json::Value) -> Option<&str> {
    package["rust_version"].as_str()
}

fn name(package: &serde_json::Value) -> String {
    format!(
        "{} {}",
        package["name"].as_str().unwrap_or("?"),
        package["version"].as_str().unwrap_or("?")
    )
}

#[test]
fn no_locked_dependency_used_on_linux_needs_a_newer_rust_than_rust_version() {
    let metadata = metadata();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    let resolved: Vec<&str> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .filter_map(|node| node["id"].as_str())
        .collect();
    let packages = metadata["packages"].as_array().expect("packages");

    let mut declared = None;
    for member in packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(&id)))
    {
        let version = rust_version(member).unwrap_or_else(|| {
            panic!(
                "{} has no rust-version (add `rust-version.workspace = true`)",
                name(member)
            )
        });
        assert!(
            declared.is_none_or(|d| d == version),
            "{} declares rust-version {version}, another member {declared:?}",
            name(member)
        );
        declared = Some(version);
    }
    let declared = declared.expect("the workspace has members");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README reads");
    assert!(
        readme.contains(&format!("Rust {declared} or newer")),
        "the README must state the minimum as `Rust {declared} or newer`"
    );
    for (file, stated) in stated_minimums() {
        assert_eq!(stated, declared, "{file} states another minimum Rust");
    }

    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| resolved.contains(&id)))
        .filter_map(|p| {
            let needed = rust_version(p)?;
            (parse_version(needed) > parse_version(declared))
                .then(|| format!("{} needs Rust {needed}", name(p)))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "the workspace declares rust-version {declared} (Cargo.toml, README), but locked \
         dependencies used on Linux need more: {too_new:?}; raise rust-version and the README's \
         minimum, or pin those dependencies lower"
    );
}

/// Every `1.NN or newer` in the tracked Markdown files, with its file.
fn stated_minimums() -> Vec<(String, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let listed = Command::new("git")
        .args(["ls-files", "*.md"])
        .current_dir(root)
        .output()
        .expect("git ls-files runs");
    let mut stated = Vec::new();
    for file in String::from_utf8_lossy(&listed.stdout).lines() {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap_or_default();
        for (at, _) in text.match_indices(" or newer") {
            let version = text[..at].rsplit([' ', '(']).next().unwrap_or("");
            if version.starts_with("1.") {
                stated.push((file.to_owned(), version.to_owned()));
            }
        }
    }
    stated
}

#[test]
fn versions_compare_by_number_not_by_text() {
    assert!(parse_version("1.100") > parse_version("1.89.0"));
    assert_eq!(parse_version("1.89"), parse_version("1.89.0"));
}
