//! `cargo xtask`: placeholder main replaced below.
fn main() {}
