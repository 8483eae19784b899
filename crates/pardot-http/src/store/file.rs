//! [`FileStore`]: one JSON file per key, shared by every process on the machine.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pardot_auth_core::{AccessToken, Expiry, Scopes, TokenKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{StoreError, StoreLease, StoredToken, TokenStore, check_key};

/// The largest record file we read (a record is well under 8 KiB).
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// Stores each key as `DIR/KEY.json` (permissions `0600`, written to a temp file and renamed
/// over the old one, so a reader never sees half a file), and locks `DIR/KEY.lock` with an OS
/// file lock (`flock` on Unix, `LockFileEx` on Windows) while a cache refreshes.
///
/// Several processes pointing at one directory therefore share one token and one refresh:
/// the first to need a new token takes the lock and fetches; the others wait for the lock,
/// re-read the file and use the token it left.
///
/// The file holds secrets (access and refresh tokens) in clear text, protected by its
/// permissions only; put the directory where only the service's user can read it.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
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
        Ok(Self { dir })
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

#[async_trait::async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<StoredToken>, StoreError> {
        let path = self.path_of(key)?;
        let p = path.clone();
        blocking(&path, move || {
            let file = match File::open(&p) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io(&p, e)),
            };
            let mut text = String::new();
            file.take(MAX_RECORD_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(|e| io(&p, e))?;
            if text.len() as u64 > MAX_RECORD_BYTES {
                return Err(StoreError::Corrupt {
                    path: p.display().to_string(),
                    reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
                });
            }
            let record: FileRecord =
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
            record
                .into_stored()
                .map(Some)
                .map_err(|reason| StoreError::Corrupt {
                    path: p.display().to_string(),
                    reason,
                })
        })
        .await
    }

    async fn save(&self, key: &str, record: &StoredToken) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let text = serde_json::to_vec_pretty(&FileRecord::from_stored(record)).map_err(|e| {
            StoreError::Corrupt {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        let dir = self.dir.clone();
        let key = key.to_owned();
        let p = path.clone();
        blocking(&path, move || {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{key}.json.{}.{n}.tmp", std::process::id()));
            let result = (|| {
                let mut file = private_options().write(true).create_new(true).open(&tmp)?;
                file.write_all(&text)?;
                file.sync_all()?;
                fs::rename(&tmp, &p)
            })();
            if let Err(e) = result {
                let _ = fs::remove_file(&tmp);
                return Err(io(&p, e));
            }
            Ok(())
        })
        .await
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
        let file = blocking(&path, move || {
            private_options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&p)
                .map_err(|e| io(&p, e))
        })
        .await?;
        let p = path.clone();
        // The blocking lock runs on a blocking thread; if we stop waiting, that thread still
        // gets the lock eventually and drops the file right away, which releases it.
        let locking = tokio::task::spawn_blocking(move || {
            fs4::FileExt::lock(&file).map_err(|e| io(&p, e))?;
            Ok::<_, StoreError>(file)
        });
        match tokio::time::timeout(wait, locking).await {
            Ok(Ok(Ok(file))) => Ok(StoreLease::new(FileLease(file))),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(join)) => Err(io(&path, std::io::Error::other(join.to_string()))),
            Err(_) => Err(StoreError::LockTimeout {
                key: key.to_owned(),
                waited: wait,
            }),
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

#[derive(Serialize, Deserialize)]
struct FileRecord {
    format: u32,
    #[serde(default)]
    access: Option<FileAccess>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct FileAccess {
    kind: String,
    secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_key: Option<String>,
    issued_at_ms: u64,
    expires_at_ms: u64,
    expiry_known: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<String>,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl FileRecord {
    fn from_stored(s: &StoredToken) -> Self {
        Self {
            format: 1,
            access: s.access.as_ref().map(|t| {
                let (kind, user_key) = match t.kind() {
                    TokenKind::LegacyApiKey { user_key } => {
                        ("legacy_api_key", Some(user_key.expose_secret().to_owned()))
                    }
                    TokenKind::MciBearer => ("mci_bearer", None),
                    _ => ("salesforce_bearer", None),
                };
                FileAccess {
                    kind: kind.to_owned(),
                    secret: t.secret().expose_secret().to_owned(),
                    user_key,
                    issued_at_ms: millis(t.issued_at()),
                    expires_at_ms: millis(t.expires_at()),
                    expiry_known: matches!(t.expiry(), Expiry::Known(_)),
                    instance_url: t.instance_url().map(|u| u.to_string()),
                    identity_url: t.identity_url().map(str::to_owned),
                    scopes: t.scopes().map(ToString::to_string),
                }
            }),
            refresh_token: s
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_owned()),
        }
    }

    fn into_stored(self) -> Result<StoredToken, String> {
        if self.format != 1 {
            return Err(format!("unknown record format {}", self.format));
        }
        let access = match self.access {
            None => None,
            Some(a) => {
                let kind = match (a.kind.as_str(), a.user_key) {
                    ("salesforce_bearer", _) => TokenKind::SalesforceBearer,
                    ("mci_bearer", _) => TokenKind::MciBearer,
                    ("legacy_api_key", Some(uk)) => TokenKind::LegacyApiKey {
                        user_key: SecretString::from(uk),
                    },
                    (other, _) => return Err(format!("unknown token kind `{other}`")),
                };
                let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
                let expiry = if a.expiry_known {
                    Expiry::Known(at(a.expires_at_ms))
                } else {
                    Expiry::Estimated(at(a.expires_at_ms))
                };
                let mut token = AccessToken::new(
                    kind,
                    SecretString::from(a.secret),
                    at(a.issued_at_ms),
                    expiry,
                );
                if let Some(url) = a.instance_url {
                    let url = url::Url::parse(&url).map_err(|e| format!("instance_url: {e}"))?;
                    token = token.with_instance_url(url);
                }
                if let Some(id) = a.identity_url {
                    token = token.with_identity_url(id);
                }
                if let Some(scopes) = a.scopes {
                    token = token.with_scopes(Scopes::parse(&scopes));
                }
                Some(token)
            }
        };
        Ok(StoredToken {
            access,
            refresh_token: self.refresh_token.map(SecretString::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        store.remove("k").await.unwrap();
        store.remove("k").await.unwrap();
        assert!(store.load("k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn corrupt_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        fs::write(store.path_of("k").unwrap(), "{not json").unwrap();
        assert!(matches!(
            store.load("k").await,
            Err(StoreError::Corrupt { .. })
        ));
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
}
