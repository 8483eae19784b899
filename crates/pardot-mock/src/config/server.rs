//! The `[server]` table: how long the mock waits for a client and how many it serves at once,
//! so a slow or stuck client (a slowloris) cannot hold the mock's sockets or tasks.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default time a client has to send a request's headers, in milliseconds: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// The default time a client has to send a request's body once its headers arrived, in
/// milliseconds: 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT_MS: u64 = 10_000;
/// The default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Limits on the clients of one mock (`[server]` in TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The time a client has to send a request's headers, in milliseconds; then the
    /// connection is closed without an answer. It also bounds how long a kept-alive
    /// connection may sit idle before its next request. Default 10,000; at least 1.
    pub header_read_timeout_ms: u64,
    /// The time a client has to send a whole request body once its headers arrived, in
    /// milliseconds; then the request is answered 408 and the connection closed. Default
    /// 10,000; at least 1.
    pub body_read_timeout_ms: u64,
    /// The most connections served at once; further clients wait in the listen backlog
    /// until one closes. Default 1,024; at least 1.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            body_read_timeout_ms: DEFAULT_BODY_READ_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServerConfig {
    /// [`ServerConfig::header_read_timeout_ms`] as a duration (at least 1 ms).
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms.max(1))
    }

    /// [`ServerConfig::body_read_timeout_ms`] as a duration (at least 1 ms).
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms.max(1))
    }

    /// [`ServerConfig::max_connections`], at least 1.
    pub fn connection_limit(&self) -> usize {
        self.max_connections.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockConfig;

    #[test]
    fn the_server_table_overrides_only_what_it_names() {
        let config =
            MockConfig::from_toml("[server]\nheader_read_timeout_ms = 250\n").expect("parses");
        assert_eq!(
            config.server.header_read_timeout(),
            Duration::from_millis(250)
        );
        assert_eq!(
            config.server.body_read_timeout_ms,
            DEFAULT_BODY_READ_TIMEOUT_MS
        );
        assert_eq!(config.server.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert!(MockConfig::from_toml("[server]\nheader_timeout = 1\n").is_err());
    }

    #[test]
    fn zero_limits_mean_the_smallest_working_ones() {
        let zero = ServerConfig {
            header_read_timeout_ms: 0,
            body_read_timeout_ms: 0,
            max_connections: 0,
        };
        assert_eq!(zero.header_read_timeout(), Duration::from_millis(1));
        assert_eq!(zero.body_read_timeout(), Duration::from_millis(1));
        assert_eq!(zero.connection_limit(), 1);
    }
}
