//! The mock's shared state: model, clock, tokens, journal, counters and faults. Every route
//! module reaches it through [`MockState`] (cheap to clone).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pardot_auth_core::{BusinessUnitId, SalesforceId};

use crate::config::{ConfigError, MockConfig, PermittedUsers};
use crate::faults::Faults;
use crate::issued_tokens::{
    AccessRecord, RefreshRecord, Tokens, new_access_token, new_refresh_token,
};
use crate::journal::{Counters, Counts, Journal, JournalEntry};
use crate::model::{App, BusinessUnit, Model, Org, User};
use crate::support::{MockClock, ShardedMap};
use crate::virtual_host::PublicUrl;

/// What a live access token stands for (see [`MockState::lookup_access_token`]).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The org's id.
    pub org_id: SalesforceId,
    /// The user's id.
    pub user_id: SalesforceId,
    /// The user's username.
    pub username: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The consumer key of the app it was issued to (`None` for test-helper tokens).
    pub consumer_key: Option<String>,
    /// Issue time on the mock clock.
    pub issued_at: SystemTime,
    /// When the session ends on the mock clock.
    pub expires_at: SystemTime,
}

impl TokenInfo {
    /// Whether the token carries `scope` (or `full`, which includes every scope).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == "full")
    }
}

pardot_auth_core::debug_shows!(TokenInfo as this {
    org_id: this.org_id,
    user_id: this.user_id,
    username: this.username,
    scopes: this.scopes,
    consumer_key: this.consumer_key,
});

/// Errors of the Rust-side helpers ([`crate::PardotMock::issue_access_token`] and friends).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No user with this username.
    #[error("pardot-mock: unknown username `{0}`")]
    UnknownUser(String),
    /// No app with this consumer key.
    #[error("pardot-mock: unknown consumer key `{0}`")]
    UnknownApp(String),
    /// No live, pending device code has this user code (unknown, expired or decided).
    #[error("pardot-mock: unknown or expired user code `{0}`")]
    UnknownUserCode(String),
    /// The server could not start.
    #[error("pardot-mock: cannot start the server: {0}")]
    Start(String),
}

pub(crate) struct Inner {
    pub model: Model,
    pub clock: MockClock,
    pub tokens: Tokens,
    pub journal: Journal,
    pub counters: Counters,
    pub faults: Faults,
    /// Token grants per org in the last hour (only for orgs with a login limit).
    pub logins: Vec<Mutex<VecDeque<SystemTime>>>,
    /// MCI assertion ids seen, with the time they can be forgotten.
    pub mci_jtis: ShardedMap<String, SystemTime>,
    /// The HMAC key the MCI IdP signs its access tokens with (random per mock).
    pub mci_signing_key: String,
    /// Extension slots (the Pardot API state, the web-login stores, …): any module can keep
    /// its own state here, keyed by name.
    pub extensions: ShardedMap<&'static str, Arc<dyn std::any::Any + Send + Sync>>,
    /// The base advertised instead of the called one (`public_url`), checked at start.
    pub public_url: Option<PublicUrl>,
}

/// The shared state behind a mock server. Clone it freely; clones share everything.
#[derive(Clone)]
pub struct MockState {
    pub(crate) inner: Arc<Inner>,
}

pardot_auth_core::debug_shows!(MockState as this {
    orgs: this.inner.model.orgs.len(),
    users: this.inner.model.users.len(),
    apps: this.inner.model.apps.len(),
});

impl MockState {
    /// The state of a validated model with nothing issued yet: the parts the routes add
    /// (the Pardot API, the web login) come later (see [`MockState::new`]).
    pub(crate) fn with_model(
        model: Model,
        clock: MockClock,
        public_url: Option<PublicUrl>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                logins: model
                    .orgs
                    .iter()
                    .map(|_| Mutex::new(VecDeque::new()))
                    .collect(),
                journal: Journal::new(model.config.journal_size),
                tokens: Tokens::new(model.config.max_tokens),
                clock,
                counters: Counters::default(),
                faults: Faults::default(),
                mci_jtis: ShardedMap::default(),
                mci_signing_key: crate::support::random_alnum(48),
                extensions: ShardedMap::default(),
                public_url,
                model,
            }),
        }
    }

    /// Stores the configured refresh tokens (at start, and again after a reset).
    pub(crate) fn seed_refresh_tokens_from_config(&self) {
        let model = &self.inner.model;
        for r in &model.config.refresh_tokens {
            let (Some(user), Some(app)) = (
                model.user_by_username(&r.username),
                model.app_by_key(&r.consumer_key),
            ) else {
                continue; // validated in Model::build
            };
            let scopes = r
                .scopes
                .clone()
                .unwrap_or_else(|| model.apps[app].scopes.clone())
                .join(" ");
            self.store_refresh(r.token.clone(), user, app, &scopes, None);
        }
    }

    /// The current time on the mock's clock.
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// Puts the clock back to real time: forgets every advance (a shared `ManualClock` is
    /// the test's own and is not moved).
    pub fn reset_clock(&self) {
        self.inner.clock.reset();
    }

    /// The base URL the mock advertises instead of the one a request was made to, if set.
    pub fn public_url(&self) -> Option<&PublicUrl> {
        self.inner.public_url.as_ref()
    }

    /// Moves the mock's clock forward (the shared `ManualClock`, or an offset).
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
    }

    /// The configuration the state was built from, without its `prospects` (always empty
    /// here): those became the Pardot API's prospect stores at start, and keeping a copy would
    /// double the memory of a mock with many. Read prospects through the Pardot API (v3/v4
    /// `prospect/do/query`, v5 `objects/prospects`), count them with
    /// [`PardotApi::prospect_count`](crate::PardotApi::prospect_count) (`state.pardot()`), and
    /// keep the `ProspectConfig`s you passed in if a test needs them.
    pub fn config(&self) -> &MockConfig {
        &self.inner.model.config
    }

    pub(crate) fn model(&self) -> &Model {
        &self.inner.model
    }

    /// A live access token's facts, judged on the mock clock: `None` when unknown, expired
    /// or revoked. (The Pardot API routes authenticate Bearer tokens with this.)
    pub fn lookup_access_token(&self, token: &str) -> Option<TokenInfo> {
        let record = self.inner.tokens.live_access(token, self.now())?;
        Some(self.token_info(&record))
    }

    pub(crate) fn token_info(&self, record: &AccessRecord) -> TokenInfo {
        let model = self.model();
        let user = &model.users[record.user];
        TokenInfo {
            org_id: model.orgs[record.org].id.clone(),
            user_id: user.id.clone(),
            username: user.username.clone(),
            scopes: record
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            consumer_key: record.app.map(|a| model.apps[a].consumer_key.clone()),
            issued_at: record.issued,
            expires_at: record.expires,
        }
    }

    /// Whether the user (by username) may call the Pardot API for business unit `bu`.
    pub fn user_has_business_unit(&self, username: &str, bu: &BusinessUnitId) -> bool {
        self.model()
            .user_by_username(username)
            .is_some_and(|u| self.model().users[u].business_units.contains(bu))
    }

    /// A business unit by id (active or not).
    pub fn business_unit(&self, id: &BusinessUnitId) -> Option<&BusinessUnit> {
        let model = self.model();
        model.bu_by_id(id).map(|i| &model.business_units[i])
    }

    /// Every configured business unit.
    pub fn business_units(&self) -> &[BusinessUnit] {
        &self.model().business_units
    }

    /// Journal entries kept, oldest first (values unmasked).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.inner.journal.entries()
    }

    /// Counters by route and outcome.
    pub fn counts(&self) -> Counts {
        self.inner.counters.snapshot()
    }

    /// Keeps (or replaces) a module's value under `name` (how the Pardot API and the web
    /// login keep their state without new fields here).
    pub fn set_extension(&self, name: &'static str, value: Arc<dyn std::any::Any + Send + Sync>) {
        self.inner.extensions.write(&name).insert(name, value);
    }

    /// A value stored with [`MockState::set_extension`].
    pub fn extension(&self, name: &'static str) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        self.inner.extensions.read(&name).get(name).cloned()
    }

    // ---- token issuing, used by the grants and the Rust helpers ----

    /// Issues an access token for `user` (through `app`, when known) with `scopes`.
    pub(crate) fn issue_access(
        &self,
        user: usize,
        app: Option<usize>,
        scopes: &str,
        chain: Option<u64>,
    ) -> (String, AccessRecord) {
        let model = self.model();
        let org_index = model.users[user].org;
        let org = &model.orgs[org_index];
        let now = self.now();
        let token = new_access_token(org.id.as_15());
        let record = AccessRecord {
            user,
            org: org_index,
            app,
            scopes: Arc::from(scopes),
            issued: now,
            expires: now + org.session_timeout,
            chain,
        };
        self.inner
            .tokens
            .insert_access(token.clone(), record.clone(), now);
        (token, record)
    }

    pub(crate) fn store_refresh(
        &self,
        token: String,
        user: usize,
        app: usize,
        scopes: &str,
        chain: Option<u64>,
    ) -> u64 {
        let chain = chain.unwrap_or_else(|| self.inner.tokens.new_chain());
        self.inner.tokens.insert_refresh(
            token,
            RefreshRecord {
                user,
                app,
                scopes: Arc::from(scopes),
                chain,
                rotated: false,
                issued: self.now(),
            },
        );
        // Holding a refresh token means the user approved the app.
        if self.model().apps[app].permitted_users == PermittedUsers::All {
            self.inner.tokens.approve(user, app);
        }
        chain
    }

    /// Issues a fresh refresh token for `user` and `app`.
    pub(crate) fn issue_refresh(
        &self,
        user: usize,
        app: usize,
        scopes: &str,
        chain: Option<u64>,
    ) -> (String, u64) {
        let token = new_refresh_token();
        let chain = self.store_refresh(token.clone(), user, app, scopes, chain);
        (token, chain)
    }

    /// Whether `user` may use `app` without an interactive approval.
    pub(crate) fn is_approved(&self, user: usize, app_index: usize) -> bool {
        let tokens = &self.inner.tokens;
        if tokens.is_withdrawn(user, app_index) {
            return false;
        }
        let app: &App = &self.model().apps[app_index];
        if app.pre_authorized.contains(&user) {
            return true;
        }
        match app.permitted_users {
            PermittedUsers::AdminApproved => false,
            PermittedUsers::All => {
                app.approved_users.contains(&user) || tokens.approved_at_runtime(user, app_index)
            }
        }
    }

    /// Whether `user` may use `app` at all: always for a self-authorize app ("All users may
    /// self-authorize": a password grant or a login needs no earlier approval); for an
    /// admin-approved app only a pre-authorized user whose approval was not revoked (the
    /// revoke fault then stands for the admin removing the user's assignment).
    pub(crate) fn is_assigned(&self, user: usize, app_index: usize) -> bool {
        let app: &App = &self.model().apps[app_index];
        match app.permitted_users {
            PermittedUsers::All => true,
            PermittedUsers::AdminApproved => {
                app.pre_authorized.contains(&user)
                    && !self.inner.tokens.is_withdrawn(user, app_index)
            }
        }
    }

    /// Records a user's approval of a self-authorize app (the consent page calls this). A
    /// user's Allow never assigns an admin-approved app, so it changes nothing there.
    pub(crate) fn approve(&self, user: usize, app: usize) {
        if self.model().apps[app].permitted_users == PermittedUsers::All {
            self.inner.tokens.approve(user, app);
        }
    }

    /// Counts a login for the org's rate limit; `false` when the limit is exceeded.
    pub(crate) fn count_login(&self, org_index: usize) -> bool {
        let org: &Org = &self.model().orgs[org_index];
        let Some(limit) = org.logins_per_hour else {
            return true;
        };
        let now = self.now();
        let hour = Duration::from_secs(3600);
        let mut window = self.inner.logins[org_index]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t).unwrap_or_default() >= hour)
        {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            return false;
        }
        window.push_back(now);
        true
    }

    pub(crate) fn user(&self, index: usize) -> &User {
        &self.model().users[index]
    }

    // ---- Rust-side helpers and faults ----

    /// The indices of the user `username` and the app `consumer_key`, or which one is unknown.
    fn user_and_app(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<(usize, usize), MockError> {
        let model = self.model();
        let user = model
            .user_by_username(username)
            .ok_or_else(|| MockError::UnknownUser(username.to_owned()))?;
        let app = model
            .app_by_key(consumer_key)
            .ok_or_else(|| MockError::UnknownApp(consumer_key.to_owned()))?;
        Ok((user, app))
    }

    /// [`MockState::user_and_app`] with the app's scopes, what a flowless grant is given.
    fn user_app_and_scopes(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<(usize, usize, String), MockError> {
        let (user, app) = self.user_and_app(username, consumer_key)?;
        Ok((user, app, self.model().apps[app].scopes.join(" ")))
    }

    /// Issues a live access token for `username` through the app `consumer_key`, without a
    /// flow (scopes: the app's).
    pub fn issue_access_token(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<String, MockError> {
        let (user, app, scopes) = self.user_app_and_scopes(username, consumer_key)?;
        Ok(self.issue_access(user, Some(app), &scopes, None).0)
    }

    /// Like [`MockState::issue_access_token`], with explicit scopes (e.g. without
    /// `pardot_api`, to provoke Pardot error 184).
    pub fn issue_access_token_with_scopes(
        &self,
        username: &str,
        consumer_key: &str,
        scopes: &[&str],
    ) -> Result<String, MockError> {
        let (user, app) = self.user_and_app(username, consumer_key)?;
        Ok(self
            .issue_access(user, Some(app), &scopes.join(" "), None)
            .0)
    }

    /// Creates a refresh token for `username` and `consumer_key` (scopes: the app's), as if a
    /// web login had happened, and returns it.
    pub fn seed_refresh_token(
        &self,
        username: &str,
        consumer_key: &str,
    ) -> Result<String, MockError> {
        let (user, app, scopes) = self.user_app_and_scopes(username, consumer_key)?;
        Ok(self.issue_refresh(user, app, &scopes, None).0)
    }
}
