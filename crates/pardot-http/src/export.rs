//! The v5 Export API from the client's side: create an export, poll it with backoff on the
//! client's [`Clock`](pardot_auth_core::Clock) (bounded in polls and in time), download every
//! result file (each read bounded like every answer) and hand the rows on.
//!
//! ```no_run
//! # async fn run(client: pardot_http::PardotClient) -> Result<(), pardot_http::ExportError> {
//! use pardot_http::{ExportPolling, ExportRequest};
//!
//! let request = ExportRequest::new(
//!     "visitor_activity.filter_by_created_at",
//!     ["id", "prospectId", "type", "createdAt"],
//! )
//! .argument("createdAfter", "2024-05-01T00:00:00Z")
//! .argument("createdBefore", "2024-05-08T00:00:00Z");
//! let mut rows = 0;
//! let done = client
//!     .export(&request, &ExportPolling::default(), |_row| rows += 1)
//!     .await?;
//! println!("export {} : {} rows in {} files", done.id, done.rows, done.files);
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::PardotClient;
use crate::doubling::DoublingWaits;
use crate::error::PardotError;

/// The path of the Export API.
const EXPORTS: &str = "/api/v5/exports";

/// What to export: a procedure with its arguments, the fields, and the file options.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    procedure: String,
    arguments: Map<String, Value>,
    fields: Vec<String>,
    include_byte_order_mark: bool,
    max_file_size_bytes: u64,
}

impl ExportRequest {
    /// An export of `fields` selected by `procedure` (`visitor_activity.filter_by_created_at`,
    /// `prospect.filter_by_updated_at`, `list_membership.filter_by_created_at`, …). Files are
    /// at most 16 MiB (the client's default answer bound), so each is read whole within it.
    pub fn new<F: Into<String>>(
        procedure: impl Into<String>,
        fields: impl IntoIterator<Item = F>,
    ) -> Self {
        Self {
            procedure: procedure.into(),
            arguments: Map::new(),
            fields: fields.into_iter().map(Into::into).collect(),
            include_byte_order_mark: false,
            max_file_size_bytes: pardot_auth_core::DEFAULT_MAX_RESPONSE_BYTES as u64,
        }
    }

    /// Adds a procedure argument (`createdAfter`, `createdBefore`, `type`, `deleted`, …).
    pub fn argument(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.arguments.insert(name.into(), value.into());
        self
    }

    pardot_auth_core::builder_setters! {
        /// Asks for a byte order mark at the start of every file (the helper strips it).
        pub fn include_byte_order_mark(yes: bool) => include_byte_order_mark = yes;

        /// The largest result file, in bytes. Keep it within the client's
        /// `max_response_bytes`, or a download fails with [`PardotError::BodyTooLarge`].
        pub fn max_file_size_bytes(bytes: u64) => max_file_size_bytes = bytes;
    }

    fn body(&self) -> Value {
        serde_json::json!({
            "fields": self.fields,
            "procedure": {"name": self.procedure, "arguments": self.arguments},
            "includeByteOrderMark": self.include_byte_order_mark,
            "maxFileSizeBytes": self.max_file_size_bytes,
        })
    }
}

/// How an export is polled: waits that double from a first one up to a longest one, at most
/// `max_polls` reads, and no wait that would end more than `time_limit` after the export was
/// created.
///
/// The defaults follow the docs' advice to poll every 30 seconds to a couple of minutes:
/// 30 s doubling to 2 min, 500 polls, 12 hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPolling {
    waits: DoublingWaits,
    max_polls: u32,
    time_limit: Duration,
}

impl Default for ExportPolling {
    fn default() -> Self {
        Self {
            waits: DoublingWaits::new(Duration::from_secs(30), Duration::from_secs(120)),
            max_polls: 500,
            time_limit: Duration::from_secs(12 * 60 * 60),
        }
    }
}

impl ExportPolling {
    pardot_auth_core::builder_setters! {
        /// Waits from `first` doubling up to `max` (a `max` below `first` is raised to it).
        pub fn waits(first: Duration, max: Duration) => waits = DoublingWaits::new(first, max);

        /// The most status reads after the create.
        pub fn max_polls(polls: u32) => max_polls = polls;

        /// The longest time from the create to the last poll.
        pub fn time_limit(limit: Duration) => time_limit = limit;
    }
}

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportDone {
    /// The export's id.
    pub id: u64,
    /// The CSV header: the field names, in column order.
    pub header: Vec<String>,
    /// Rows handed on.
    pub rows: u64,
    /// Result files downloaded.
    pub files: usize,
    /// Status reads after the create.
    pub polls: u32,
}

/// Why an export did not deliver its rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A request (create, status read or download) failed; see the error for what to do.
    #[error("export request failed: {0}")]
    Request(#[from] PardotError),
    /// Pardot reports the export `Failed`: run it again (the docs' advice), then ask support.
    #[error("export {id} failed on the server; create it again")]
    Failed {
        /// The export.
        id: u64,
    },
    /// The export's data expired (seven days after it completed) before it was downloaded.
    #[error("export {id} expired before its files were downloaded; create it again")]
    Expired {
        /// The export.
        id: u64,
    },
    /// The export was still unfinished after the polling's `max_polls` reads.
    #[error("export {id} still unfinished after {polls} status reads; raise `max_polls`")]
    TooManyPolls {
        /// The export.
        id: u64,
        /// Status reads made.
        polls: u32,
    },
    /// The export was still unfinished when the next wait would pass the `time_limit`.
    #[error(
        "export {id} still unfinished {elapsed:?} after it was created (limit {limit:?}); \
         raise `time_limit`, or narrow the export"
    )]
    TimedOut {
        /// The export.
        id: u64,
        /// Time since the create, on the client's clock.
        elapsed: Duration,
        /// The configured limit.
        limit: Duration,
    },
    /// An answer was not what the Export API sends.
    #[error("unexpected Export API answer: {0}")]
    InvalidAnswer(String),
}

/// The members of an export's JSON the helper reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportStatus {
    id: u64,
    status: String,
    #[serde(default)]
    is_expired: bool,
    #[serde(default)]
    result_refs: Vec<String>,
}

impl PardotClient {
    /// Runs an export: creates it, polls its status with backoff on the client's clock
    /// (bounded by `polling`), downloads every result file in turn and hands each row to
    /// `row` (the cells in header order; the header is in the answer).
    pub async fn export(
        &self,
        request: &ExportRequest,
        polling: &ExportPolling,
        mut row: impl FnMut(&[String]),
    ) -> Result<ExportDone, ExportError> {
        let clock = self.policy().clock().clone();
        let created_at = clock.now();
        let mut export: ExportStatus = self
            .post(EXPORTS)
            .json(&request.body())
            .send()
            .await?
            .json()?;
        let id = export.id;
        let mut polls = 0;
        loop {
            match export.status.as_str() {
                "Failed" => return Err(ExportError::Failed { id }),
                _ if export.is_expired => return Err(ExportError::Expired { id }),
                "Complete" => break,
                "Waiting" | "Processing" => {}
                other => {
                    return Err(ExportError::InvalidAnswer(format!(
                        "export {id} has the unknown status `{other}`"
                    )));
                }
            }
            if polls >= polling.max_polls {
                return Err(ExportError::TooManyPolls { id, polls });
            }
            let elapsed = since(clock.now(), created_at);
            let wait = polling.waits.nth(polls);
            if elapsed + wait > polling.time_limit {
                return Err(ExportError::TimedOut {
                    id,
                    elapsed,
                    limit: polling.time_limit,
                });
            }
            clock.sleep(wait).await;
            polls += 1;
            export = self.get(&format!("{EXPORTS}/{id}")).send().await?.json()?;
        }
        let mut done = ExportDone {
            id,
            header: Vec::new(),
            rows: 0,
            files: 0,
            polls,
        };
        for url in &export.result_refs {
            let file = self.request_url(http::Method::GET, url).send().await?;
            let text = file.text().map_err(|_| {
                ExportError::InvalidAnswer(format!("result file {url} is not UTF-8"))
            })?;
            let mut records = CsvRecords::new(text);
            let header = records
                .next()
                .transpose()
                .map_err(ExportError::InvalidAnswer)?
                .unwrap_or_default();
            if done.files == 0 {
                done.header = header;
            } else if header != done.header {
                return Err(ExportError::InvalidAnswer(format!(
                    "result file {url} has another header than the first file"
                )));
            }
            for record in records {
                row(&record.map_err(ExportError::InvalidAnswer)?);
                done.rows += 1;
            }
            done.files += 1;
        }
        Ok(done)
    }
}

/// `later - earlier`, zero when the clock went back.
fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

/// The records of a CSV text (RFC 4180: quoted cells may hold commas, quotes doubled, and
/// line breaks; `\r\n` or `\n` line ends; a leading byte order mark is skipped).
struct CsvRecords<'a> {
    rest: &'a str,
}

impl<'a> CsvRecords<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
        }
    }
}

impl Iterator for CsvRecords<'_> {
    type Item = Result<Vec<String>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut chars = self.rest.char_indices().peekable();
        let mut quoted = false;
        let mut at_cell_start = true;
        while let Some((i, c)) = chars.next() {
            match (quoted, c) {
                (false, '"') if at_cell_start => quoted = true,
                (true, '"') => {
                    if chars.peek().is_some_and(|&(_, n)| n == '"') {
                        chars.next();
                        cell.push('"');
                    } else {
                        quoted = false;
                    }
                }
                (true, c) => cell.push(c),
                (false, ',') => {
                    cells.push(std::mem::take(&mut cell));
                    at_cell_start = true;
                    continue;
                }
                (false, '\r') if chars.peek().is_some_and(|&(_, n)| n == '\n') => {}
                (false, '\n') => {
                    cells.push(cell);
                    self.rest = &self.rest[i + 1..];
                    return Some(Ok(cells));
                }
                (false, c) => cell.push(c),
            }
            at_cell_start = false;
        }
        if quoted {
            self.rest = "";
            return Some(Err("a quoted CSV cell is not closed".to_owned()));
        }
        cells.push(cell);
        self.rest = "";
        Some(Ok(cells))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<Vec<String>> {
        CsvRecords::new(text).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn csv_records_follow_rfc_4180() {
        assert_eq!(
            records("\u{feff}id,name\r\n1,\"a, \"\"b\"\"\"\r\n2,\"two\r\nlines\"\r\n3,\r\n"),
            vec![
                vec!["id", "name"],
                vec!["1", "a, \"b\""],
                vec!["2", "two\r\nlines"],
                vec!["3", ""],
            ]
        );
        assert_eq!(records("a,b\nc,d"), vec![vec!["a", "b"], vec!["c", "d"]]);
        assert!(records("").is_empty());
        assert!(CsvRecords::new("\"open").next().unwrap().is_err());
    }

    #[test]
    fn the_request_body_names_every_member() {
        let body = ExportRequest::new("prospect.filter_by_updated_at", ["id", "email"])
            .argument("updatedAfter", "2024-01-01T00:00:00Z")
            .include_byte_order_mark(true)
            .max_file_size_bytes(4096)
            .body();
        assert_eq!(
            body,
            serde_json::json!({
                "fields": ["id", "email"],
                "procedure": {"name": "prospect.filter_by_updated_at", "arguments": {"updatedAfter": "2024-01-01T00:00:00Z"}},
                "includeByteOrderMark": true,
                "maxFileSizeBytes": 4096,
            })
        );
    }
}
