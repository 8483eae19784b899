//! The `pardot-mock` binary: serves a mock configuration on a fixed address for tests written
//! in any language.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pardot_mock::{DEFAULT_ADDR, PardotMock};

/// A fake Salesforce login server, Pardot API and Marketing Cloud Intelligence identity
/// provider, for tests. TEST ONLY: it accepts the public fixture credentials.
///
/// One base URL serves every host: production login at {base}, sandbox login at
/// {base}/sandbox, My Domain at {base}/my/NAME, Pardot at {base}/api/..., the Pardot demo host
/// at {base}/demo, and the MCI identity provider at {base}/{region}/... . Admin routes under
/// {base}/__mock/ script faults, move the clock and read the journal (see the crate README).
#[derive(Debug, Parser)]
#[command(name = "pardot-mock", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a configuration until Ctrl-C or SIGTERM; prints one line with the base URL.
    Serve {
        /// The TOML configuration (paths inside are relative to its directory).
        /// Default: the built-in fixtures/mock.toml.
        #[arg(long, short, value_name = "FILE", env = "PARDOT_MOCK_CONFIG")]
        config: Option<PathBuf>,
        /// The address to listen on; port 0 picks a free port (the printed URL has the real one).
        #[arg(long, short, value_name = "ADDR", default_value = DEFAULT_ADDR, env = "PARDOT_MOCK_ADDR")]
        addr: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARDOT_MOCK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, addr } => serve(config, addr).await,
    }
}

async fn serve(config: Option<PathBuf>, addr: SocketAddr) -> ExitCode {
    let mut builder = PardotMock::builder().addr(addr);
    if let Some(path) = config {
        builder = builder.config_file(path);
    }
    let mock = match builder.start().await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("pardot-mock: {e}");
            return ExitCode::from(2);
        }
    };
    println!("pardot-mock listening on {}", mock.url());
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
