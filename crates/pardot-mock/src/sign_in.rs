//! The person in the browser: open an authorize URL, fill in the mock's login page, answer
//! its consent page, and hand back the redirect to the callback, as a test of a client needs
//! it. Played over plain HTTP by [`sign_in`] and [`sign_in_device`] (feature `client`), and
//! in-process over a mock's own state by the admin routes `POST /__mock/sign-in` and
//! `POST /__mock/sign-in-device`, for tests in other languages: both drive the same pages the
//! same way, only the transport differs.
//!
//! The mock writes these pages, so it is the one place that reads them: plain HTML5 with
//! double-quoted attributes and fixed ids (`username`, `password`, `Login`, `oaapprove`,
//! `oadeny`, `error`, `oauth-error`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pardot_mock::sign_in::{Consent, sign_in};
//! use pardot_mock::{PardotMock, fixtures};
//!
//! let mock = PardotMock::start().await;
//! let authorize = format!(
//!     "{}/services/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&state=s1",
//!     mock.url(),
//!     fixtures::WEB_CONSUMER_KEY,
//!     fixtures::WEB_CALLBACK_URL,
//! );
//! let callback = sign_in(&authorize, fixtures::WEB_USERNAME, fixtures::WEB_PASSWORD, Consent::Allow).await?;
//! assert!(callback.code().is_some());
//! assert_eq!(callback.state().as_deref(), Some("s1"));
//! # Ok(()) }
//! ```

use std::fmt;

use url::Url;

/// What to click on the Allow/Deny page, if it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// `Allow`: the redirect carries a code.
    Allow,
    /// `Deny`: the redirect carries `error=access_denied`.
    Deny,
}

/// The redirect that ends a sign-in: to the callback URL with a code and the state, or with
/// an OAuth error (`access_denied`, `immediate_unsuccessful`, …). Not followed.
#[derive(Clone)]
pub struct Callback {
    location: Url,
    login_shown: bool,
    consent_shown: bool,
}

impl Callback {
    /// The redirect target as sent in `Location`.
    pub fn url(&self) -> &Url {
        &self.location
    }

    /// A query parameter of the redirect.
    pub fn param(&self, name: &str) -> Option<String> {
        self.location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The authorization code, on success.
    pub fn code(&self) -> Option<String> {
        self.param("code")
    }

    /// The `state` echoed back.
    pub fn state(&self) -> Option<String> {
        self.param("state")
    }

    /// The OAuth `error` of an error redirect (`access_denied`, …).
    pub fn error(&self) -> Option<String> {
        self.param("error")
    }

    /// Whether the login page was shown (not when the authorize URL redirected at once).
    pub fn login_shown(&self) -> bool {
        self.login_shown
    }

    /// Whether the Allow/Deny page was shown (an app the user had not approved yet).
    pub fn consent_shown(&self) -> bool {
        self.consent_shown
    }

    /// Follows the redirect (one GET, as the browser would) to whatever serves the callback
    /// URL, such as a client's loopback receiver.
    #[cfg(feature = "client")]
    pub async fn follow(&self) -> Result<Landing, SignInError> {
        let response = browser()?.get(self.location.clone()).send().await?;
        let status = response.status().as_u16();
        Ok(Landing {
            status,
            body: response.text().await?,
        })
    }
}

/// The page the callback URL answered ([`Callback::follow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landing {
    /// The HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

// The code is a credential: shown only as present or not.
impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.location.clone();
        let masked: Vec<(String, String)> = self
            .location
            .query_pairs()
            .map(|(k, v)| {
                let v = if crate::is_secret_name(&k) {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(masked);
        f.debug_struct("Callback")
            .field("location", &shown.as_str())
            .field("login_shown", &self.login_shown)
            .field("consent_shown", &self.consent_shown)
            .finish()
    }
}

/// Why a sign-in ended without a redirect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// The login page came back with an error (wrong password, unknown user).
    #[error("the login was refused: {message}")]
    LoginRefused {
        /// The page's error text.
        message: String,
    },
    /// The authorize URL answered the OAuth error page (bad `client_id` or `redirect_uri`),
    /// which Salesforce shows instead of redirecting.
    #[error("the authorize URL answered the OAuth error page ({status}): {line}")]
    ErrorPage {
        /// The HTTP status (400).
        status: u16,
        /// The urlencoded `error=…&error_description=…` line the page shows.
        line: String,
    },
    /// A page that is none of the above.
    #[error("unexpected answer at the {step} step: HTTP {status}: {body}")]
    Unexpected {
        /// `authorize`, `login` or `consent`.
        step: &'static str,
        /// The HTTP status.
        status: u16,
        /// The body as text.
        body: String,
    },
    /// The HTTP request itself failed.
    #[cfg(feature = "client")]
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The authorize URL, a form action or a redirect target is not a URL.
    #[error("bad URL: {0}")]
    Url(#[from] url::ParseError),
}

/// Signs in at `authorize_url` as `username`/`password`, answers the consent page with
/// `consent` when it is shown, and returns the redirect to the callback (not followed).
///
/// An authorize URL that redirects at once (an approved app with `prompt=none`, or a
/// redirected error) returns that redirect without a login. A refused login, the OAuth error
/// page and any other page are [`SignInError`]s.
#[cfg(feature = "client")]
pub async fn sign_in(
    authorize_url: &str,
    username: &str,
    password: &str,
    consent: Consent,
) -> Result<Callback, SignInError> {
    let http = HttpBrowser(browser()?);
    let person = Person {
        username,
        password,
        consent,
    };
    drive_sign_in(&http, authorize_url, person).await
}

/// [`sign_in`] over any [`Browser`].
pub(crate) async fn drive_sign_in(
    http: &impl Browser,
    authorize_url: &str,
    person: Person<'_>,
) -> Result<Callback, SignInError> {
    let authorize = Url::parse(authorize_url)?;
    let page = http.get(&authorize).await?;
    let mut callback = Callback {
        location: authorize.clone(),
        login_shown: false,
        consent_shown: false,
    };
    if let Some(location) = &page.location {
        callback.location = authorize.join(location)?;
        return Ok(callback);
    }
    if let Some(line) = page.text_of("oauth-error") {
        return Err(SignInError::ErrorPage {
            status: page.status,
            line,
        });
    }
    let (page, consent_shown) = log_in_and_consent(http, &authorize, &page, person).await?;
    callback.login_shown = true;
    callback.consent_shown = consent_shown;
    match &page.location {
        Some(location) => {
            callback.location = authorize.join(location)?;
            Ok(callback)
        }
        None => Err(page.refusal_or_unexpected(if consent_shown { "consent" } else { "login" })),
    }
}

/// The device flow's verification, as the person with the code does it: opens
/// `verification_url` (the `verification_uri`, with `?user_code=…` to prefill the code),
/// confirms the code, logs in, answers the consent page, and returns the message of the
/// final page ("You can return to your device" or the denial) and whether consent was
/// asked.
#[cfg(feature = "client")]
pub async fn sign_in_device(
    verification_url: &str,
    username: &str,
    password: &str,
    consent: Consent,
) -> Result<DeviceSignIn, SignInError> {
    let http = HttpBrowser(browser()?);
    let person = Person {
        username,
        password,
        consent,
    };
    drive_sign_in_device(&http, verification_url, person).await
}

/// [`sign_in_device`] over any [`Browser`].
pub(crate) async fn drive_sign_in_device(
    http: &impl Browser,
    verification_url: &str,
    person: Person<'_>,
) -> Result<DeviceSignIn, SignInError> {
    let base = Url::parse(verification_url)?;
    let page = http.get(&base).await?;
    let code_form = page
        .form()
        .filter(|f| page.status == 200 && f.has_input("user_code"))
        .ok_or_else(|| page.unexpected("code"))?;
    let page = code_form.submit(http, &base, &code_form.fields).await?;
    let (page, consent_shown) = log_in_and_consent(http, &base, &page, person).await?;
    match page.text_of("message") {
        Some(message) if page.status == 200 => Ok(DeviceSignIn {
            message,
            consent_shown,
        }),
        _ => Err(page.refusal_or_unexpected(if consent_shown { "consent" } else { "login" })),
    }
}

/// The end of [`sign_in_device`]: the final page's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSignIn {
    /// The text of the final page (`<p id="message">`).
    pub message: String,
    /// Whether the Allow/Deny page was shown.
    pub consent_shown: bool,
}

/// Who signs in: the username and password for the login page, and the answer to the consent
/// page when it is shown.
#[derive(Clone, Copy)]
pub(crate) struct Person<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub consent: Consent,
}

/// Fills in the login page and answers the consent page if it follows; the page after them
/// and whether consent was asked.
async fn log_in_and_consent(
    http: &impl Browser,
    base: &Url,
    page: &Page,
    person: Person<'_>,
) -> Result<(Page, bool), SignInError> {
    let login = page
        .form()
        .filter(|f| page.status == 200 && f.has_input("username") && f.has_input("password"))
        .ok_or_else(|| page.unexpected("login"))?;
    let mut fields = login.hidden();
    fields.push(("username".into(), person.username.into()));
    fields.push(("password".into(), person.password.into()));
    let page = login.submit(http, base, &fields).await?;
    if page.location.is_some() || !page.has("oaapprove") {
        return Ok((page, false));
    }
    let form = page.form().ok_or_else(|| page.unexpected("consent"))?;
    let mut fields = form.hidden();
    let decision = match person.consent {
        Consent::Allow => "allow",
        Consent::Deny => "deny",
    };
    fields.push(("decision".into(), decision.into()));
    Ok((form.submit(http, base, &fields).await?, true))
}

/// How the sign-in reaches the mock's pages: a `GET` of a page and a `POST` of a form, each
/// answered with the page (a redirect is not followed, and no cookie is kept).
pub(crate) trait Browser {
    /// `GET url`.
    async fn get(&self, url: &Url) -> Result<Page, SignInError>;
    /// `POST url` with `fields` as an `application/x-www-form-urlencoded` body.
    async fn post(&self, url: &Url, fields: &[(String, String)]) -> Result<Page, SignInError>;
}

/// The client [`sign_in`] drives the pages with: it follows no redirects, keeps no cookies
/// and ignores proxy settings (the mock listens on loopback). Tests that walk the login pages
/// step by step use it to see each answer as `sign_in` does.
///
/// ```
/// let client = pardot_mock::sign_in::browser().expect("a client");
/// # drop(client);
/// ```
#[cfg(feature = "client")]
pub fn browser() -> Result<reqwest::Client, SignInError> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The pages over real HTTP.
#[cfg(feature = "client")]
struct HttpBrowser(reqwest::Client);

#[cfg(feature = "client")]
impl Browser for HttpBrowser {
    async fn get(&self, url: &Url) -> Result<Page, SignInError> {
        Page::read(self.0.get(url.clone()).send().await?).await
    }

    async fn post(&self, url: &Url, fields: &[(String, String)]) -> Result<Page, SignInError> {
        Page::read(self.0.post(url.clone()).form(fields).send().await?).await
    }
}

/// One answer of the mock.
pub(crate) struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    /// The body as text.
    pub body: String,
}

impl Page {
    #[cfg(feature = "client")]
    async fn read(response: reqwest::Response) -> Result<Self, SignInError> {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .filter(|_| response.status().is_redirection());
        Ok(Self {
            status,
            location,
            body: response.text().await?,
        })
    }

    fn has(&self, id: &str) -> bool {
        self.body.contains(&format!("id=\"{id}\""))
    }

    /// The text inside the element with `id="{id}"`, inside its leading nested tags (such as
    /// `<code>`), up to the next tag.
    fn text_of(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let mut start = at + self.body[at..].find('>')? + 1;
        while self.body[start..].starts_with('<') && !self.body[start..].starts_with("</") {
            start += self.body[start..].find('>')? + 1;
        }
        let end = start + self.body[start..].find('<')?;
        Some(unescape(&self.body[start..end]))
    }

    fn form(&self) -> Option<Form> {
        Form::parse(&self.body)
    }

    /// The login page shown again with its error is a refused login; anything else is
    /// unexpected at `step`.
    fn refusal_or_unexpected(&self, step: &'static str) -> SignInError {
        match self.text_of("error") {
            Some(message) if self.has("password") => SignInError::LoginRefused { message },
            _ => self.unexpected(step),
        }
    }

    fn unexpected(&self, step: &'static str) -> SignInError {
        SignInError::Unexpected {
            step,
            status: self.status,
            body: self.body.clone(),
        }
    }
}

/// The first `<form>` of a page: its action and its inputs (name, value, type).
struct Form {
    action: String,
    fields: Vec<(String, String)>,
    hidden: Vec<bool>,
}

impl Form {
    fn parse(html: &str) -> Option<Self> {
        let start = html.find("<form")?;
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e);
        let form = &html[start..end];
        let open = &form[..form.find('>')?];
        let mut fields = Vec::new();
        let mut hidden = Vec::new();
        for tag in form.split("<input").skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            hidden.push(attr(tag, "type").as_deref() == Some("hidden"));
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        Some(Self {
            action: attr(open, "action")?,
            fields,
            hidden,
        })
    }

    /// The hidden fields, as the page set them.
    fn hidden(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .zip(&self.hidden)
            .filter(|(_, hidden)| **hidden)
            .map(|(field, _)| field.clone())
            .collect()
    }

    fn has_input(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// Posts `fields` to the form's action (relative to the authorize URL).
    async fn submit(
        &self,
        http: &impl Browser,
        authorize: &Url,
        fields: &[(String, String)],
    ) -> Result<Page, SignInError> {
        http.post(&authorize.join(&self.action)?, fields).await
    }
}

/// A double-quoted attribute's value, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::{Outcome, PardotMock, Route, fixtures};

    async fn signed(url: &str, username: &str, password: &str, consent: Consent) -> Callback {
        sign_in(url, username, password, consent).await.unwrap()
    }

    fn authorize(base: &str, consumer_key: &str, extra: &str) -> String {
        format!(
            "{base}/services/oauth2/authorize?response_type=code&client_id={consumer_key}\
&redirect_uri={}&state=st8{extra}",
            fixtures::WEB_CALLBACK_URL
        )
    }

    #[tokio::test]
    async fn an_approved_user_gets_a_code_without_consent() {
        let mock = PardotMock::start().await;
        let url = authorize(&mock.url(), fixtures::WEB_CONSUMER_KEY, "");
        let callback = signed(
            &url,
            fixtures::WEB_USERNAME,
            fixtures::WEB_PASSWORD,
            Consent::Deny,
        )
        .await;
        assert!(callback.login_shown() && !callback.consent_shown());
        assert!(
            callback
                .url()
                .as_str()
                .starts_with(&format!("{}?code=", fixtures::WEB_CALLBACK_URL)),
            "{callback:?}"
        );
        assert_eq!(callback.state().as_deref(), Some("st8"));
        assert_eq!(callback.error(), None);
        let code = callback.code().unwrap();
        assert!(!format!("{callback:?}").contains(&code), "{callback:?}");
        let counts = mock.counts();
        assert_eq!(counts.get(Route::OAuthAuthorize, Outcome::LoginPage), 1);
        assert_eq!(counts.get(Route::OAuthAuthorize, Outcome::Ok), 1);
    }

    #[tokio::test]
    async fn consent_is_answered_allow_or_deny() {
        let mock = PardotMock::start().await;
        let url = authorize(&mock.url(), fixtures::WEB_CONSUMER_KEY, "");
        let denied = signed(
            &url,
            fixtures::UNAPPROVED_USERNAME,
            fixtures::UNAPPROVED_PASSWORD,
            Consent::Deny,
        )
        .await;
        assert!(denied.consent_shown());
        assert_eq!(denied.error().as_deref(), Some("access_denied"));
        assert_eq!(denied.code(), None);
        let allowed = signed(
            &url,
            fixtures::UNAPPROVED_USERNAME,
            fixtures::UNAPPROVED_PASSWORD,
            Consent::Allow,
        )
        .await;
        assert!(allowed.consent_shown() && allowed.code().is_some());
        assert_eq!(
            mock.counts().get(Route::OAuthAuthorize, Outcome::Consent),
            2
        );
    }

    #[tokio::test]
    async fn a_wrong_password_and_the_error_page_are_errors() {
        let mock = PardotMock::start().await;
        let url = authorize(&mock.url(), fixtures::WEB_CONSUMER_KEY, "");
        let refused = sign_in(&url, fixtures::WEB_USERNAME, "wrong", Consent::Allow)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, SignInError::LoginRefused { message } if message.starts_with("Please check your username and password.")),
            "{refused}"
        );
        let unknown = authorize(&mock.url(), "3MVG9.nobody", "");
        let page = sign_in(&unknown, fixtures::WEB_USERNAME, "x", Consent::Allow)
            .await
            .unwrap_err();
        assert!(
            matches!(&page, SignInError::ErrorPage { status: 400, line } if line.starts_with("error=invalid_client_id&")),
            "{page}"
        );
    }

    #[tokio::test]
    async fn an_immediate_redirect_needs_no_login() {
        let mock = PardotMock::start().await;
        let url = authorize(&mock.url(), fixtures::WEB_CONSUMER_KEY, "&immediate=true");
        let callback = sign_in(&url, "", "", Consent::Allow).await.unwrap();
        assert!(!callback.login_shown(), "{callback:?}");
        assert_eq!(callback.error().as_deref(), Some("immediate_unsuccessful"));
        assert_eq!(callback.state().as_deref(), Some("st8"));
    }

    #[tokio::test]
    async fn a_device_code_is_confirmed_logged_in_and_approved() {
        let mock = PardotMock::start().await;
        let device_authorization = browser()
            .unwrap()
            .post(format!("{}/services/oauth2/token", mock.url()))
            .form(&[
                ("response_type", "device_code"),
                ("client_id", fixtures::WEB_CONSUMER_KEY),
            ])
            .send()
            .await
            .unwrap();
        let started: serde_json::Value = device_authorization.json().await.unwrap();
        let url = format!(
            "{}?user_code={}",
            started["verification_uri"].as_str().unwrap(),
            started["user_code"].as_str().unwrap()
        );
        let refused = sign_in_device(&url, fixtures::UNAPPROVED_USERNAME, "wrong", Consent::Allow)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, SignInError::LoginRefused { .. }),
            "{refused}"
        );
        let done = sign_in_device(
            &url,
            fixtures::UNAPPROVED_USERNAME,
            fixtures::UNAPPROVED_PASSWORD,
            Consent::Allow,
        )
        .await
        .unwrap();
        assert!(done.consent_shown, "{done:?}");
        assert_eq!(mock.counts().get(Route::OAuthDevice, Outcome::Ok), 1);
        let unknown = format!("{}/setup/connect?user_code=ZZZZZZZZ", mock.url());
        let err = sign_in_device(&unknown, fixtures::WEB_USERNAME, "x", Consent::Allow)
            .await
            .unwrap_err();
        assert!(matches!(err, SignInError::Unexpected { .. }), "{err}");
    }

    #[test]
    fn forms_and_texts_are_read_from_the_mock_markup() {
        let page = Page {
            status: 200,
            location: None,
            body: r#"<p id="error" class="error">x &amp; y</p>
<form method="post" action="/sandbox/services/oauth2/authorize?a=1&amp;b=2">
<input type="hidden" name="txn" value="T&quot;1">
<input type="text" id="username" name="username" value="">
<input type="password" id="password" name="password" required>
<button type="submit" id="Login">Log In</button>
</form>"#
                .into(),
        };
        assert_eq!(page.text_of("error").as_deref(), Some("x & y"));
        let form = page.form().unwrap();
        assert_eq!(form.action, "/sandbox/services/oauth2/authorize?a=1&b=2");
        assert_eq!(form.hidden(), [("txn".to_owned(), "T\"1".to_owned())]);
        assert!(form.has_input("username") && !form.has_input("decision"));
        assert!(Form::parse("<p>Signed in</p>").is_none());
    }
}
