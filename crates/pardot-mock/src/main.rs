//! The `pardot-mock` binary: serves a mock configuration on a fixed address for tests written
//! in any language.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pardot_mock::serve::{ServeArgs, serve};

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
    Serve(ServeArgs),
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
        Command::Serve(args) => serve(args).await,
    }
}
