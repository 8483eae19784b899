//! The operations on a [`MockState`] that reach every part of the mock (tokens, the Pardot
//! API, the web login): building it, applying a fault, resetting it. They sit above those
//! parts so that the shared state itself depends on none of them.

use std::sync::LazyLock;
use std::time::SystemTime;

use crate::config::{MockConfig, ProspectConfig};
use crate::faults::{FailRule, Fault};
use crate::model::Model;
use crate::pardot::PardotApi;
use crate::state::{MockError, MockState};
use crate::support::{ClockSource, MockClock};
use crate::virtual_host::PublicUrl;

impl MockState {
    /// Validates `config` and builds the state, judging time by `clock`.
    pub fn new(config: MockConfig, clock: impl Into<ClockSource>) -> Result<Self, MockError> {
        let public_url = public_url(&config)?;
        let (model, prospects) = Model::build(config)?;
        Self::assemble(model, Pardot::Build(prospects), public_url, clock.into())
    }

    /// The state of the default configuration (`fixtures/mock.toml`), from its model built
    /// once per process: what `MockState::new(MockConfig::defaults(), clock)` builds, without
    /// copying, comparing and dropping the configuration each time.
    pub(crate) fn of_defaults(clock: ClockSource) -> Result<Self, MockError> {
        // The default's Pardot state, built once per process: so the default is known to
        // build, and each mock's own is built on its first Pardot request, stamped with the
        // start time (building it was a third of a start).
        static DEFAULT_PARDOT: LazyLock<Result<PardotApi, MockError>> = LazyLock::new(|| {
            let (model, prospects) = Model::of_defaults()?;
            Ok(PardotApi::from_config(
                &model.config,
                prospects.to_vec(),
                SystemTime::UNIX_EPOCH,
            )?)
        });
        let built = DEFAULT_PARDOT.as_ref().map_err(Clone::clone)?;
        let (model, _) = Model::of_defaults()?;
        let public_url = public_url(&model.config)?;
        Self::assemble(model, Pardot::OnFirstUse(built), public_url, clock)
    }

    fn assemble(
        model: Model,
        pardot: Pardot<'_>,
        public_url: Option<PublicUrl>,
        clock: ClockSource,
    ) -> Result<Self, MockError> {
        let clock = MockClock::new(clock);
        let started = clock.now();
        let state = match pardot {
            // Built now, so a bad Pardot config is an error at start and the accounts'
            // creation time is the start time; the configured prospects move into its stores.
            Pardot::Build(prospects) => {
                let pardot = PardotApi::from_config(&model.config, prospects, started)?;
                let state = Self::with_model(model, clock, public_url);
                state.install_pardot(pardot);
                state
            }
            Pardot::OnFirstUse(built) => {
                let state = Self::with_model(model, clock, public_url);
                state.install_pardot_on_first_use(built, started);
                state
            }
        };
        state.seed_refresh_tokens_from_config();
        Ok(state)
    }

    /// Applies a [`Fault`].
    pub fn apply_fault(&self, fault: Fault) -> Result<(), MockError> {
        let model = self.model();
        let find_user = |name: &str| {
            model
                .user_by_username(name)
                .ok_or_else(|| MockError::UnknownUser(name.to_owned()))
        };
        let find_app = |key: &str| {
            model
                .app_by_key(key)
                .ok_or_else(|| MockError::UnknownApp(key.to_owned()))
        };
        match fault {
            Fault::ExpireTokens { username } => {
                let user = username.as_deref().map(find_user).transpose()?;
                self.inner.tokens.expire_access(user);
                if user.is_none() {
                    self.pardot().expire_api_keys();
                }
            }
            Fault::FailNext {
                route,
                count,
                status,
                body,
                content_type,
                headers,
            } => {
                let content_type = content_type.unwrap_or_else(|| {
                    let t = body.trim_start();
                    if t.starts_with('{') || t.starts_with('[') {
                        "application/json;charset=UTF-8".to_owned()
                    } else {
                        "text/plain; charset=utf-8".to_owned()
                    }
                });
                self.inner.faults.add_rule(FailRule {
                    route,
                    remaining: count,
                    status,
                    body,
                    content_type,
                    headers,
                });
            }
            Fault::Latency { millis, route } => self.inner.faults.set_latency(millis, route),
            Fault::RevokeApproval {
                consumer_key,
                username,
            } => {
                let app = find_app(&consumer_key)?;
                let user = username.as_deref().map(find_user).transpose()?;
                match user {
                    Some(u) => self.inner.tokens.withdraw(u, app),
                    None => {
                        for u in 0..model.users.len() {
                            self.inner.tokens.withdraw(u, app);
                        }
                    }
                }
                self.inner.tokens.revoke_app_tokens(app, user);
                crate::oauth::web::forget_grants(self, app, user);
            }
            Fault::RefreshTokenRotation {
                consumer_key,
                enabled,
            } => {
                let app = find_app(&consumer_key)?;
                model
                    .app_runtime(app)
                    .rotation
                    .store(enabled, std::sync::atomic::Ordering::Relaxed);
            }
            Fault::Clear => self.inner.faults.clear(),
        }
        Ok(())
    }

    /// Forgets every token, approval given at run time, journal entry, counter, fault and MCI
    /// assertion id, re-seeds the configured refresh tokens and puts the clock back to real
    /// time (see [`MockState::reset_clock`]).
    pub fn reset(&self) {
        self.reset_clock();
        let inner = &self.inner;
        inner.tokens.clear();
        inner.journal.clear();
        inner.counters.clear();
        inner.faults.clear();
        inner.mci_jtis.clear();
        for w in &inner.logins {
            w.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        // Apps are indexed in configuration order.
        for (i, app) in inner.model.config.apps.iter().enumerate() {
            inner.model.app_runtime(i).rotation.store(
                app.refresh_token_rotation,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        self.seed_refresh_tokens_from_config();
        self.pardot().reset(self.now());
        crate::pardot::reset_exports(self);
        crate::oauth::web::reset(self);
    }
}

/// How a new state gets its Pardot state.
enum Pardot<'a> {
    /// Built at start from the configured prospects.
    Build(Vec<ProspectConfig>),
    /// Built on first use like this one, built earlier from the same configuration.
    OnFirstUse(&'a PardotApi),
}

/// The configuration's `public_url`, checked.
fn public_url(config: &MockConfig) -> Result<Option<PublicUrl>, MockError> {
    Ok(config
        .public_url
        .as_deref()
        .map(PublicUrl::parse)
        .transpose()?)
}
