//! Helpers for driving the mock's HTML pages over plain HTTP: fetch a page, parse its form,
//! post it, follow redirects by hand.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

/// A client that follows no redirects: the one [`pardot_mock::sign_in`] drives its pages with.
pub fn browser() -> reqwest::Client {
    pardot_mock::sign_in::browser().expect("an HTTP client")
}

/// A user of the login pages: `(username, password)`.
pub type User<'a> = (&'a str, &'a str);
/// The web user, who approved the web app.
pub const WEB_USER: User<'static> = (
    pardot_mock::fixtures::WEB_USERNAME,
    pardot_mock::fixtures::WEB_PASSWORD,
);

/// An HTTP answer: status, headers, body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .expect("a Location header")
            .to_str()
            .unwrap()
    }

    /// The `Set-Cookie` `sid=…` pair, ready for a `Cookie` header.
    pub fn session_cookie(&self) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("sid="))
            .expect("a sid cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    pub fn form(&self) -> Form {
        Form::parse(&self.body)
    }

    /// The text of the element with `id="{id}"` (entities decoded), if any.
    pub fn text_of(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let start = at + self.body[at..].find('>')? + 1;
        let end = start + self.body[start..].find("</")?;
        let inner = &self.body[start..end];
        // Skip one nested opening tag such as <code>.
        let inner = match inner.strip_prefix('<') {
            Some(rest) => &rest[rest.find('>')? + 1..],
            None => inner,
        };
        Some(unescape(inner))
    }

    /// Asserts a page (200) whose element `id` reads `text`.
    #[track_caller]
    pub fn assert_shows(&self, id: &str, text: &str) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.text_of(id).as_deref(), Some(text), "{}", self.body);
    }

    /// Asserts a page (200) whose form is at `step` (`code`, `login`, `consent`).
    #[track_caller]
    pub fn assert_step(&self, step: &str) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.form().field("step"), Some(step), "{}", self.body);
    }

    pub fn assert_html(&self) {
        assert_eq!(self.headers["content-type"], "text/html;charset=UTF-8");
        assert_eq!(self.headers["cache-control"], "no-store");
        assert!(self.body.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(!self.body.contains("<script"), "no JavaScript");
    }
}

pub async fn get(client: &reqwest::Client, url: &str, cookie: Option<&str>) -> Page {
    let mut req = client.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    page(req.send().await.unwrap()).await
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Page {
        status,
        headers,
        body: r.text().await.unwrap(),
    }
}

/// A parsed HTML form: its action and every named input/button value.
#[derive(Debug, Clone)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
    /// Submit buttons: (name, value, id).
    pub buttons: Vec<(String, String, String)>,
    /// `for` attributes of the labels.
    pub labels: Vec<String>,
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
        let end = tail.find('>').unwrap();
        out.push(&tail[..=end]);
        rest = &tail[end..];
    }
    out
}

impl Form {
    pub fn parse(html: &str) -> Self {
        let start = html.find("<form ").expect("a form");
        let end = start + html[start..].find("</form>").expect("form end");
        let form_html = &html[start..end];
        let form_tag = tags(form_html, "form")[0];
        let fields = tags(form_html, "input")
            .into_iter()
            .filter_map(|t| Some((attr(t, "name")?, attr(t, "value").unwrap_or_default())))
            .collect();
        let buttons = tags(form_html, "button")
            .into_iter()
            .map(|t| {
                (
                    attr(t, "name").unwrap_or_default(),
                    attr(t, "value").unwrap_or_default(),
                    attr(t, "id").unwrap_or_default(),
                )
            })
            .collect();
        let labels = tags(form_html, "label")
            .into_iter()
            .filter_map(|t| attr(t, "for"))
            .collect();
        Self {
            method: attr(form_tag, "method").unwrap(),
            action: attr(form_tag, "action").unwrap(),
            fields,
            buttons,
            labels,
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
            Some((_, v)) => *v = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Fills a login form with `user`'s username and password and clicks Login.
    pub async fn log_in(
        &self,
        client: &reqwest::Client,
        origin: &str,
        (username, password): User<'_>,
    ) -> Page {
        self.clone()
            .set("username", username)
            .set("password", password)
            .submit(client, origin, Some("Login"), None)
            .await
    }

    /// Posts the form to `{origin}{action}`, as a browser would after clicking the button
    /// with id `button` (its name/value is added when it has a name).
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        origin: &str,
        button: Option<&str>,
        cookie: Option<&str>,
    ) -> Page {
        assert_eq!(self.method, "post");
        let mut fields = self.fields.clone();
        if let Some(id) = button {
            let (name, value, _) = self
                .buttons
                .iter()
                .find(|(_, _, i)| i == id)
                .unwrap_or_else(|| panic!("no button {id}"));
            if !name.is_empty() {
                fields.push((name.clone(), value.clone()));
            }
        }
        let mut req = client
            .post(format!("{origin}{}", self.action))
            .form(&fields);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        page(req.send().await.unwrap()).await
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Splits a redirect `Location` into the URL before `?` and its decoded query pairs.
pub fn split_location(location: &str) -> (String, Vec<(String, String)>) {
    let (base, query) = location.split_once('?').unwrap_or((location, ""));
    let pairs = serde_urlencoded::from_str(query).unwrap();
    (base.to_owned(), pairs)
}

pub fn query_map(location: &str) -> HashMap<String, String> {
    split_location(location).1.into_iter().collect()
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-1jN0Z8ca8u4xx2IlR6QI7pOnB0r_ak-more-entropy-here".to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `{base}/services/oauth2/authorize?…`
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    format!(
        "{base}/services/oauth2/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    )
}
