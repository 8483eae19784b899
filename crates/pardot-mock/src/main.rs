//! The `pardot-mock` binary: serves a mock configuration on a fixed address for tests written
//! in any language.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pardot_mock::health::{DEFAULT_HEALTH_URL, check};
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
    /// Asks a running mock whether it is ready (`GET URL/__mock/health`, plain HTTP, a short
    /// timeout): exit code 0 when it is, 1 with the reason otherwise. Needs no shell or curl,
    /// so a `FROM scratch` container can use it as its health check.
    Health {
        /// The mock's base URL.
        #[arg(value_name = "URL", default_value = DEFAULT_HEALTH_URL)]
        url: String,
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
        Command::Serve(args) => serve(args).await,
        Command::Health { url } => match check(&url) {
            Ok(version) => {
                println!("pardot-mock at {url} is healthy (version {version})");
                ExitCode::SUCCESS
            }
            Err(why) => {
                eprintln!("pardot-mock health: {why}");
                ExitCode::FAILURE
            }
        },
    }
}
