//! Two network namespaces joined by a veth pair whose addresses exist only inside them, and a
//! service name for the server's address in the client namespace's `/etc/netns/NAME/hosts`
//! (what `ip netns exec` mounts over `/etc/hosts`): a compose network in miniature. Dropping
//! it removes the namespaces (and with them the veth pair) and the hosts file, also after a
//! failure half-way through.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::dist::run_tool;

/// The server's address, inside the server namespace only.
pub(crate) const SERVER_ADDR: &str = "10.231.17.1";
const CLIENT_ADDR: &str = "10.231.17.2";
const PREFIX: &str = "/30";

/// The namespaces; removed on drop.
pub(crate) struct Network {
    /// The server's namespace.
    pub server: String,
    /// The client's namespace (where `service` resolves to [`SERVER_ADDR`]).
    pub client: String,
    hosts_dir: PathBuf,
}

impl Network {
    /// Creates the namespaces, named after this process so parallel runs do not meet.
    pub(crate) fn create(service: &str) -> Result<Self> {
        let tag = std::process::id();
        let network = Self {
            server: format!("pmock-srv-{tag}"),
            client: format!("pmock-cli-{tag}"),
            hosts_dir: PathBuf::from(format!("/etc/netns/pmock-cli-{tag}")),
        };
        // Interface names are at most 15 bytes.
        let (server_if, client_if) = (format!("pms{tag}"), format!("pmc{tag}"));
        for ns in [&network.server, &network.client] {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        // Both ends are born in their namespaces: nothing appears in the host's.
        ip(&[
            "link",
            "add",
            &server_if,
            "netns",
            &network.server,
            "type",
            "veth",
            "peer",
            "name",
            &client_if,
            "netns",
            &network.client,
        ])?;
        for (ns, interface, addr) in [
            (&network.server, &server_if, SERVER_ADDR),
            (&network.client, &client_if, CLIENT_ADDR),
        ] {
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}{PREFIX}"),
                "dev",
                interface,
            ])?;
            ip(&["-n", ns, "link", "set", interface, "up"])?;
        }
        std::fs::create_dir_all(&network.hosts_dir)?;
        std::fs::write(
            network.hosts_dir.join("hosts"),
            format!("127.0.0.1 localhost\n{SERVER_ADDR} {service}\n"),
        )?;
        Ok(network)
    }

    /// `command` run in namespace `ns` (`ip netns exec NS …`).
    pub(crate) fn exec(ns: &str, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns, program]);
        command
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.hosts_dir);
    }
}

fn ip(args: &[&str]) -> Result<()> {
    run_tool(
        Command::new("ip").args(args),
        &format!("ip {}", args.join(" ")),
    )
}

/// Why namespaces cannot be made here, if they cannot.
pub(crate) fn missing_reason() -> Option<String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Some("network namespaces, chroot and mknod need root".to_owned());
    }
    ["ip", "chroot", "mknod", "unshare"]
        .into_iter()
        .find(|tool| {
            crate::dist::find_tool(tool, &[]).is_none()
                && crate::dist::find_tool(tool, &[PathBuf::from(format!("/usr/sbin/{tool}"))])
                    .is_none()
        })
        .map(|tool| format!("`{tool}` is not installed (iproute2, coreutils, util-linux)"))
}
