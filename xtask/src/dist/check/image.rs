//! What the container image holds, proven without a container runtime: the `Dockerfile` is
//! parsed, its root is assembled from its `COPY` lines plus the `/dev` nodes a runtime
//! provides (and nothing else), its `ENTRYPOINT` + `CMD` run there (`chroot`) with its `ENV`
//! in a network namespace of their own, its `HEALTHCHECK` is polled until it passes, and a
//! client in a second namespace completes a JWT login and a v5 read through the service name,
//! as a compose service would be reached.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use super::netns::{self, Network};
use crate::dist::{Layout, copy_tree, fresh_dir, output_of, run_tool, unavailable};

const PART: &str = "the empty-root and network-namespace test of the image";
/// The name the client reaches the mock by, and the URL the mock advertises.
const SERVICE: &str = "pardot-mock";
const PUBLIC_URL: &str = "http://pardot-mock:8717";
/// What a chrooted command gets as `PATH` (the image has none; `ip netns exec` needs one).
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// The character devices a container runtime creates (Docker's and runc's defaults, without
/// the terminal): name, major, minor. `/dev/random` is needed: in a static glibc binary the
/// `getrandom` crate cannot find glibc's `getrandom` dynamically and falls back to polling
/// `/dev/random` before reading `/dev/urandom`.
const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
];
/// How long the mock may take to pass its health check.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The instructions of the `Dockerfile` that matter to what the image holds and runs.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Image {
    pub from: String,
    /// `COPY` lines: sources (relative to the build context) and destination.
    pub copies: Vec<(Vec<String>, String)>,
    pub env: Vec<(String, String)>,
    pub expose: Vec<String>,
    /// The `HEALTHCHECK CMD` in exec form.
    pub healthcheck: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// Parses a `Dockerfile` (continuation lines joined, comments dropped). Shell-form
/// `ENTRYPOINT`/`CMD`/`HEALTHCHECK` are refused: a scratch image has no shell to run them.
pub(crate) fn parse(text: &str) -> Result<Image> {
    let mut image = Image::default();
    let mut joined = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && joined.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            continue;
        }
        joined.push_str(trimmed);
        let instruction = std::mem::take(&mut joined);
        let (keyword, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction, ""));
        let rest = rest.trim();
        match keyword.to_ascii_uppercase().as_str() {
            "FROM" => image.from = rest.to_owned(),
            "COPY" => {
                let mut words: Vec<String> = rest
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .map(str::to_owned)
                    .collect();
                let dest = words.pop().context("COPY without a destination")?;
                ensure!(!words.is_empty(), "COPY without a source: {instruction}");
                image.copies.push((words, dest));
            }
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (name, value) = pair
                        .split_once('=')
                        .with_context(|| format!("ENV without NAME=VALUE: {instruction}"))?;
                    image
                        .env
                        .push((name.to_owned(), value.trim_matches('"').to_owned()));
                }
            }
            "EXPOSE" => image
                .expose
                .extend(rest.split_whitespace().map(str::to_owned)),
            "HEALTHCHECK" => {
                let command = rest
                    .split_once("CMD")
                    .with_context(|| format!("HEALTHCHECK without CMD: {instruction}"))?
                    .1;
                image.healthcheck = exec_form(command, "HEALTHCHECK CMD")?;
            }
            "ENTRYPOINT" => image.entrypoint = exec_form(rest, "ENTRYPOINT")?,
            "CMD" => image.cmd = exec_form(rest, "CMD")?,
            _ => {}
        }
    }
    Ok(image)
}

fn exec_form(text: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(text.trim())
        .with_context(|| format!("{what} is not in exec form (a JSON array): {text}"))
}

/// Checks the `Dockerfile`, then (as root) runs the image's root in namespaces.
pub(crate) fn check(layout: &Layout) -> Result<()> {
    let text =
        std::fs::read_to_string(layout.root.join("Dockerfile")).context("reading Dockerfile")?;
    let image = parse(&text)?;
    ensure!(
        image.from == "scratch",
        "the image is not FROM scratch: {}",
        image.from
    );
    ensure!(
        image.expose == ["8717"],
        "the image exposes {:?}, not 8717",
        image.expose
    );
    ensure!(
        image
            .env
            .iter()
            .any(|(k, v)| k == "PARDOT_MOCK_ADDR" && v == "0.0.0.0:8717"),
        "the image does not listen on 0.0.0.0:8717: {:?}",
        image.env
    );
    ensure!(
        image.healthcheck == ["/pardot-mock", "health"],
        "the health check is not the binary's own: {:?}",
        image.healthcheck
    );
    if let Some(reason) = netns::missing_reason() {
        return unavailable(PART, &reason);
    }
    if !layout.binary().is_file() {
        return unavailable(
            PART,
            "no static binary in target/dist (cargo xtask dist builds it)",
        );
    }
    let work = layout.staging.join("check-image");
    fresh_dir(&work)?;
    let rootfs = work.join("root");
    assemble(&layout.root, &image, &rootfs)?;
    eprintln!("==> image root (COPY lines + /dev nodes):");
    for file in files_under(&rootfs)? {
        eprintln!("    /{}", file.display());
    }
    let client = build_client(&layout.root)?;

    let network = Network::create(SERVICE)?;
    let host_addresses = output_of(Command::new("ip").args(["-o", "addr", "show"]), "ip addr")?;
    ensure!(
        !host_addresses.contains(netns::SERVER_ADDR),
        "the test network's addresses leaked into the host namespace"
    );
    let mut server = Network::exec(&network.server, "chroot");
    server
        .arg(&rootfs)
        .args(&image.entrypoint)
        .args(&image.cmd)
        .env_clear()
        .env("PATH", PATH)
        .envs(image.env.iter().map(|(k, v)| (k, v)))
        // What a compose file's `environment:` adds for a mock reached by its service name.
        .env("PARDOT_MOCK_PUBLIC_URL", PUBLIC_URL)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut server = Running(server.spawn().context("starting the image's entrypoint")?);
    wait_healthy(&network, &rootfs, &image, &mut server.0)?;
    eprintln!(
        "==> healthy; a JWT login and a v5 read from {} via {PUBLIC_URL}",
        network.client
    );
    let store = work.join("store");
    std::fs::create_dir_all(&store)?;
    let body = output_of(
        Network::exec(&network.client, &client.display().to_string())
            .args([
                "request",
                "GET",
                "/api/v5/objects/prospects",
                "-q",
                "fields=id,email",
            ])
            .env_clear()
            .env("PATH", PATH)
            .env("PARDOT_AUTH_FLOW", "jwt")
            .env("SF_LOGIN_URL", PUBLIC_URL)
            .env("SF_CLIENT_ID", pardot_mock::fixtures::JWT_CONSUMER_KEY)
            .env("SF_USERNAME", pardot_mock::fixtures::INTEGRATION_USERNAME)
            .env("SF_PRIVATE_KEY_FILE", super::test_key(layout))
            .env("PARDOT_URL", PUBLIC_URL)
            .env(
                "PARDOT_BUSINESS_UNIT_ID",
                pardot_mock::fixtures::BUSINESS_UNIT_ID,
            )
            .env("PARDOT_AUTH_ALLOW_INSECURE_HTTP", "1")
            .env("PARDOT_AUTH_STORE_DIR", &store),
        "pardot-auth request in the client namespace",
    )?;
    let body: serde_json::Value =
        serde_json::from_str(&body).with_context(|| format!("the v5 read printed {body:?}"))?;
    let ids: Vec<i64> = body["values"]
        .as_array()
        .map(|values| values.iter().filter_map(|p| p["id"].as_i64()).collect())
        .unwrap_or_default();
    ensure!(
        ids == [1001, 1002, 1003],
        "the v5 read through {PUBLIC_URL} answered {body}"
    );
    eprintln!("==> prospects {ids:?} read through {PUBLIC_URL} from the other namespace");
    drop(server);
    drop(network);
    Ok(())
}

/// The image's root: each `COPY` (sources from the build context, the workspace root) and the
/// runtime's `/dev` nodes.
fn assemble(context: &Path, image: &Image, rootfs: &Path) -> Result<()> {
    for (sources, dest) in &image.copies {
        let target = rootfs.join(dest.trim_start_matches('/'));
        let into_dir = dest.ends_with('/') || sources.len() > 1;
        for source in sources {
            let from = context.join(source);
            ensure!(
                from.exists(),
                "COPY {source}: no such file in the build context"
            );
            if from.is_dir() {
                copy_tree(&from, &target)?;
            } else {
                let to = if into_dir {
                    std::fs::create_dir_all(&target)?;
                    target.join(from.file_name().context("COPY of a path without a name")?)
                } else {
                    std::fs::create_dir_all(target.parent().unwrap_or(rootfs))?;
                    target.clone()
                };
                std::fs::copy(&from, &to).with_context(|| format!("COPY {source}"))?;
            }
        }
    }
    let dev = rootfs.join("dev");
    std::fs::create_dir_all(&dev)?;
    for (name, major, minor) in DEVICES {
        run_tool(
            Command::new("mknod")
                .args(["-m", "666"])
                .arg(dev.join(name))
                .args(["c", &major.to_string(), &minor.to_string()]),
            &format!("mknod /dev/{name}"),
        )?;
    }
    Ok(())
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(dir)?.to_path_buf());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Polls the image's `HEALTHCHECK` in the server's namespace and root until it passes.
fn wait_healthy(network: &Network, rootfs: &Path, image: &Image, server: &mut Child) -> Result<()> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Some(status) = server.try_wait()? {
            bail!("the image's entrypoint exited ({status}) before it was healthy");
        }
        let healthy = Network::exec(&network.server, "chroot")
            .arg(rootfs)
            .args(&image.healthcheck)
            .env_clear()
            .env("PATH", PATH)
            .envs(image.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?
            .success();
        if healthy {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the image's HEALTHCHECK did not pass within {} s",
                READY_WITHIN.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `pardot-auth` CLI (debug build), the client in the other namespace.
fn build_client(root: &Path) -> Result<PathBuf> {
    let status = crate::run_cargo(
        root,
        &[
            "build",
            "--quiet",
            "--package",
            "pardot-auth",
            "--features",
            "cli",
            "--bin",
            "pardot-auth",
        ],
    )?;
    ensure!(status.success(), "building pardot-auth failed ({status})");
    Ok(crate::target_dir(root).join("debug/pardot-auth"))
}

/// A child killed and reaped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        crate::announced::stop(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::{Image, parse};

    #[test]
    fn the_dockerfile_instructions_are_read() -> anyhow::Result<()> {
        let image = parse(
            "# comment\nFROM scratch\nCOPY a/b \\\n  c /x/\nCOPY --chown=1 d /d\n\
             ENV A=1 B=\"two\"\nEXPOSE 8717\n\
             HEALTHCHECK --interval=5s CMD [\"/bin\", \"health\"]\nENTRYPOINT [\"/bin\"]\nCMD [\"serve\"]\n",
        )?;
        assert_eq!(
            image,
            Image {
                from: "scratch".into(),
                copies: vec![
                    (vec!["a/b".into(), "c".into()], "/x/".into()),
                    (vec!["d".into()], "/d".into())
                ],
                env: vec![("A".into(), "1".into()), ("B".into(), "two".into())],
                expose: vec!["8717".into()],
                healthcheck: vec!["/bin".into(), "health".into()],
                entrypoint: vec!["/bin".into()],
                cmd: vec!["serve".into()],
            }
        );
        Ok(())
    }

    #[test]
    fn a_shell_form_entrypoint_is_refused() {
        assert!(parse("FROM scratch\nENTRYPOINT /bin serve\n").is_err());
    }

    #[test]
    fn the_repository_dockerfile_parses() -> anyhow::Result<()> {
        let root = crate::project_root();
        let image = parse(&std::fs::read_to_string(root.join("Dockerfile"))?)?;
        assert_eq!(image.from, "scratch");
        assert_eq!(image.healthcheck, ["/pardot-mock", "health"]);
        Ok(())
    }
}
