//! [`FileStore`]: one JSON file per key, shared by every process on the machine.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::record::{self, Decoded};
use super::{EncryptionKey, StoreError, StoreLease, StoredToken, TokenStore, check_key};

/// The largest record file we read (a record is well under 8 KiB).
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// How often [`FileStore::changed`](TokenStore::changed) looks at the file: files give no
/// portable change notification, and a refresh takes far longer than this.
const CHANGE_POLL: Duration = Duration::from_millis(50);

/// Stores each key as `DIR/KEY.json` (permissions `0600`, written to a temp file and renamed
/// over the old one, so a reader never sees half a file), and locks `DIR/KEY.lock` with an OS
/// file lock (`flock` on Unix, `LockFileEx` on Windows) while a cache refreshes. The lock
/// file holds the key's fence, bumped by every lease.
///
/// Several processes pointing at one directory therefore share one token and one refresh:
/// the first to need a new token takes the lock and fetches; the others wait for the lock,
/// re-read the file and use the token it left.
///
/// Without an [encryption key](Self::with_encryption_key) the file holds secrets (access and
/// refresh tokens) in clear text, protected by its permissions only; put the directory where
/// only the service's user can read it.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    key: Option<EncryptionKey>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FileStore {
    /// A store in `dir`, created (mode `0700` on Unix) if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir).map_err(|e| io(&dir, e))?;
        Ok(Self { dir, key: None })
    }

    /// Seals every record written from now on with `key`; a record found in clear is
    /// rewritten sealed when read, and a sealed record that `key` does not open is an error
    /// (and is never overwritten).
    pub fn with_encryption_key(mut self, key: EncryptionKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding `key`'s record.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.dir.join(format!("{key}.json")))
    }

    fn lock_path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.dir.join(format!("{key}.lock")))
    }

    /// Writes `record` as the next revision, unless the record there does not open with our
    /// key. `fence`: the lease it is written under, checked against the lock file first.
    async fn write(
        &self,
        key: &str,
        record: &StoredToken,
        fence: Option<u64>,
    ) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let lock_path = self.lock_path(key)?;
        let (dir, name, cipher, record) = (
            self.dir.clone(),
            key.to_owned(),
            self.key.clone(),
            record.clone(),
        );
        let p = path.clone();
        blocking(&path, move || {
            if let Some(fence) = fence {
                let current = read_fence(&lock_path)?;
                if current != fence {
                    return Err(StoreError::StaleLease {
                        key: name,
                        fence,
                        current,
                    });
                }
            }
            let place = p.display().to_string();
            let revision = match read_raw(&p)? {
                None => 0,
                Some(raw) => match record::decode(&raw, cipher.as_ref(), &name, &place) {
                    Ok(Decoded { revision, .. }) => revision,
                    Err(e @ StoreError::Undecryptable { .. }) => return Err(e),
                    // A corrupt file is replaced, as before revisions existed.
                    Err(_) => record::revision_of(&raw, &place).unwrap_or(0),
                },
            };
            let bytes = record::encode(&record, revision + 1, cipher.as_ref(), &name)?;
            write_raw(&dir, &name, &p, &bytes)
        })
        .await
    }
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

async fn blocking<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io(path, std::io::Error::other(e.to_string())))?
}

/// The file's bytes (`None`: no file), refusing oversized ones.
fn read_raw(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io(path, e))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(StoreError::Corrupt {
            path: path.display().to_string(),
            reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
        });
    }
    Ok(Some(bytes))
}

/// Replaces `path` with `bytes` atomically: a private temp file, synced, renamed over it.
fn write_raw(dir: &Path, name: &str, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.json.{}.{n}.tmp", std::process::id()));
    let result = (|| {
        let mut file = private_options().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io(path, e));
    }
    Ok(())
}

/// The fence kept in a lock file (0 for a new or empty one).
fn read_fence(lock_path: &Path) -> Result<u64, StoreError> {
    match fs::read_to_string(lock_path) {
        Ok(text) => Ok(text.trim().parse().unwrap_or(0)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io(lock_path, e)),
    }
}

fn open_lock_file(lock_path: &Path) -> Result<File, StoreError> {
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path)
        .map_err(|e| io(lock_path, e))
}

/// Under the held lock: the next fence, written back to the lock file.
fn bump_fence(mut file: &File, lock_path: &Path) -> Result<u64, StoreError> {
    let mut text = String::new();
    (&mut file)
        .take(64)
        .read_to_string(&mut text)
        .map_err(|e| io(lock_path, e))?;
    let fence = text.trim().parse::<u64>().unwrap_or(0) + 1;
    file.set_len(0).map_err(|e| io(lock_path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io(lock_path, e))?;
    file.write_all(fence.to_string().as_bytes())
        .map_err(|e| io(lock_path, e))?;
    Ok(fence)
}

#[async_trait::async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        let path = self.path_of(key)?;
        let lock_path = self.lock_path(key)?;
        let (dir, name, cipher) = (self.dir.clone(), key.to_owned(), self.key.clone());
        let p = path.clone();
        blocking(&path, move || {
            let Some(raw) = read_raw(&p)? else {
                return Ok(None);
            };
            let decoded = record::decode(&raw, cipher.as_ref(), &name, &p.display().to_string())?;
            if let (true, Some(cipher)) = (decoded.was_clear, &cipher) {
                // Upgrade a clear record, but only under the key's lock and only if the file
                // is still the one read, so a concurrent writer's newer record is never
                // replaced. A busy lock leaves it for a later read (or the next save, which
                // seals anyway).
                let lock = open_lock_file(&lock_path)?;
                if fs4::FileExt::try_lock(&lock).is_ok() {
                    let lease = FileLease(lock);
                    if read_raw(&p)?.as_deref() == Some(&raw[..]) {
                        let bytes =
                            record::encode(&decoded.record, decoded.revision, Some(cipher), &name)?;
                        write_raw(&dir, &name, &p, &bytes)?;
                        tracing::info!(key = %name, "a token record found in clear was rewritten encrypted");
                    }
                    drop(lease);
                }
            }
            Ok(Some(decoded.record))
        })
        .await
    }

    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        self.write(key, record, None).await
    }

    async fn save_fenced(
        &self,
        lease: &StoreLease,
        record: &StoredToken,
    ) -> Result<(), StoreError> {
        self.write(lease.key(), record, Some(lease.fence())).await
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let p = path.clone();
        blocking(&path, move || match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&p, e)),
        })
        .await
    }

    async fn lock(&self, key: &str, wait: Duration) -> Result<StoreLease, StoreError> {
        let path = self.lock_path(key)?;
        let p = path.clone();
        let file = blocking(&path, move || open_lock_file(&p)).await?;
        let p = path.clone();
        // The blocking lock runs on a blocking thread; if we stop waiting, that thread still
        // gets the lock eventually and drops the file right away, which releases it.
        let locking = tokio::task::spawn_blocking(move || {
            fs4::FileExt::lock(&file).map_err(|e| io(&p, e))?;
            let lease = FileLease(file);
            let fence = bump_fence(&lease.0, &p)?;
            Ok::<_, StoreError>((lease, fence))
        });
        match tokio::time::timeout(wait, locking).await {
            Ok(Ok(Ok((lease, fence)))) => Ok(StoreLease::new(key, fence, lease)),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(join)) => Err(io(&path, std::io::Error::other(join.to_string()))),
            Err(_) => Err(StoreError::LockTimeout {
                key: key.to_owned(),
                waited: wait,
            }),
        }
    }

    async fn revision(&self, key: &str) -> Result<u64, StoreError> {
        let path = self.path_of(key)?;
        let p = path.clone();
        blocking(&path, move || match read_raw(&p)? {
            None => Ok(0),
            Some(raw) => record::revision_of(&raw, &p.display().to_string()),
        })
        .await
    }

    async fn changed(&self, key: &str, since: u64, timeout: Duration) -> Result<u64, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let revision = self.revision(key).await?;
            let now = tokio::time::Instant::now();
            if revision != since || now >= deadline {
                return Ok(revision);
            }
            tokio::time::sleep(CHANGE_POLL.min(deadline - now)).await;
        }
    }
}

/// Holds the locked file; unlocking is explicit (closing would release it too).
struct FileLease(File);

impl Drop for FileLease {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::refresh_only;
    use pardot_auth_core::{AccessToken, Expiry, Scopes, TokenKind};
    use secrecy::ExposeSecret;
    use std::time::UNIX_EPOCH;

    fn token() -> AccessToken {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        AccessToken::new(
            TokenKind::LegacyApiKey {
                user_key: "uk-secret".into(),
            },
            "tok-1".into(),
            now,
            Expiry::Known(now + Duration::from_secs(3600)),
        )
        .with_scopes(Scopes::parse("api pardot_api"))
        .with_identity_url("https://login.salesforce.com/id/00D/005")
    }

    /// The error of loading `key`, which must fail.
    async fn load_error(store: &FileStore, key: &str) -> StoreError {
        match store.load(key).await {
            Ok(record) => panic!("loaded {record:?}"),
            Err(e) => e,
        }
    }

    #[tokio::test]
    async fn round_trip_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("tokens")).unwrap();
        assert!(store.load("k").await.unwrap().is_none());
        let record = StoredToken::refresh_only("rt-0".into()).updated_with(&token());
        store.save("k", &record).await.unwrap();
        let back = store.load("k").await.unwrap().unwrap();
        let access = back.access.unwrap();
        assert!(access.is_same_as(&token()));
        assert_eq!(access.expiry(), token().expiry());
        assert!(matches!(access.kind(), TokenKind::LegacyApiKey { .. }));
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-0");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path_of("k").unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temp files are left behind.
        let names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["k.json".to_owned()]);
        assert_eq!(store.revision("k").await.unwrap(), 1);
        store.remove("k").await.unwrap();
        store.remove("k").await.unwrap();
        assert!(store.load("k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn corrupt_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        fs::write(store.path_of("k").unwrap(), "{not json").unwrap();
        let err = load_error(&store, "k").await;
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[tokio::test]
    async fn lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileStore::new(dir.path()).unwrap();
        let b = FileStore::new(dir.path()).unwrap();
        let lease = a.lock("k", Duration::from_secs(5)).await.unwrap();
        // flock locks belong to the open file, so a second open in this process conflicts too.
        let err = b.lock("k", Duration::from_millis(50)).await.unwrap_err();
        assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
        drop(lease);
        let _again = b.lock("k", Duration::from_secs(5)).await.unwrap();
    }

    #[tokio::test]
    async fn fenced_saves_and_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        crate::store::contract::fenced_saves_and_revisions(&store).await;
    }

    #[tokio::test]
    async fn changed_sees_a_save_by_another_handle() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileStore::new(dir.path()).unwrap();
        let b = FileStore::new(dir.path()).unwrap();
        let waiter = tokio::spawn(async move { a.changed("k", 0, Duration::from_secs(30)).await });
        b.save("k", &refresh_only("rt")).await.unwrap();
        assert_eq!(waiter.await.unwrap().unwrap(), 1);
    }

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn sealed_store(dir: &Path, key: &str) -> FileStore {
        FileStore::new(dir)
            .unwrap()
            .with_encryption_key(EncryptionKey::parse(key).unwrap())
    }

    #[tokio::test]
    async fn encrypted_round_trip_keeps_secrets_out_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = sealed_store(dir.path(), KEY);
        let record = StoredToken::refresh_only("rt-secret".into()).updated_with(&token());
        store.save("k", &record).await.unwrap();
        let text = fs::read_to_string(store.path_of("k").unwrap()).unwrap();
        assert!(
            !text.contains("rt-secret") && !text.contains("tok-1") && !text.contains("uk-secret"),
            "{text}"
        );
        let back = store.load("k").await.unwrap().unwrap();
        assert!(back.access.unwrap().is_same_as(&token()));
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-secret");
        // Another name cannot be made to hold this record: the name is authenticated.
        fs::copy(store.path_of("k").unwrap(), store.path_of("j").unwrap()).unwrap();
        let err = load_error(&store, "j").await;
        assert!(matches!(err, StoreError::Undecryptable { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_key_is_an_error_and_overwrites_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let right = sealed_store(dir.path(), KEY);
        right.save("k", &refresh_only("rt-1")).await.unwrap();
        let before = fs::read(right.path_of("k").unwrap()).unwrap();
        for wrong in [
            sealed_store(dir.path(), OTHER_KEY),
            FileStore::new(dir.path()).unwrap(),
        ] {
            crate::store::contract::a_wrong_key_reads_and_writes_nothing(&wrong, "k").await;
        }
        assert_eq!(fs::read(right.path_of("k").unwrap()).unwrap(), before);
    }

    #[tokio::test]
    async fn a_clear_record_is_rewritten_encrypted_on_first_read() {
        let dir = tempfile::tempdir().unwrap();
        let clear = FileStore::new(dir.path()).unwrap();
        clear.save("k", &refresh_only("rt-clear")).await.unwrap();
        let path = clear.path_of("k").unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("rt-clear"));
        let sealed = sealed_store(dir.path(), KEY);
        let back = sealed.load("k").await.unwrap().unwrap();
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-clear");
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("rt-clear") && text.contains("\"sealed\""),
            "{text}"
        );
        // Same revision: the upgrade is not a new record.
        assert_eq!(sealed.revision("k").await.unwrap(), 1);
        assert!(sealed.load("k").await.unwrap().is_some());
    }
}
