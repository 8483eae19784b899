//! The HTML pages of the browser-facing login: login, consent (Allow/Deny), device user
//! code, error and message pages.
//!
//! Plain HTML5 forms, no JavaScript, stable field names (`username`, `password`,
//! `user_code`, `decision`, and the hidden `txn` and `step`) and a `<label>` for every
//! field, so a person, an HTTP client parsing the form, or a headless browser can drive
//! them. Every value written into a page is escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::outcome::reporting;
use crate::route::Outcome;

/// The message the login page shows after a failed login (Salesforce's wording).
pub const LOGIN_ERROR: &str = "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";
/// The message the user-code page shows for an unknown, expired or used code.
pub const USER_CODE_ERROR: &str =
    "The code is invalid or has expired. Check the code on your device and try again.";

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f2f2;margin:0}\
main{max-width:24rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;\
border:1px solid #ddd}h1{font-size:1.4rem;margin-top:0}label{display:block;margin-top:1rem;\
font-weight:600}input[type=text],input[type=password]{width:100%;box-sizing:border-box;\
padding:.6rem;font-size:1rem;margin-top:.3rem}button{margin-top:1.5rem;padding:.6rem 1.4rem;\
font-size:1rem;margin-right:.5rem}.error{color:#c23934;font-weight:600}code{word-break:break-all}";

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{main}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// An HTML response with the headers every page carries (no caching, no framing, no
/// scripts).
pub(crate) fn html(status: StatusCode, title: &str, main: &str, outcome: Outcome) -> Response {
    let mut r = (status, document(title, main)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    reporting(r, outcome)
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(name),
        escape(value)
    )
}

fn error_paragraph(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!(
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>\n",
            escape(e)
        )
    })
}

/// What the login page needs.
pub(crate) struct LoginPage<'a> {
    pub action: &'a str,
    pub txn: &'a str,
    pub app_name: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// The login page: `username` and `password`, posted with the hidden `txn` and
/// `step=login`.
pub(crate) fn login_page(p: &LoginPage<'_>, status: StatusCode, outcome: Outcome) -> Response {
    let (focus_user, focus_password) = if p.username.is_empty() {
        (" autofocus", "")
    } else {
        ("", " autofocus")
    };
    let main = format!(
        "<h1>Log In</h1>\n<p>Log in to continue to <strong>{app}</strong>.</p>\n{error}\
<form method=\"post\" action=\"{action}\">\n{txn}{step}\
<label for=\"username\">Username</label>\n\
<input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" \
autocapitalize=\"none\" spellcheck=\"false\" required{focus_user}>\n\
<label for=\"password\">Password</label>\n\
<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required{focus_password}>\n\
<button type=\"submit\" id=\"Login\">Log In</button>\n</form>\n",
        app = escape(p.app_name),
        error = error_paragraph(p.error),
        action = escape(p.action),
        txn = hidden("txn", p.txn),
        step = hidden("step", "login"),
        username = escape(p.username),
    );
    html(status, "Login | Salesforce", &main, outcome)
}

/// The consent page: two submit buttons named `decision` (`allow`, `deny`).
pub(crate) fn consent_page(
    action: &str,
    txn: &str,
    app_name: &str,
    username: &str,
    scopes: &str,
) -> Response {
    let items: String = scopes
        .split_whitespace()
        .map(|s| format!("<li><code>{}</code></li>\n", escape(s)))
        .collect();
    let main = format!(
        "<h1>Allow Access?</h1>\n<p><strong>{app}</strong> is asking to access your data as \
<strong>{user}</strong>. It will be able to:</p>\n<ul id=\"scopes\">\n{items}</ul>\n\
<form method=\"post\" action=\"{action}\">\n{txn}{step}\
<button type=\"submit\" id=\"oaapprove\" name=\"decision\" value=\"allow\">Allow</button>\n\
<button type=\"submit\" id=\"oadeny\" name=\"decision\" value=\"deny\">Deny</button>\n</form>\n",
        app = escape(app_name),
        user = escape(username),
        action = escape(action),
        txn = hidden("txn", txn),
        step = hidden("step", "consent"),
    );
    html(
        StatusCode::OK,
        "Allow Access | Salesforce",
        &main,
        Outcome::Consent,
    )
}

/// The device page asking for the user code (`user_code`, `step=code`).
pub(crate) fn user_code_page(
    action: &str,
    prefill: &str,
    error: Option<&str>,
    outcome: Outcome,
) -> Response {
    let main = format!(
        "<h1>Connect Your Device</h1>\n<p>Enter the code shown on your device.</p>\n{error}\
<form method=\"post\" action=\"{action}\">\n{step}\
<label for=\"user_code\">Code</label>\n\
<input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{prefill}\" autocomplete=\"one-time-code\" \
autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"16\" required autofocus>\n\
<button type=\"submit\" id=\"connect\">Connect</button>\n</form>\n",
        error = error_paragraph(error),
        action = escape(action),
        step = hidden("step", "code"),
        prefill = escape(prefill),
    );
    html(StatusCode::OK, "Connect | Salesforce", &main, outcome)
}

/// The page shown instead of a redirect when the client or redirect URI is bad
/// (`docs/reference/salesforce-oauth.md#the-authorize-endpoint`): the OAuth error as the urlencoded
/// line Salesforce shows, inside `<p id="oauth-error">`.
pub(crate) fn oauth_error_page(error: Outcome, description: &str) -> Response {
    let line = serde_urlencoded::to_string([
        ("error", error.to_string().as_str()),
        ("error_description", description),
    ])
    .unwrap_or_default()
    .replace('+', "%20");
    let main = format!(
        "<h1>OAuth Error</h1>\n<p>We can't authorize you because of an OAuth error. \
For more information, contact your Salesforce administrator.</p>\n\
<p id=\"oauth-error\"><code>{}</code></p>\n",
        escape(&line)
    );
    html(
        StatusCode::BAD_REQUEST,
        "OAuth Error | Salesforce",
        &main,
        error,
    )
}

/// A page with a heading and one paragraph (device flow results, expired transactions).
pub(crate) fn message_page(
    status: StatusCode,
    title: &str,
    text: &str,
    outcome: Outcome,
) -> Response {
    let main = format!(
        "<h1>{}</h1>\n<p id=\"message\">{}</p>\n",
        escape(title),
        escape(text)
    );
    html(status, &format!("{title} | Salesforce"), &main, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
