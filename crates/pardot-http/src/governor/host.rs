//! The `host` backend: permits shared by the processes of one machine, as OS file locks.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::store::StoreError;

/// How often a waiting request looks for a free permit file again. OS file locks give no
/// wake-up for "any of N"; a request takes far longer than this.
const RETRY_EVERY: Duration = Duration::from_millis(5);

/// `N` lock files `DIR/governor-BU-I.lock`; a permit is an exclusive lock on one of them. The
/// OS drops the lock when its holder dies, so a killed process never keeps a permit.
pub(super) struct HostPermits {
    files: Vec<PathBuf>,
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
            next: AtomicUsize::new(std::process::id() as usize),
        })
    }

    /// One free permit, if any, without waiting.
    fn try_take(&self) -> Result<Option<HostPermit>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.files.len() {
            let path = &self.files[(start + i) % self.files.len()];
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| io(path, e))?;
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
