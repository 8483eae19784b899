//! `pardot-mock serve` as a library: its flags ([`ServeArgs`]) and its loop ([`serve`]), so
//! another binary (such as `pardot-auth mock serve`) offers exactly the same command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

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
}

/// Serves `args` until Ctrl-C or SIGTERM: prints `pardot-mock listening on URL` on stdout,
/// then shuts down gracefully. Exit code 2 when the configuration cannot be loaded or the
/// address cannot be bound (the reason goes to stderr).
pub async fn serve(args: ServeArgs) -> ExitCode {
    let mut builder = PardotMock::builder().addr(args.addr);
    if let Some(path) = args.config {
        builder = builder.config_file(path);
    }
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    let mock = match builder.start().await {
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
