//! The exports a mock has made: each one's request, its status on the mock's clock, its
//! files once complete, and its JSON representation.
//!
//! Exports of a business unit run one after another, oldest first: an export waits until
//! the unit's previous export completed, then spends one step `Waiting` and one step
//! `Processing` (`export_step_secs`). Its data expires seven days after it completed; an
//! export still unfinished seven days after it was created fails.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;

use super::columns::Columns;
use super::procedure::{Procedure, Selection};
use crate::pardot::api::Unit;
use crate::pardot::time::iso_datetime;
use crate::state::MockState;
use crate::support::write_json_string;

/// How long an export's data is kept, and how long an export may take.
pub(super) const EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Rows read from a store at a time, planning files or writing one.
pub(super) const PAGE: usize = 1000;

/// The UTF-8 byte order mark written first in each file of an export that asks for it.
pub(super) const BOM: &str = "\u{feff}";

/// An export's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Waiting,
    Processing,
    Complete,
    Failed,
}

impl Status {
    /// The wire name.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting",
            Self::Processing => "Processing",
            Self::Complete => "Complete",
            Self::Failed => "Failed",
        }
    }

    /// The status named `name`.
    pub(super) fn parse(name: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Processing,
            Self::Complete,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One result file: the records with ids above `after` up to `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FilePart {
    /// The id the file's records come after.
    pub after: u64,
    /// The id of its last record.
    pub last: u64,
}

/// What an export asked for.
#[derive(Debug)]
pub(super) struct ExportRequest {
    pub procedure: Procedure,
    pub columns: Columns,
    pub include_bom: bool,
    pub max_file_size: u64,
}

/// One export.
#[derive(Debug)]
pub(super) struct Export {
    pub id: u64,
    /// The business unit (its index in the Pardot state).
    pub unit: usize,
    pub request: ExportRequest,
    pub created_at: SystemTime,
    processing_at: SystemTime,
    complete_at: SystemTime,
    /// The files, cut when the export is first seen complete.
    files: OnceLock<Vec<FilePart>>,
}

impl Export {
    /// The status at `now`.
    pub(super) fn status(&self, now: SystemTime) -> Status {
        if self.complete_at > self.created_at + EXPIRY && now >= self.created_at + EXPIRY {
            Status::Failed
        } else if now >= self.complete_at {
            Status::Complete
        } else if now >= self.processing_at {
            Status::Processing
        } else {
            Status::Waiting
        }
    }

    /// Whether its data is gone at `now`.
    pub(super) fn is_expired(&self, now: SystemTime) -> bool {
        match self.status(now) {
            Status::Complete => now >= self.complete_at + EXPIRY,
            Status::Failed => true,
            Status::Waiting | Status::Processing => false,
        }
    }

    /// When its status last changed, as of `now`.
    fn updated_at(&self, now: SystemTime) -> SystemTime {
        match self.status(now) {
            Status::Waiting => self.created_at,
            Status::Processing => self.processing_at,
            Status::Complete if self.is_expired(now) => self.complete_at + EXPIRY,
            Status::Complete => self.complete_at,
            Status::Failed => self.created_at + EXPIRY,
        }
    }

    /// The selection it reads.
    pub(super) fn selection(&self) -> &Selection {
        &self.request.procedure.selection
    }

    /// Its files, cut now from `unit`'s records if they were not yet (so the files hold
    /// the records as they were when the export was first seen complete).
    pub(super) fn files(&self, unit: &Unit) -> &[FilePart] {
        self.files.get_or_init(|| self.cut_files(unit))
    }

    /// Its files if they were cut.
    pub(super) fn cut(&self) -> Option<&[FilePart]> {
        self.files.get().map(Vec::as_slice)
    }

    /// Reads every selected record once and cuts the rows into files of at most
    /// `max_file_size` bytes (byte order mark and header included; a row larger than that
    /// gets a file of its own).
    fn cut_files(&self, unit: &Unit) -> Vec<FilePart> {
        let request = &self.request;
        let overhead = request.columns.header().len() as u64
            + if request.include_bom {
                BOM.len() as u64
            } else {
                0
            };
        let mut files = Vec::new();
        let mut current: Option<(FilePart, u64)> = None;
        let mut after = 0;
        loop {
            let scanned =
                request
                    .columns
                    .scan(unit, self.selection(), after, None, PAGE, &mut |id, row| {
                        let row = row.len() as u64;
                        current = match current.take() {
                            Some((part, size)) if size + row <= request.max_file_size => {
                                Some((FilePart { last: id, ..part }, size + row))
                            }
                            Some((part, _)) => {
                                files.push(part);
                                Some((
                                    FilePart {
                                        after: part.last,
                                        last: id,
                                    },
                                    overhead + row,
                                ))
                            }
                            None => Some((FilePart { after: 0, last: id }, overhead + row)),
                        };
                    });
            match scanned.last {
                Some(last) if !scanned.exhausted => after = last,
                _ => break,
            }
        }
        files.extend(current.map(|(part, _)| part));
        files
    }

    /// Writes the export's JSON: the members named in `only` (every member when `None`),
    /// `resultRefs` (download URLs under `base`) only when complete, unexpired and not empty.
    pub(super) fn write_json(
        &self,
        now: SystemTime,
        base: &str,
        only: Option<&[String]>,
        out: &mut String,
    ) {
        let status = self.status(now);
        let expired = self.is_expired(now);
        let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|n| n == name));
        let mut members: Vec<(&str, String)> = Vec::with_capacity(REPRESENTATION.len());
        let request = &self.request;
        for name in REPRESENTATION {
            if !wanted(name) {
                continue;
            }
            let value = match *name {
                "id" => self.id.to_string(),
                "status" => json_text(status.as_str()),
                "isExpired" => expired.to_string(),
                "fields" => {
                    let names: Vec<String> = request
                        .columns
                        .names()
                        .iter()
                        .map(|n| json_text(n))
                        .collect();
                    format!("[{}]", names.join(","))
                }
                "procedure" => {
                    let procedure = &request.procedure;
                    format!(
                        "{{\"name\":{},\"arguments\":{}}}",
                        json_text(&procedure.name),
                        Json::Object(procedure.arguments.clone())
                    )
                }
                "includeByteOrderMark" => request.include_bom.to_string(),
                "maxFileSizeBytes" => request.max_file_size.to_string(),
                "createdAt" => json_text(&iso_datetime(self.created_at)),
                "updatedAt" => json_text(&iso_datetime(self.updated_at(now))),
                _ => {
                    // `resultRefs`: the files, cut before a complete export is written.
                    let files = self.cut().unwrap_or_default();
                    if status != Status::Complete || expired || files.is_empty() {
                        continue;
                    }
                    let urls: Vec<String> = (1..=files.len())
                        .map(|n| {
                            json_text(&format!("{base}/api/v5/exports/{}/results/{n}", self.id))
                        })
                        .collect();
                    format!("[{}]", urls.join(","))
                }
            };
            members.push((name, value));
        }
        out.push('{');
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(name, out);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
    }
}

/// `text` as a JSON string.
fn json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_json_string(text, &mut out);
    out
}

/// The members of an export's JSON, in order.
pub(super) const REPRESENTATION: &[&str] = &[
    "id",
    "status",
    "isExpired",
    "fields",
    "procedure",
    "includeByteOrderMark",
    "maxFileSizeBytes",
    "resultRefs",
    "createdAt",
    "updatedAt",
];

/// Every export of a mock.
#[derive(Debug, Default)]
pub(super) struct Exports {
    next_id: AtomicU64,
    all: Mutex<Vec<Arc<Export>>>,
}

/// The slot the exports are kept under in [`MockState`]'s extensions.
const EXTENSION: &str = "pardot.exports";

impl Exports {
    /// The mock's exports (made on first use).
    pub(super) fn of(state: &MockState) -> Arc<Self> {
        let found =
            |slot: &Arc<dyn std::any::Any + Send + Sync>| Arc::clone(slot).downcast::<Self>().ok();
        if let Some(exports) = state.extension(EXTENSION).as_ref().and_then(found) {
            return exports;
        }
        let mut slot = state.inner.extensions.write(&EXTENSION);
        if let Some(exports) = slot.get(EXTENSION).and_then(found) {
            return exports;
        }
        let exports = Arc::new(Self::default());
        slot.insert(EXTENSION, Arc::clone(&exports) as _);
        exports
    }

    /// Forgets every export (the mock's reset).
    pub(super) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Export>>> {
        // Every change is one push or one clear: a poisoned lock still guards valid data.
        self.all.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a new export of `unit` made at `now`, whose steps last `step` each.
    pub(super) fn create(
        &self,
        unit: usize,
        request: ExportRequest,
        now: SystemTime,
        step: Duration,
    ) -> Arc<Export> {
        let mut all = self.lock();
        // Older exports of the unit are processed first.
        let turn = all
            .iter()
            .filter(|e| e.unit == unit)
            .map(|e| e.complete_at)
            .max()
            .map_or(now, |previous| previous.max(now));
        let export = Arc::new(Export {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            unit,
            request,
            created_at: now,
            processing_at: turn + step,
            complete_at: turn + step + step,
            files: OnceLock::new(),
        });
        all.push(Arc::clone(&export));
        export
    }

    /// The export `id` of `unit`.
    pub(super) fn get(&self, unit: usize, id: u64) -> Option<Arc<Export>> {
        self.lock()
            .iter()
            .find(|e| e.id == id && e.unit == unit)
            .cloned()
    }

    /// The exports of `unit` with ids above `after`, oldest first.
    pub(super) fn of_unit(&self, unit: usize, after: u64) -> Vec<Arc<Export>> {
        self.lock()
            .iter()
            .filter(|e| e.unit == unit && e.id > after)
            .cloned()
            .collect()
    }
}
