//! The person in the web server flow, played over plain HTTP: open the authorize URL, read the
//! mock's login form, post it, allow on the consent page when it shows, and follow the
//! redirect to the loopback receiver.

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use url::Url;

/// What happened on the way to the receiver.
pub(crate) struct Steps {
    /// The Allow/Deny page was shown (and answered `allow`).
    pub(crate) consent_shown: bool,
}

/// Drives the login from `authorize` to the receiver's "Signed in" page.
pub(crate) async fn over_http(
    http: &reqwest::Client,
    authorize: &Url,
    username: &str,
    password: &str,
) -> Result<Steps> {
    let page = http.get(authorize.clone()).send().await?;
    ensure!(
        page.status() == StatusCode::OK,
        "authorize answered {}",
        page.status()
    );
    let html = page.text().await?;
    let login = Form::parse(&html).context("the authorize page has no form")?;
    ensure!(
        login.has_input("username") && login.has_input("password"),
        "the login form lacks username/password fields"
    );
    let mut fields = login.hidden.clone();
    fields.push(("username".into(), username.into()));
    fields.push(("password".into(), password.into()));
    let mut response = http
        .post(authorize.join(&login.action)?)
        .form(&fields)
        .send()
        .await?;
    let mut consent_shown = false;
    // At most one consent page stands between the login and the redirect.
    for _ in 0..2 {
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .context("a redirect without Location")?
                .to_str()?
                .to_owned();
            let target = authorize.join(&location)?;
            ensure!(
                !target.query_pairs().any(|(k, _)| k == "error"),
                "the mock redirected with an error: {target}"
            );
            let landed = http.get(target).send().await?;
            let status = landed.status();
            let text = landed.text().await?;
            ensure!(
                status == StatusCode::OK && text.contains("Signed in"),
                "the receiver answered {status}: {text}"
            );
            return Ok(Steps { consent_shown });
        }
        let status = response.status();
        let html = response.text().await?;
        let Some(form) = Form::parse(&html).filter(|_| html.contains("name=\"decision\"")) else {
            bail!("expected a redirect or the Allow page, got {status}: {html}");
        };
        consent_shown = true;
        let mut fields = form.hidden.clone();
        fields.push(("decision".into(), "allow".into()));
        response = http
            .post(authorize.join(&form.action)?)
            .form(&fields)
            .send()
            .await?;
    }
    bail!("no redirect to the receiver after the login and consent pages")
}

/// The first `<form>` of a page: its action, hidden fields and the names of its inputs.
pub(crate) struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    inputs: Vec<String>,
}

impl Form {
    /// Reads the first form of `html` (the mock writes plain, double-quoted HTML5).
    pub(crate) fn parse(html: &str) -> Option<Self> {
        let start = html.find("<form")?;
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e);
        let form = &html[start..end];
        let open = &form[..form.find('>')?];
        let action = attr(open, "action").unwrap_or_default();
        let mut hidden = Vec::new();
        let mut inputs = Vec::new();
        for tag in form.split("<input").skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            if attr(tag, "type").as_deref() == Some("hidden") {
                hidden.push((name.clone(), attr(tag, "value").unwrap_or_default()));
            }
            inputs.push(name);
        }
        Some(Self {
            action,
            hidden,
            inputs,
        })
    }

    fn has_input(&self, name: &str) -> bool {
        self.inputs.iter().any(|i| i == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = r#"<main><h1>Log In</h1><p class="error">x &amp; y</p>
<form method="post" action="/services/oauth2/authorize?a=1&amp;b=2">
<input type="hidden" name="txn" value="T&quot;1">
<input type="hidden" name="step" value="login">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="" required autofocus>
<input type="password" id="password" name="password" required>
<button type="submit" id="Login">Log In</button>
</form></main>"#;

    #[test]
    fn reads_the_action_hidden_fields_and_inputs() {
        let form = Form::parse(LOGIN).unwrap();
        assert_eq!(form.action, "/services/oauth2/authorize?a=1&b=2");
        assert_eq!(
            form.hidden,
            [
                ("txn".to_owned(), "T\"1".to_owned()),
                ("step".to_owned(), "login".to_owned())
            ]
        );
        assert!(form.has_input("username") && form.has_input("password"));
        assert!(!form.has_input("decision"));
    }

    #[test]
    fn a_page_without_a_form_has_none() {
        assert!(Form::parse("<p>Signed in</p>").is_none());
    }

    #[test]
    fn attributes_need_their_exact_name() {
        let tag = r#"<input data-name="no" name="yes" value="a&lt;b&gt;c&#39;d">"#;
        assert_eq!(attr(tag, "name").as_deref(), Some("yes"));
        assert_eq!(attr(tag, "value").as_deref(), Some("a<b>c'd"));
        assert_eq!(attr(tag, "type"), None);
    }
}
