//! A tiny browser for pardot-mock's login pages (plain HTTP, no redirects followed, no
//! cookies, forms read by string search: the mock's pages are stable HTML5 with fixed names),
//! and an assertion for the typed errors of sf-oauth.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use pardot_auth_core::url::Url;
use pardot_auth_core::{Error, ErrorClass, ErrorKind};
use sf_oauth::OAuthError;

/// An HTTP answer.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// True when an element has `id="{id}"`.
    pub fn has(&self, id: &str) -> bool {
        self.body.contains(&format!("id=\"{id}\""))
    }

    /// The text inside the element with `id="{id}"` (inside its leading nested tags, up to the
    /// next tag).
    pub fn text_of(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let mut start = at + self.body[at..].find('>')? + 1;
        // Skip nested opening tags such as <code>.
        while self.body[start..].starts_with('<') && !self.body[start..].starts_with("</") {
            start += self.body[start..].find('>')? + 1;
        }
        let end = start + self.body[start..].find('<')?;
        Some(unescape(&self.body[start..end]))
    }

    /// The page's (only) form.
    pub fn form(&self) -> Form {
        Form::parse(&self.body)
    }

    /// The redirect target.
    pub fn location(&self) -> &str {
        self.location.as_deref().expect("a Location header")
    }

    /// The decoded query of the redirect target.
    pub fn location_query(&self) -> Vec<(String, String)> {
        Url::parse(self.location())
            .expect("an absolute Location")
            .query_pairs()
            .into_owned()
            .collect()
    }
}

/// A submit button.
#[derive(Debug, Clone)]
pub struct Button {
    pub id: String,
    pub name: String,
    pub value: String,
}

/// An HTML form: action, named inputs (with their values) and buttons.
#[derive(Debug, Clone)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub buttons: Vec<Button>,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let tail = &rest[at..];
        let end = tail.find('>').expect("a closed tag");
        out.push(&tail[..=end]);
        rest = &tail[end..];
    }
    out
}

impl Form {
    pub fn parse(html: &str) -> Self {
        let start = html.find("<form ").expect("a form on the page");
        let end = start + html[start..].find("</form>").expect("the end of the form");
        let html = &html[start..end];
        let form = tags(html, "form")[0];
        Self {
            method: attr(form, "method").unwrap_or_default(),
            action: attr(form, "action").expect("a form action"),
            fields: tags(html, "input")
                .into_iter()
                .filter_map(|t| Some((attr(t, "name")?, attr(t, "value").unwrap_or_default())))
                .collect(),
            buttons: tags(html, "button")
                .into_iter()
                .map(|t| Button {
                    id: attr(t, "id").unwrap_or_default(),
                    name: attr(t, "name").unwrap_or_default(),
                    value: attr(t, "value").unwrap_or_default(),
                })
                .collect(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or adds) a field.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => value.clone_into(v),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
        self
    }
}

/// What to click on the Allow/Deny page, if it comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Allow,
    Deny,
}

/// Plain HTTP against the mock, like a browser with redirects turned off.
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        Page {
            status,
            location,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        Self::read(self.http.get(url).send().await.unwrap()).await
    }

    /// Posts `form` to its action on `origin`, as a click on the button with id `button`.
    pub async fn submit(&self, origin: &str, form: &Form, button: Option<&str>) -> Page {
        assert_eq!(form.method, "post");
        let mut fields = form.fields.clone();
        if let Some(id) = button {
            let b = form
                .buttons
                .iter()
                .find(|b| b.id == id)
                .unwrap_or_else(|| panic!("no button #{id} in {form:?}"));
            if !b.name.is_empty() {
                fields.push((b.name.clone(), b.value.clone()));
            }
        }
        let url = format!("{origin}{}", form.action);
        Self::read(self.http.post(url).form(&fields).send().await.unwrap()).await
    }

    /// Opens `authorize`, logs in on the login page, answers the Allow/Deny page with
    /// `consent` when it comes, and returns the final redirect (not followed) and whether the
    /// consent page was shown.
    pub async fn sign_in(
        &self,
        authorize: &Url,
        username: &str,
        password: &str,
        consent: Consent,
    ) -> (Page, bool) {
        let origin = authorize.origin().ascii_serialization();
        let page = self.get(authorize.as_str()).await;
        assert_eq!(page.status, 200, "the login page: {page:?}");
        assert!(page.has("username") && page.has("password"), "{page:?}");
        let form = page
            .form()
            .set("username", username)
            .set("password", password);
        assert!(form.field("txn").is_some_and(|t| !t.is_empty()), "{form:?}");
        let page = self.submit(&origin, &form, Some("Login")).await;
        if page.status == 302 {
            return (page, false);
        }
        assert_eq!(page.status, 200, "after login: {page:?}");
        assert!(
            page.has("oaapprove") && page.has("oadeny"),
            "the consent page: {page:?}"
        );
        let button = match consent {
            Consent::Allow => "oaapprove",
            Consent::Deny => "oadeny",
        };
        let page = self.submit(&origin, &page.form(), Some(button)).await;
        assert_eq!(page.status, 302, "after consent: {page:?}");
        (page, true)
    }

    /// Follows a redirect (one GET of its `Location`).
    pub async fn follow(&self, page: &Page) -> Page {
        self.get(page.location()).await
    }
}

/// Checks a core error that carries a server or redirect OAuth error: its text, code,
/// message, class and kind, and that its `source()` is the typed [`OAuthError`], which is
/// returned for further matching.
pub fn assert_oauth_error<'a>(
    err: &'a Error,
    context: &str,
    code: &str,
    description: &str,
    class: ErrorClass,
) -> &'a OAuthError {
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{context} failed: {code}: {description}")),
        "{text}"
    );
    assert_eq!(err.code(), Some(code), "{text}");
    assert_eq!(err.message(), description, "{text}");
    assert_eq!(err.context(), Some(context), "{text}");
    assert_eq!(err.class(), class, "{text}");
    assert_eq!(err.kind(), ErrorKind::Server, "{text}");
    let source = std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<OAuthError>())
        .unwrap_or_else(|| panic!("source is an OAuthError: {err:?}"));
    assert_eq!(source.code().map(|c| c.as_str()), Some(code), "{source:?}");
    assert_eq!(source.class(), class);
    source
}

/// The typed source of a core error.
pub fn oauth_source(err: &Error) -> &OAuthError {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<OAuthError>())
        .unwrap_or_else(|| panic!("source is an OAuthError: {err:?}"))
}
