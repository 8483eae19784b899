//! The wheel from Python: installed into a fresh virtual environment with the suite's tools
//! (pytest, requests, PyJWT), then `fixtures/clients/python/` and the guide's Python example
//! run through the wheel's pytest plugin. Also measures the start-to-ready time.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use super::{Timings, docs};
use crate::dist::{Layout, find_tool, fresh_dir, output_of, run_tool, unavailable};

const PART: &str = "the Python package suite";

/// The suite's requirements, relative to the workspace root.
const REQUIREMENTS: &str = "fixtures/clients/python/requirements.txt";

/// Median start-to-ready of `PardotMock().start()`, in milliseconds, over five starts.
const MEASURE: &str = "\
import statistics, time
from pardot_mock import PardotMock
samples = []
for _ in range(5):
    started = time.perf_counter()
    mock = PardotMock().start()
    samples.append((time.perf_counter() - started) * 1000)
    mock.stop()
print(f'{statistics.median(samples):.1f}')
";

/// Creates the virtual environment `venv` with the suite's requirements; its interpreter.
pub(crate) fn venv_with_requirements(
    layout: &Layout,
    python3: &Path,
    venv: &Path,
) -> Result<PathBuf> {
    run_tool(
        Command::new(python3).args(["-m", "venv"]).arg(venv),
        "python3 -m venv",
    )?;
    let python = venv.join("bin/python");
    pip_install(
        &python,
        &["-r".as_ref(), layout.root.join(REQUIREMENTS).as_os_str()],
    )?;
    Ok(python)
}

pub(crate) fn check(layout: &Layout, timings: &mut Timings) -> Result<()> {
    let Some(python3) = find_tool("python3", &[]) else {
        return unavailable(PART, "python3 is not installed");
    };
    let Some(wheel) = layout.wheel()? else {
        return unavailable(
            PART,
            "no wheel in target/dist (cargo xtask dist builds it with maturin)",
        );
    };
    let work = layout.staging.join("check-python");
    fresh_dir(&work)?;
    let python = venv_with_requirements(layout, &python3, &work.join("venv"))?;
    pip_install(&python, &["--no-index".as_ref(), wheel.as_os_str()])?;
    let example = work.join("test_mock_guide_example.py");
    std::fs::write(&example, docs::example(&layout.root, "python-test")?)?;
    eprintln!("==> Python: fixtures/clients/python and the guide's example, through the plugin");
    run_tool(
        suite_command(layout, &python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(layout.root.join("fixtures/clients/python"))
            .arg(&example),
        "pytest",
    )?;
    let ready = output_of(
        suite_command(layout, &python).args(["-c", MEASURE]),
        "the measurement",
    )?;
    timings.record("Python PardotMock().start()", ready.trim());
    Ok(())
}

/// `pip install ARGS` with the venv's interpreter `python`.
fn pip_install(python: &Path, args: &[&OsStr]) -> Result<()> {
    run_tool(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(args),
        "pip install",
    )
}

/// The venv's interpreter in the workspace root, with the suite's environment.
fn suite_command(layout: &Layout, python: &Path) -> Command {
    let mut command = super::suite_command(layout, python);
    command.current_dir(&layout.root);
    command
}
