//! `pardot-mock serve` as a library: its flags ([`ServeArgs`]) and its loop ([`serve`]), so
//! another binary (such as `pardot-auth mock serve`) offers exactly the same command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{MockConfig, ServerConfig};
use crate::{DEFAULT_ADDR, PardotMock};

/// The flags of `pardot-mock serve`; flatten them into another clap command to offer the
/// same command there.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The TOML configuration (paths inside are relative to its directory).
    /// Default: the built-in fixtures/mock.toml.
    #[arg(long, short, value_name = "FILE", env = "PARDOT_MOCK_CONFIG")]
    pub config: Option<PathBuf>,
    /// The address to listen on; port 0 picks a free port (the printed URL has the real one).
    #[arg(long, short, value_name = "ADDR", default_value = DEFAULT_ADDR, env = "PARDOT_MOCK_ADDR")]
    pub addr: SocketAddr,
    /// The base URL to advertise (`scheme://host[:port]`) in `instance_url`, identity URLs,
    /// discovery documents and next-page links, when clients reach the mock by another name
    /// than the one they send (a compose service, a CI service container). Overrides
    /// `public_url` in the configuration.
    #[arg(long, value_name = "URL", env = "PARDOT_MOCK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Milliseconds a client has to send a request's headers before its connection is
    /// closed. Default: the configuration's `[server] header_read_timeout_ms` (10000).
    #[arg(long, value_name = "MS", env = "PARDOT_MOCK_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// Milliseconds a client has to send a request's body before it is answered 408.
    /// Default: the configuration's `[server] body_read_timeout_ms` (10000).
    #[arg(long, value_name = "MS", env = "PARDOT_MOCK_BODY_READ_TIMEOUT_MS")]
    pub body_read_timeout_ms: Option<u64>,
    /// The most connections served at once. Default: the configuration's
    /// `[server] max_connections` (1024).
    #[arg(long, value_name = "N", env = "PARDOT_MOCK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
}

impl ServeArgs {
    /// Sets the `[server]` values given on the command line over those of the configuration.
    fn override_server(&self, server: &mut ServerConfig) {
        if let Some(ms) = self.header_read_timeout_ms {
            server.header_read_timeout_ms = ms;
        }
        if let Some(ms) = self.body_read_timeout_ms {
            server.body_read_timeout_ms = ms;
        }
        if let Some(n) = self.max_connections {
            server.max_connections = n;
        }
    }
}

/// Serves `args` until Ctrl-C or SIGTERM: prints `pardot-mock listening on URL` on stdout,
/// then shuts down gracefully. Exit code 2 when the configuration cannot be loaded or the
/// address cannot be bound (the reason goes to stderr).
pub async fn serve(args: ServeArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => MockConfig::from_file(path),
        None => Ok(MockConfig::defaults()),
    };
    let started = match config {
        Ok(mut config) => {
            args.override_server(&mut config.server);
            let mut builder = PardotMock::builder().config(config).addr(args.addr);
            if let Some(url) = &args.public_url {
                builder = builder.public_url(url.clone());
            }
            builder.start().await
        }
        Err(e) => Err(e.into()),
    };
    let mock = match started {
        Ok(m) => m,
        Err(e) => {
            eprintln!("pardot-mock: {e}");
            return ExitCode::from(2);
        }
    };
    println!("pardot-mock listening on {}", mock.url());
    if mock.state().public_url().is_some() {
        eprintln!("pardot-mock: advertising {}", mock.advertised_url());
    }
    shutdown_signal().await;
    eprintln!("pardot-mock: shutting down");
    mock.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flags_override_only_the_server_values_they_name() {
        let cli = Cli::parse_from(["serve", "--header-read-timeout-ms", "250"]);
        let mut server = ServerConfig {
            header_read_timeout_ms: 1,
            body_read_timeout_ms: 2,
            max_connections: 3,
        };
        cli.serve.override_server(&mut server);
        assert_eq!(
            server,
            ServerConfig {
                header_read_timeout_ms: 250,
                body_read_timeout_ms: 2,
                max_connections: 3,
            }
        );
        let cli = Cli::parse_from([
            "serve",
            "--body-read-timeout-ms",
            "7",
            "--max-connections",
            "9",
        ]);
        cli.serve.override_server(&mut server);
        assert_eq!(
            (server.body_read_timeout_ms, server.max_connections),
            (7, 9)
        );
    }
}
