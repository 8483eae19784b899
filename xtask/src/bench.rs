//! `cargo xtask bench`: not built yet (issue "cargo xtask bench"). It says so and fails rather
//! than print numbers it did not measure.

use anyhow::{Result, bail};

pub(crate) fn run(_args: &[String]) -> Result<bool> {
    bail!(
        "the benchmark harness is not built yet; `cargo bench -p pardot-http` runs the \
         transport's criterion benchmarks where they exist"
    )
}
