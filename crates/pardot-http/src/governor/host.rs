//! The `host` backend: permits shared by the processes of one machine, as OS file locks.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::store::StoreError;

/// How often a waiting request looks for a free permit file again. OS file locks give no
/// wake-up for "any of N"; a request takes far longer than this.
const RETRY_EVERY: Duration = Duration::from_millis(5);

/// `N` lock files `DIR/governor-BU-I.lock`; a permit is an exclusive lock on one of them. The
/// OS drops the lock when its holder dies, so a killed process never keeps a permit. The daily
/// budget's count is `DIR/governor-BU.budget` (`DAY USED`), read and rewritten under an
/// exclusive lock on that file.
pub(super) struct HostPermits {
    files: Vec<PathBuf>,
    budget_file: PathBuf,
    /// Where the next search starts, so processes do not all queue on file 0.
    next: AtomicUsize,
}

/// A held permit: the locked file, unlocked on drop.
pub(super) struct HostPermit(File);

impl Drop for HostPermit {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.0);
    }
}

/// Opens (creating) a file to lock, keeping what it holds.
fn open_for_lock(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl HostPermits {
    pub(super) fn new(dir: &Path, business_unit: &str, permits: usize) -> Result<Self, StoreError> {
        crate::store::check_key(business_unit)?;
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let files = (0..permits.max(1))
            .map(|i| dir.join(format!("governor-{business_unit}-{i}.lock")))
            .collect();
        Ok(Self {
            files,
            budget_file: dir.join(format!("governor-{business_unit}.budget")),
            next: AtomicUsize::new(std::process::id() as usize),
        })
    }

    /// Counts one request against `budget` for `day`, for every process of the machine:
    /// `Ok(used)` with the count after it, or `Err(used)` when the budget was used up already.
    /// Waits at most `wait` for the count's lock (held for a read and a write by one process).
    pub(super) async fn charge(
        &self,
        day: u64,
        budget: u64,
        wait: Duration,
    ) -> Result<Result<u64, u64>, StoreError> {
        let path = &self.budget_file;
        let mut file = open_for_lock(path)?;
        let deadline = tokio::time::Instant::now() + wait;
        while fs4::FileExt::try_lock(&file).is_err() {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::LockTimeout {
                    key: path.display().to_string(),
                    waited: wait,
                });
            }
            tokio::time::sleep(RETRY_EVERY.min(deadline - now)).await;
        }
        let charged = count_one(&mut file, day, budget).map_err(|e| io(path, e));
        let _ = fs4::FileExt::unlock(&file);
        charged
    }
}

/// Reads `DAY USED` from the locked `file` (a count of another day, or none, is 0), and writes
/// the count after this request back unless the budget is used up.
fn count_one(file: &mut File, day: u64, budget: u64) -> std::io::Result<Result<u64, u64>> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    let used = match text.split_whitespace().collect::<Vec<_>>()[..] {
        [stored_day, used] if stored_day.parse() == Ok(day) => used.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the budget count is not a number",
            )
        })?,
        _ => 0,
    };
    if used >= budget {
        return Ok(Err(used));
    }
    let after = used + 1;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    write!(file, "{day} {after}")?;
    file.flush()?;
    Ok(Ok(after))
}

impl HostPermits {
    /// One free permit, if any, without waiting.
    fn try_take(&self) -> Result<Option<HostPermit>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.files.len() {
            let path = &self.files[(start + i) % self.files.len()];
            let file = open_for_lock(path)?;
            if fs4::FileExt::try_lock(&file).is_ok() {
                return Ok(Some(HostPermit(file)));
            }
        }
        Ok(None)
    }

    /// A permit, waiting at most `wait`; `None` when none came free in time. `on_wait` runs
    /// once if it had to wait.
    pub(super) async fn take(
        &self,
        wait: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<Option<HostPermit>, StoreError> {
        if let Some(permit) = self.try_take()? {
            return Ok(Some(permit));
        }
        on_wait();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(RETRY_EVERY.min(deadline - now)).await;
            if let Some(permit) = self.try_take()? {
                return Ok(Some(permit));
            }
        }
    }
}
