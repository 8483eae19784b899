//! What every metric of a run shares: the plan (how long things run), the pre-signed JWT
//! pool, the baselines' captured bodies. Below `run.rs`, which builds it and calls the metric
//! groups, and below every metric, which reads it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::Options;

/// Connections of the load generator in the throughput and memory rows.
pub const CONCURRENCY: usize = 16;
/// Bytes in a mebibyte.
pub const MB: f64 = 1024.0 * 1024.0;

/// How long things run (full or `--quick`).
pub struct Plan {
    /// Rounds of the throughput rows.
    pub rounds: usize,
    /// The timed window of one throughput round.
    pub round_time: Duration,
    /// Requests before each timed window.
    pub warmup: u64,
    /// Pre-signed JWT assertions for the timed windows.
    pub jwt_pool: usize,
    /// How long the memory row loads the servers.
    pub memory_time: Duration,
    /// RSS samples over `memory_time`.
    pub memory_samples: u32,
    /// Starts of each side in the startup row.
    pub startup_iterations: usize,
    /// Rounds of the client rows.
    pub overhead_rounds: usize,
    /// Requests per round of the client rows.
    pub overhead_requests: usize,
    /// Waves of expired-token callers.
    pub callers_reps: usize,
    /// Timed runs of each process in the CLI row.
    pub process_runs: usize,
}

impl Plan {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 1,
                round_time: Duration::from_millis(500),
                warmup: 100,
                jwt_pool: 1_500,
                memory_time: Duration::from_secs(3),
                memory_samples: 3,
                startup_iterations: 3,
                overhead_rounds: 2,
                overhead_requests: 200,
                callers_reps: 1,
                process_runs: 1,
            }
        } else {
            Self {
                rounds: 5,
                round_time: Duration::from_secs(2),
                warmup: 400,
                jwt_pool: 8_000,
                memory_time: Duration::from_secs(30),
                memory_samples: 6,
                startup_iterations: 150,
                overhead_rounds: 30,
                overhead_requests: 200,
                callers_reps: 3,
                process_runs: 5,
            }
        }
    }
}

/// What the metrics share in one run.
pub struct Ctx {
    /// The command line.
    pub opts: Options,
    /// How long things run.
    pub plan: Plan,
    /// The baselines' static bodies (`servers::Bodies`).
    pub bodies_dir: PathBuf,
    /// A token of the right shape for the baselines' requests (they do not check it).
    pub sample_token: String,
    /// Pre-signed JWT grant bodies for warm-ups.
    pub warm_jwt: Arc<Vec<Bytes>>,
    /// Pre-signed JWT grant bodies for the timed windows (each used once).
    pub timed_jwt: Arc<Vec<Bytes>>,
}
