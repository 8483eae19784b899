//! The GitHub Actions example of the mock guide cannot run here; its `run:` steps can. This
//! reads them from the YAML (the subset the example uses: `run: command` and `run: |` blocks)
//! and runs them in order, in a project holding the guide's Python example as its tests, with
//! `pip` pointed at `target/dist` instead of PyPI (the published wheel is the one `dist` built).

use std::process::Command;

use anyhow::{Result, ensure};

use super::{docs, python};
use crate::dist::{Layout, run_tool};

/// One `run:` step: its `name:` (or the command) and its script.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RunStep {
    pub name: String,
    pub script: String,
}

/// The `run:` steps of a workflow, in order.
pub(crate) fn run_steps(yaml: &str) -> Vec<RunStep> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut steps = Vec::new();
    let mut name = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let key = line.trim_start().trim_start_matches("- ");
        if line.trim_start().starts_with("- ") {
            name = None;
        }
        if let Some(value) = key.strip_prefix("name:") {
            name = Some(value.trim().trim_matches('"').to_owned());
        } else if let Some(value) = key.strip_prefix("run:") {
            let value = value.trim();
            let script = if value == "|" {
                let indent = |l: &str| l.len() - l.trim_start().len();
                let own = indent(line);
                let mut block = Vec::new();
                while i + 1 < lines.len()
                    && (lines[i + 1].trim().is_empty() || indent(lines[i + 1]) > own)
                {
                    i += 1;
                    block.push(lines[i]);
                }
                let strip = block
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| indent(l))
                    .min();
                let strip = strip.unwrap_or(0);
                block
                    .iter()
                    .map(|l| l.get(strip..).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n"
            } else {
                format!("{value}\n")
            };
            steps.push(RunStep {
                name: name.take().unwrap_or_else(|| script.trim().to_owned()),
                script,
            });
        }
        i += 1;
    }
    steps
}

/// Runs the guide's workflow steps against the wheel in `target/dist`.
pub(crate) fn check(layout: &Layout) -> Result<()> {
    let yaml = docs::example(&layout.root, "github-actions")?;
    let steps = run_steps(&yaml);
    ensure!(
        steps
            .iter()
            .any(|s| s.script.contains("pip install") && s.script.contains("pardot-mock")),
        "the workflow example installs no pardot-mock wheel: {steps:?}"
    );
    let Some(python3) = crate::dist::find_tool("python3", &[]) else {
        return crate::dist::unavailable("the GitHub Actions example", "python3 is not installed");
    };
    if layout.wheel()?.is_none() {
        return crate::dist::unavailable(
            "the GitHub Actions example",
            "no wheel in target/dist (cargo xtask dist builds it with maturin)",
        );
    }
    let project = layout.staging.join("check-workflow");
    crate::dist::fresh_dir(&project)?;
    std::fs::create_dir_all(project.join("tests"))?;
    std::fs::write(
        project.join("tests/test_pardot.py"),
        docs::example(&layout.root, "python-test")?,
    )?;
    // actions/setup-python: an interpreter of its own, with the test tools already cached.
    let venv = project.join(".venv");
    python::venv_with_requirements(layout, &python3, &venv)?;
    let path = std::env::join_paths(std::iter::once(venv.join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    for step in steps {
        eprintln!("==> workflow step: {}", step.name);
        run_tool(
            Command::new("bash")
                .args(["-e", "-o", "pipefail", "-c", &step.script])
                .current_dir(&project)
                .env("PATH", &path)
                .env("VIRTUAL_ENV", &venv)
                .env("PIP_NO_INDEX", "1")
                .env("PIP_FIND_LINKS", &layout.dist)
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                .env_remove("PARDOT_MOCK_BINARY"),
            &format!("the workflow step `{}`", step.name),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{RunStep, run_steps};

    #[test]
    fn run_steps_are_read_in_order_with_their_names() {
        let yaml = "\
jobs:
  test:
    steps:
      - uses: actions/checkout@v4
      - name: Install
        run: pip install pardot-mock
      - run: |
          one
            two

          three
      - name: \"Last\"
        run: echo done
";
        assert_eq!(
            run_steps(yaml),
            vec![
                RunStep {
                    name: "Install".into(),
                    script: "pip install pardot-mock\n".into()
                },
                RunStep {
                    name: "one\n  two\n\nthree".into(),
                    script: "one\n  two\n\nthree\n".into()
                },
                RunStep {
                    name: "Last".into(),
                    script: "echo done\n".into()
                },
            ]
        );
    }

    #[test]
    fn a_yaml_without_run_steps_has_none() {
        assert!(run_steps("jobs:\n  a:\n    steps:\n      - uses: x\n").is_empty());
    }
}
