//! The npm package from Node: the `npm pack` tarball installed into a temporary project, then
//! the `node:test` suite of `fixtures/clients/node/` and the guide's Node example run there.
//! Also measures the start-to-ready time.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Timings, docs};
use crate::dist::{Layout, find_tool, fresh_dir, output_of, run_tool, unavailable};

const PART: &str = "the npm package suite";

/// Median start-to-ready of `startPardotMock()`, in milliseconds, over five starts.
const MEASURE: &str = "\
const { startPardotMock } = require('pardot-mock');
(async () => {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const mock = await startPardotMock();
    samples.push(performance.now() - started);
    await mock.stop();
  }
  samples.sort((a, b) => a - b);
  console.log(samples[2].toFixed(1));
})();
";

pub(crate) fn check(layout: &Layout, timings: &mut Timings) -> Result<()> {
    let (Some(npm), Some(node)) = (find_tool("npm", &[]), find_tool("node", &[])) else {
        return unavailable(PART, "node or npm is not installed (both come with nodejs)");
    };
    let tarball = layout.dist.join(layout.npm_tarball_name());
    if !tarball.is_file() {
        return unavailable(
            PART,
            "no npm tarball in target/dist (cargo xtask dist packs it)",
        );
    }
    let project = layout.staging.join("check-node");
    fresh_dir(&project)?;
    std::fs::write(
        project.join("package.json"),
        "{\"name\": \"pardot-mock-check\", \"private\": true}\n",
    )?;
    run_tool(
        Command::new(npm)
            .args([
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--offline",
            ])
            .arg(&tarball)
            .current_dir(&project),
        "npm install (the tarball)",
    )?;
    let suite_dir = layout.root.join("fixtures/clients/node");
    let mut tests = Vec::new();
    for entry in std::fs::read_dir(&suite_dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(".test.mjs") {
            std::fs::copy(&path, project.join(&name))
                .with_context(|| format!("copying {}", path.display()))?;
            tests.push(name);
        }
    }
    std::fs::write(
        project.join("mock-guide-example.test.mjs"),
        docs::example(&layout.root, "node-test")?,
    )?;
    tests.push("mock-guide-example.test.mjs".to_owned());
    eprintln!(
        "==> Node: fixtures/clients/node and the guide's example, from the installed tarball"
    );
    run_tool(
        suite_command(layout, &node, &project)
            .arg("--test")
            .args(&tests),
        "node --test",
    )?;
    let ready = output_of(
        suite_command(layout, &node, &project).args(["-e", MEASURE]),
        "the measurement",
    )?;
    timings.record("Node startPardotMock()", ready.trim());
    Ok(())
}

/// `node` in the project, with the suite's environment.
fn suite_command(layout: &Layout, node: &Path, project: &Path) -> Command {
    let mut command = super::suite_command(layout, node);
    command.current_dir(project);
    command
}
