//! `license = "MIT OR Apache-2.0"` has both texts behind it: at the root, and in each crate's
//! directory as plain copies (no symlinks, so a Windows checkout and `cargo package` both see
//! the text), so every published package carries them.

use std::path::{Path, PathBuf};

const TEXTS: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_crate_carries_both_license_texts_equal_to_the_root_ones() {
    let workspace = read(&root().join("Cargo.toml"));
    assert!(
        workspace.contains("license = \"MIT OR Apache-2.0\""),
        "the workspace's license changed: update the texts and this test"
    );
    let crates = std::fs::read_dir(root().join("crates")).expect("crates/ reads");
    let mut checked = 0;
    for entry in crates {
        let dir = entry.expect("crates/ lists").path();
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        for text in TEXTS {
            let copy = dir.join(text);
            assert!(
                !copy.is_symlink(),
                "{} is a symlink: copy the file",
                copy.display()
            );
            assert!(
                read(&copy) == read(&root().join(text)),
                "{} differs from the root's: cp {text} {}",
                copy.display(),
                copy.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} crates found under crates/");
}
