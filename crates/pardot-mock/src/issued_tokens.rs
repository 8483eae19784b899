//! Issued access and refresh tokens, and which users approved which apps.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::support::{MockKeyHash, ShardedMap, prefixed_random_alnum};

/// A live (or once-live) access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub user: usize,
    pub org: usize,
    /// The app it was issued to (`None` for tokens made by test helpers without an app).
    pub app: Option<usize>,
    pub scopes: Arc<str>,
    pub issued: SystemTime,
    pub expires: SystemTime,
    /// The refresh-token chain it came from, so revoking the chain kills it.
    pub chain: Option<u64>,
}

/// A refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub user: usize,
    pub app: usize,
    pub scopes: Arc<str>,
    pub chain: u64,
    /// Replaced by a newer token of its chain (rotation): using it again revokes the chain.
    pub rotated: bool,
    pub issued: SystemTime,
}

/// All tokens. Each map is sharded so concurrent grants and lookups rarely contend.
pub(crate) struct Tokens {
    pub access: ShardedMap<String, AccessRecord, MockKeyHash>,
    pub refresh: ShardedMap<String, RefreshRecord, MockKeyHash>,
    revoked_chains: ShardedMap<u64, ()>,
    /// Approvals given at run time (self-authorize apps): (user, app).
    approvals: ShardedMap<(usize, usize), ()>,
    /// Approvals withdrawn at run time (by the revoke-approval fault): (user, app).
    withdrawn: ShardedMap<(usize, usize), ()>,
    next_chain: AtomicU64,
    max_tokens: usize,
}

impl Tokens {
    pub(crate) fn new(max_tokens: usize) -> Self {
        Self {
            access: ShardedMap::default(),
            refresh: ShardedMap::default(),
            revoked_chains: ShardedMap::default(),
            approvals: ShardedMap::default(),
            withdrawn: ShardedMap::default(),
            next_chain: AtomicU64::new(1),
            max_tokens,
        }
    }

    pub(crate) fn new_chain(&self) -> u64 {
        self.next_chain.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn chain_revoked(&self, chain: u64) -> bool {
        self.revoked_chains.read(&chain).contains_key(&chain)
    }

    /// Stores a new access token, pruning its shard when the cap is reached.
    pub(crate) fn insert_access(&self, token: String, record: AccessRecord, now: SystemTime) {
        let cap = (self.max_tokens / self.access.shard_count()).max(1);
        let mut shard = self.access.write(&token);
        if shard.len() >= cap {
            prune(&mut shard, cap, now);
        }
        shard.insert(token, record);
    }

    /// A live access token: known, not expired at `now`, its chain not revoked.
    pub(crate) fn live_access(&self, token: &str, now: SystemTime) -> Option<AccessRecord> {
        let record = self.access.read(token).get(token).cloned()?;
        if now >= record.expires {
            return None;
        }
        if let Some(chain) = record.chain
            && self.chain_revoked(chain)
        {
            return None;
        }
        Some(record)
    }

    pub(crate) fn insert_refresh(&self, token: String, record: RefreshRecord) {
        self.refresh.write(&token).insert(token, record);
    }

    pub(crate) fn refresh_record(&self, token: &str) -> Option<RefreshRecord> {
        self.refresh.read(token).get(token).cloned()
    }

    /// Revokes a refresh-token chain: its refresh tokens and the access tokens they made.
    pub(crate) fn revoke_chain(&self, chain: u64) {
        self.revoked_chains.write(&chain).insert(chain, ());
        self.refresh
            .for_each_shard(|shard| shard.retain(|_, r| r.chain != chain));
        self.access
            .for_each_shard(|shard| shard.retain(|_, r| r.chain != Some(chain)));
    }

    pub(crate) fn remove_access(&self, token: &str) -> bool {
        self.access.write(token).remove(token).is_some()
    }

    /// Expires access tokens now (all, or one user's) by removing them.
    pub(crate) fn expire_access(&self, user: Option<usize>) -> usize {
        let mut n = 0;
        self.access.for_each_shard(|shard| {
            let before = shard.len();
            shard.retain(|_, r| user.is_some_and(|u| r.user != u));
            n += before - shard.len();
        });
        n
    }

    /// Revokes every token issued to `app` (for one user, or all).
    pub(crate) fn revoke_app_tokens(&self, app: usize, user: Option<usize>) {
        let hit = |u: usize| user.is_none_or(|x| x == u);
        let mut chains = Vec::new();
        self.refresh.for_each_shard(|shard| {
            shard.retain(|_, r| {
                let drop = r.app == app && hit(r.user);
                if drop {
                    chains.push(r.chain);
                }
                !drop
            });
        });
        for chain in chains {
            self.revoked_chains.write(&chain).insert(chain, ());
        }
        self.access
            .for_each_shard(|shard| shard.retain(|_, r| !(r.app == Some(app) && hit(r.user))));
    }

    pub(crate) fn approve(&self, user: usize, app: usize) {
        self.withdrawn.write(&(user, app)).remove(&(user, app));
        self.approvals.write(&(user, app)).insert((user, app), ());
    }

    pub(crate) fn approved_at_runtime(&self, user: usize, app: usize) -> bool {
        self.approvals.read(&(user, app)).contains_key(&(user, app))
    }

    pub(crate) fn withdraw(&self, user: usize, app: usize) {
        self.approvals.write(&(user, app)).remove(&(user, app));
        self.withdrawn.write(&(user, app)).insert((user, app), ());
    }

    pub(crate) fn is_withdrawn(&self, user: usize, app: usize) -> bool {
        self.withdrawn.read(&(user, app)).contains_key(&(user, app))
    }

    pub(crate) fn clear(&self) {
        self.access.clear();
        self.refresh.clear();
        self.revoked_chains.clear();
        self.approvals.clear();
        self.withdrawn.clear();
    }
}

/// Drops expired tokens, then the oldest, until the shard is at three quarters of `cap`.
fn prune(shard: &mut HashMap<String, AccessRecord, MockKeyHash>, cap: usize, now: SystemTime) {
    shard.retain(|_, r| r.expires > now);
    let target = cap - cap / 4;
    if shard.len() > target {
        let mut issued: Vec<SystemTime> = shard.values().map(|r| r.issued).collect();
        issued.sort_unstable();
        let cutoff = issued[shard.len() - target];
        shard.retain(|_, r| r.issued >= cutoff);
        // Many tokens with the same issue time: fall back to dropping arbitrary ones.
        if shard.len() > target {
            let extra: Vec<String> = shard.keys().take(shard.len() - target).cloned().collect();
            for k in extra {
                shard.remove(&k);
            }
        }
    }
}

/// A new access token: the 15-character org id, `!`, and an opaque part.
pub(crate) fn new_access_token(org15: &str) -> String {
    prefixed_random_alnum(&[org15, "!AQ"], 94)
}

/// A new refresh token, shaped like Salesforce's (`5Aep861…`).
pub(crate) fn new_refresh_token() -> String {
    prefixed_random_alnum(&["5Aep861"], 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rec(user: usize, issued: SystemTime, life: u64, chain: Option<u64>) -> AccessRecord {
        AccessRecord {
            user,
            org: 0,
            app: Some(0),
            scopes: Arc::from("api"),
            issued,
            expires: issued + Duration::from_secs(life),
            chain,
        }
    }

    #[test]
    fn expiry_and_chains() {
        let t = Tokens::new(1000);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let chain = t.new_chain();
        t.insert_access("a".into(), rec(1, now, 60, Some(chain)), now);
        t.insert_access("b".into(), rec(2, now, 60, None), now);
        assert!(t.live_access("a", now).is_some());
        assert!(t.live_access("a", now + Duration::from_secs(60)).is_none());
        t.revoke_chain(chain);
        assert!(t.live_access("a", now).is_none());
        assert!(t.live_access("b", now).is_some());
        assert_eq!(t.expire_access(Some(2)), 1);
        assert!(t.live_access("b", now).is_none());
    }

    #[test]
    fn memory_is_bounded() {
        let t = Tokens::new(64);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..5_000u64 {
            let at = start + Duration::from_millis(i);
            t.insert_access(format!("tok{i}"), rec(1, at, 7200, None), at);
        }
        assert!(
            t.access.len() <= 64 + t.access.shard_count(),
            "{}",
            t.access.len()
        );
    }

    #[test]
    fn token_shapes() {
        let a = new_access_token("00D5g00000AcmeP");
        assert!(a.starts_with("00D5g00000AcmeP!"));
        assert!(new_refresh_token().starts_with("5Aep861"));
    }
}
