use super::build::MAX_CONFIG_SECS;
use super::*;
use crate::config::{AppConfig, OrgConfig, UserConfig};

#[test]
fn equal_configs_share_the_indexed_form_but_not_what_a_mock_changes() {
    let cache = IndexCache::default();
    let (a, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
    let (b, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
    assert!(Arc::ptr_eq(&a.indexed, &b.indexed));
    let app = a.app_by_key(crate::fixtures::WEB_CONSUMER_KEY).unwrap();
    a.app_runtime(app)
        .callback_urls
        .write()
        .unwrap()
        .push("http://127.0.0.1:9/cb".into());
    a.app_runtime(app).rotation.store(true, Ordering::Relaxed);
    assert_eq!(
        b.app_runtime(app).callback_urls.read().unwrap().len(),
        MockConfig::defaults().apps[app].callback_urls.len()
    );
    assert!(!b.app_runtime(app).rotation());
    let mut other = MockConfig::defaults();
    other.orgs[0].session_timeout_secs += 1;
    let (c, _) = Model::build_with(&cache, other).unwrap();
    assert!(!Arc::ptr_eq(&a.indexed, &c.indexed));
    // Four kept: the defaults are still known after three other configurations.
    for extra in 2..4 {
        let mut other = MockConfig::defaults();
        other.orgs[0].session_timeout_secs += extra;
        Model::build_with(&cache, other).unwrap();
    }
    let (d, _) = Model::build_with(&cache, MockConfig::defaults()).unwrap();
    assert!(Arc::ptr_eq(&a.indexed, &d.indexed));
}

#[test]
fn a_config_that_reads_files_is_indexed_anew_each_time() {
    let dir = std::env::temp_dir().join(format!(
        "pardot-mock-model-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    for (name, text) in crate::config::EMBEDDED_FILES {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut config = MockConfig::defaults();
    config.embedded_files = false;
    config.base_dir = Some(dir.clone());
    assert!(reads_files(&config));
    let (a, _) = Model::build(config.clone()).unwrap();
    assert_eq!(a.apps.len(), MockConfig::defaults().apps.len());
    // The file may change between two mocks: the second must read it again.
    std::fs::write(dir.join("keys/connected-app.crt"), "not a certificate").unwrap();
    let again = Model::build(config);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("not an RSA certificate")
    );
    assert!(!reads_files(&MockConfig::defaults()));
}

#[test]
fn default_config_validates() {
    let (model, prospects) = Model::build(MockConfig::defaults()).unwrap();
    assert!(model.config.prospects.is_empty() && !prospects.is_empty());
    assert!(
        model
            .app_by_key("3MVG9mock.JWT.app.consumer.key.for.tests")
            .is_some()
    );
    assert!(model.org_by_my_domain("ACME").is_some());
}

#[test]
fn errors_name_the_entry() {
    let mut c = MockConfig::empty();
    c.orgs.push(OrgConfig::production("00D000000000001"));
    c.users.push(UserConfig::new(
        "005000000000001",
        "a@b",
        "p",
        "00D000000000009",
    ));
    let err = Model::build(c.clone()).unwrap_err().to_string();
    assert!(
        err.contains("users[0].org") && err.contains("unknown org"),
        "{err}"
    );

    c.users[0].org = "00D000000000001".into();
    c.users[0].id = "001000000000001".into();
    let err = Model::build(c.clone()).unwrap_err().to_string();
    assert!(err.contains("must start with `005`"), "{err}");

    c.users[0].id = "005000000000001".into();
    let mut app = AppConfig::new("k", "s");
    app.certificate_pem =
        Some("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".into());
    c.apps.push(app);
    let err = Model::build(c).unwrap_err().to_string();
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn durations_past_a_year_are_refused() {
    let mut c = MockConfig::defaults();
    c.orgs[0].session_timeout_secs = u64::MAX;
    let err = Model::build(c).unwrap_err().to_string();
    assert!(err.contains("orgs[0].session_timeout_secs"), "{err}");

    let mut c = MockConfig::defaults();
    c.apps[0].device_interval_secs = u64::MAX;
    let err = Model::build(c).unwrap_err().to_string();
    assert!(err.contains(".device_interval_secs"), "{err}");

    let mut c = MockConfig::defaults();
    c.orgs[0].session_timeout_secs = MAX_CONFIG_SECS;
    assert!(Model::build(c).is_ok());
}
