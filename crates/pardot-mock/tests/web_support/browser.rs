//! The one builder of the tests' browser-like client, shared with sf-oauth's tests (which
//! include this file by path) so that both drive the mock's redirects the same way.

/// A client that never follows redirects, keeps no cookies and ignores proxy settings.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}
