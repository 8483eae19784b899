//! Sets `cfg(in_repository)` when the crate is built inside its repository: there the workspace
//! README and the guides under `docs/` are doc-tested with it (`src/lib.rs`), so their snippets
//! cannot drift; a packaged copy (crates.io, `cargo package`) has only its own files.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(in_repository)");
    println!("cargo::rerun-if-changed=build.rs");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let guides = std::path::Path::new(&manifest_dir).join("../../docs/choosing-a-flow.md");
    if guides.is_file() {
        println!("cargo::rustc-cfg=in_repository");
    }
}
