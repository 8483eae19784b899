//! The `Retry-After` header, read the same way by every client of the workspace.

use std::time::Duration;

use http::HeaderMap;
use http::header::RETRY_AFTER;

/// The wait a server asks for in `Retry-After`, when it is given in seconds.
///
/// The HTTP-date form is not read: Salesforce and Pardot send seconds, and a date would need
/// the clock of the server to mean anything here.
///
/// ```
/// use std::time::Duration;
/// use pardot_auth_core::retry_after;
///
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(retry_after(&headers), None);
/// headers.insert(http::header::RETRY_AFTER, " 7 ".parse().unwrap());
/// assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
