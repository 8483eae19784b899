//! [`MciClient`]: `reqwest` plus a cached Marketing Cloud Intelligence token on a base URL.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use pardot_auth_core::body::{self, BodyError};
use pardot_auth_core::url::Url;
use pardot_auth_core::{AccessToken, AuthScheme, Error, TokenSource, redact};
use pardot_http::CachedTokenSource;
use tracing::Instrument;

/// Largest response body [`MciClient`] reads by default (16 MiB).
pub const DEFAULT_MCI_MAX_BODY_BYTES: usize = pardot_auth_core::DEFAULT_MAX_RESPONSE_BYTES;

/// Calls the Marketing Cloud Intelligence API at a base URL you give, with
/// `Authorization: Bearer <token>` from the service account's cached token (tokens live
/// 5 minutes; the cache renews them ahead of expiry, one fetch for many callers).
///
/// A `401` drops exactly the rejected token, fetches a new one and sends the request once
/// more; a second `401` is returned as it is. Bodies are read up to a limit
/// ([`max_body_bytes`](Self::max_body_bytes), default 16 MiB); every request has a 30 s
/// timeout. Clones share the cache and the connection pool.
#[derive(Clone)]
pub struct MciClient {
    http: reqwest::Client,
    tokens: CachedTokenSource,
    base: Url,
    max_body: usize,
}

pardot_auth_core::debug_shows!(MciClient as this {
    base: this.base.as_str(),
    tokens: this.tokens,
});

/// An answer of the Intelligence API: status, headers and the (bounded) body.
#[derive(Clone)]
pub struct MciResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

pardot_auth_core::debug_shows!(MciResponse as this {
    status: this.status,
    body_len: this.body.len(),
});

pardot_auth_core::response_accessors!(MciResponse, Error, Error::invalid_response);

impl MciResponse {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            // serde_json quotes a value it could not read: it may be a token.
            let reason = redact::excerpt(e.to_string().as_bytes(), 300);
            Error::invalid_response(format!("the body is not the expected JSON: {reason}"))
        })
    }
}

/// The bound on one MCI API exchange, body included.
const MCI_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl MciClient {
    pub(crate) fn new(http: reqwest::Client, tokens: CachedTokenSource, base: Url) -> Self {
        Self {
            http,
            tokens,
            base,
            max_body: DEFAULT_MCI_MAX_BODY_BYTES,
        }
    }

    /// Reads at most `limit` bytes of each body (longer ones are an error).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// The base URL requests are made against.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The token cache (for its metrics, or a token to use elsewhere).
    pub fn token_cache(&self) -> &CachedTokenSource {
        &self.tokens
    }

    /// `base_url` followed by `path` (the base URL's own path is kept; `path` may carry a
    /// query string).
    pub fn url(&self, path: &str) -> Result<Url, Error> {
        let joined = format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        Url::parse(&joined)
            .map_err(|e| Error::config(format!("`{path}` does not make a URL with the base: {e}")))
    }

    /// `GET base_url/path`.
    pub async fn get(&self, path: &str) -> Result<MciResponse, Error> {
        self.send(Method::GET, path, None).await
    }

    /// Sends `method base_url/path`, with a JSON body when `json` is given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<MciResponse, Error> {
        let url = self.url(path)?;
        let body = json
            .map(|v| serde_json::to_vec(v).map(Bytes::from))
            .transpose()
            .map_err(|e| Error::config(format!("the JSON body cannot be written: {e}")))?;
        let token = self.tokens.token().await?;
        let first = self.send_once(&method, &url, body.clone(), &token).await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        // Drop only the token that was refused, then one more try with a fresh one.
        self.tokens.invalidate(&token);
        let fresh = self.tokens.token().await?;
        self.send_once(&method, &url, body, &fresh).await
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
        token: &AccessToken,
    ) -> Result<MciResponse, Error> {
        let mut headers = AuthScheme::Bearer.headers(token)?;
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        // Per request, not only on the client: the client may be the Connector's shared one,
        // which has no client-wide total timeout.
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(MCI_REQUEST_TIMEOUT)
            .headers(headers);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let span = tracing::info_span!("pardot_auth.mci_request", %method, url = %url.path());
        let response = request
            .send()
            .instrument(span)
            .await
            .map_err(Error::transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let announced = response.content_length();
        let next_chunk = async |mut response: reqwest::Response| {
            let chunk = response.chunk().await;
            (response, chunk)
        };
        let body = body::read_bounded(response, announced, self.max_body, next_chunk)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit } => {
                    Error::invalid_response(format!("the response body exceeded {limit} bytes"))
                }
                BodyError::Read(e) => Error::transport(e),
            })?;
        Ok(MciResponse {
            status,
            headers,
            body,
        })
    }
}

/// Property tests of what the MCI client reads from an answer: a secret the API echoes in a
/// field it could not read never reaches the error. Cases: `PROPTEST_CASES`.
#[cfg(test)]
mod props {
    use super::*;
    use pardot_auth_core::redact::{ECHOED_SECRETS, leaked_secret};
    use proptest::prelude::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "the fields are only there to be read wrongly")]
    struct Report {
        rows: u64,
        name: String,
    }

    proptest! {
        #[test]
        fn echoed_secrets_never_reach_a_json_error(
            which in 0..ECHOED_SECRETS.len(),
            pad in "[a-z ]{0,400}",
            shape in 0usize..3,
        ) {
            let (name, echo, _) = ECHOED_SECRETS[which];
            let text = format!("{pad} {echo}");
            let body = match shape {
                // serde_json quotes the string it expected to be a number.
                0 => serde_json::json!({"rows": text, "name": "x"}).to_string(),
                1 => serde_json::json!({"rows": 1, "name": [text]}).to_string(),
                _ => format!("<html>{text}</html>"),
            };
            let response = MciResponse {
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                body: Bytes::from(body),
            };
            let e = response.json::<Report>().err().ok_or_else(|| TestCaseError::fail("read"))?;
            let shown = format!("{e} {e:?}");
            prop_assert_eq!(leaked_secret(&shown), None, "{}: {}", name, shown);
        }
    }
}
