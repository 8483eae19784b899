//! Safe excerpts of what a server sent, for error messages and logs: the one redactor.
//!
//! An error body is not supposed to hold a credential, but proxies and debugging endpoints
//! echo requests (`Authorization: Bearer …`, a posted form, a JSON body). Every piece of
//! server text that reaches an error, a `Display`, a `Debug` or a log goes through
//! [`excerpt`] (bounded) or [`redact`] (whole), which replace with `[redacted]`:
//!
//! - every run of [`REDACTED_RUN`] or more token characters (`A-Z a-z 0-9 . _ ~ + = ! -`):
//!   legacy api_keys and user_keys (32 hex digits), long access and refresh tokens, JWTs;
//! - shorter runs shaped like a credential: a Salesforce access token or session id
//!   (`00D…!…`), a Salesforce refresh token (`5Aep861…`), a JWT (`eyJ…` in three dotted parts);
//! - the value after `Bearer` or `OAuth` (an echoed `Authorization` header);
//! - the value of a secret-named field (`access_token`, `refresh_token`, `id_token`, `token`,
//!   `client_secret`, `password`, `api_key`, `user_key`, `assertion`, `code_verifier`, …) in
//!   an echoed form (`password=…`), JSON (`"password":"…"`) or XML (`<password>…</password>`).
//!
//! Words, numbers, ids (15 or 18 characters) and URLs (split by `/` and `:`) stay readable.
//! The text is judged first and cut after: a token crossing the bound is replaced whole, so
//! no part of it is kept.

/// Characters of a token: base64url, base64 (`+`, `=`), hex, Salesforce's `!` and `.`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '+' | '=' | '!' | '-')
}

/// The shortest run of token characters that is redacted whatever its shape.
pub const REDACTED_RUN: usize = 32;

/// What replaces a secret.
const MARK: &str = "[redacted]";

/// Field names whose value is a secret, matched case-insensitively on the end of the name
/// (`access_token`, `refresh_token`, `new_password`, `client_assertion` all match).
const SECRET_FIELD_SUFFIXES: &[&str] = &[
    "token",
    "secret",
    "password",
    "api_key",
    "user_key",
    "assertion",
    "code_verifier",
];

/// Authorization schemes whose next word is a credential.
const SCHEMES: &[&str] = &["bearer", "oauth"];

/// At most `max_chars` characters of `body` (lossy UTF-8, never cut inside a character),
/// trimmed (whitespace and byte-order marks), with every secret replaced by `[redacted]`
/// (see the [module](self)). The whole text is judged before it is cut: a secret crossing
/// the bound is replaced whole; a cut is marked `…`.
///
/// ```
/// use pardot_auth_core::redact::excerpt;
/// let body = b"Bearer 00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3 refused";
/// assert_eq!(excerpt(body, 200), "Bearer [redacted] refused");
/// assert_eq!(excerpt(b"grant_type=password&password=hunter2", 200), "grant_type=password&password=[redacted]");
/// assert_eq!(excerpt("Session expired or invalid".as_bytes(), 7), "Session…");
/// ```
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    redact_bounded(
        text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'),
        max_chars,
    )
}

/// `text` whole, with every secret replaced by `[redacted]` (see the [module](self)).
pub fn redact(text: &str) -> String {
    redact_bounded(text, usize::MAX)
}

/// What the text just before a run says about the run.
#[derive(Clone, Copy)]
enum Context {
    /// Nothing: the run is judged on its own.
    Plain,
    /// After `Bearer ` or `OAuth `: the value runs to a blank, a quote or a delimiter.
    SchemeValue,
    /// After `"secret_field":"`: the value runs to the closing quote.
    JsonString,
    /// After `"secret_field":` (no quote): the value is the run.
    JsonBare,
    /// After `<secret_field>`: the value runs to the next `<`.
    XmlText,
}

/// Where a secret that starts at `start` in `text` ends, read in `context`; `None` when the run
/// `text[start..run_end]` is not a secret. The second value is how many leading bytes are kept
/// (a form field's `name=`).
fn secret_at(text: &str, start: usize, run_end: usize, context: Context) -> Option<(usize, usize)> {
    let rest = &text[start..];
    let run = &text[start..run_end];
    let up_to = |stop: &dyn Fn(char) -> bool| rest.find(stop).map_or(text.len(), |j| start + j);
    match context {
        Context::SchemeValue => {
            return Some((up_to(&|c| c.is_whitespace() || is_delimiter(c)), 0));
        }
        Context::JsonString => return Some((json_string_end(text, start), 0)),
        Context::JsonBare => return Some((run_end, 0)),
        Context::XmlText => return Some((up_to(&|c| c == '<'), 0)),
        Context::Plain => {}
    }
    if let Some(eq) = run.find('=')
        && eq > 0
        && is_secret_field(&run[..eq])
    {
        let value_start = start + eq + 1;
        let end = text[value_start..]
            .find(|c: char| c.is_whitespace() || is_delimiter(c))
            .map_or(text.len(), |j| value_start + j);
        return (end > value_start).then_some((end, eq + 1));
    }
    looks_like_token(run).then_some((run_end, 0))
}

/// Ends a form value or an echoed header value.
fn is_delimiter(c: char) -> bool {
    matches!(c, '&' | '"' | '\'' | ',' | ';' | '<' | '>')
}

/// The byte after the last character of a JSON string's content starting at `start` (the
/// position of its closing quote, or the end of the text), skipping `\"` escapes.
fn json_string_end(text: &str, start: usize) -> usize {
    let mut escaped = false;
    for (j, c) in text[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return start + j,
            _ => {}
        }
    }
    text.len()
}

fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_FIELD_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// A run of token characters shaped like a credential, whatever its context.
fn looks_like_token(run: &str) -> bool {
    // Token characters are ASCII, so the byte length is the character count.
    run.len() >= REDACTED_RUN
        || (run.contains("00D") && run.contains('!'))
        || run.starts_with("5Aep861")
        || run
            .find("eyJ")
            .is_some_and(|j| run[j..].matches('.').count() >= 2)
}

/// What the separator characters between the previous run and the next one make of the next.
fn context_after(prev_run: &str, char_before_prev: Option<char>, separators: &str) -> Context {
    if separators.is_empty() {
        return Context::Plain;
    }
    if SCHEMES.iter().any(|s| prev_run.eq_ignore_ascii_case(s))
        && separators.chars().all(|c| c == ' ' || c == '\t')
    {
        return Context::SchemeValue;
    }
    if !is_secret_field(prev_run) {
        return Context::Plain;
    }
    if char_before_prev == Some('<') && separators == ">" {
        return Context::XmlText;
    }
    let Some(after_quote) = separators.strip_prefix('"') else {
        return Context::Plain;
    };
    let Some(value) = after_quote.trim_start().strip_prefix(':') else {
        return Context::Plain;
    };
    match value.trim_start() {
        "" => Context::JsonBare,
        "\"" => Context::JsonString,
        _ => Context::Plain,
    }
}

fn redact_bounded(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut consumed = 0usize;
    let mut i = 0usize;
    // The previous plain run (its bounds) and where the separators after it start.
    let mut prev: Option<(usize, usize)> = None;
    while let Some(c) = text[i..].chars().next() {
        if consumed >= max_chars {
            out.push('…');
            return out;
        }
        if !is_token_char(c) {
            out.push(c);
            i += c.len_utf8();
            consumed += 1;
            continue;
        }
        let run_end = text[i..]
            .find(|c: char| !is_token_char(c))
            .map_or(text.len(), |j| i + j);
        let context = prev.map_or(Context::Plain, |(s, e)| {
            context_after(&text[s..e], text[..s].chars().next_back(), &text[e..i])
        });
        if let Some((end, kept)) = secret_at(text, i, run_end, context) {
            out.push_str(&text[i..i + kept]);
            out.push_str(MARK);
            consumed += text[i..end].chars().count();
            i = end;
            prev = None;
            continue;
        }
        let run = &text[i..run_end];
        let room = max_chars - consumed;
        if run.len() > room {
            out.push_str(&run[..room]);
            out.push('…');
            return out;
        }
        out.push_str(run);
        consumed += run.len();
        prev = Some((i, run_end));
        i = run_end;
    }
    out
}
/// One example of each secret shape the redactor masks, as a server could echo it: `(shape,
/// echoed text, a fragment of the secret that must never appear in what is kept)`. Every
/// crate's tests echo these in each of its unparsable-answer paths.
pub const ECHOED_SECRETS: &[(&str, &str, &str)] = &[
    (
        "api_key",
        "api_key 5a1698a233e73d7c8ccd60d775fbc68a",
        "233e73d7c8",
    ),
    (
        "access token",
        "00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3",
        "AQ4AQFzXl9",
    ),
    ("session id", "sid=x 00Dxx0000001gPL!AR8AQs3ss", "AR8AQs3ss"),
    (
        "refresh token",
        "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJVNMFpv4Fqu1",
        "TSESvWeug",
    ),
    (
        "JWT",
        "assertion: eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzYSJ9.c2lnbmF0dXJl",
        "c2lnbmF0dXJl",
    ),
    (
        "bearer header",
        "Authorization: Bearer sk-live/42xyz",
        "42xyz",
    ),
    ("OAuth header", "Authorization: OAuth tok!en-77q", "en-77q"),
    (
        "echoed form",
        "grant_type=password&client_secret=hunter2hunter&password=p%40ss-word9&refresh_token=rt-01",
        "hunter2",
    ),
    (
        "echoed form password",
        "username=u&password=p%40ss-word9",
        "ss-word9",
    ),
    (
        "echoed form refresh token",
        "refresh_token=rt-01&x=1",
        "rt-01",
    ),
];

/// The shape of the first of [`ECHOED_SECRETS`] whose secret fragment appears in `text`
/// (`None` when `text` keeps none): for tests.
pub fn leaked_secret(text: &str) -> Option<&'static str> {
    ECHOED_SECRETS
        .iter()
        .find(|(_, _, fragment)| text.contains(fragment))
        .map(|(shape, _, _)| *shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_and_words_kept() {
        let sf = "00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3";
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzYSJ9.c2lnbmF0dXJlLWJ5dGVz";
        let key = "0123456789abcdef0123456789abcdef";
        let body = format!(
            r#"{{"error":"x","echo":"Authorization: Bearer {sf}","assertion":"{jwt}","api_key":"{key}"}}"#
        );
        let out = excerpt(body.as_bytes(), 10_000);
        for secret in [sf, jwt, key] {
            assert!(!out.contains(secret), "{out}");
        }
        assert_eq!(out.matches("[redacted]").count(), 3, "{out}");
        assert!(out.contains("Authorization: Bearer"), "{out}");

        let kept = "INVALID_SESSION_ID: Session expired or invalid at \
                    https://acme.my.salesforce.com/services/data/v60.0/sobjects 00D5g00000AcmePEAS";
        assert_eq!(redact(kept), kept);
    }

    #[test]
    fn bounded_on_characters_never_inside_one() {
        let body = "é".repeat(600);
        let out = excerpt(body.as_bytes(), 512);
        assert_eq!(out.chars().count(), 513);
        assert!(out.ends_with('…'));
        // Invalid UTF-8 and a cut through a multi-byte character do not panic.
        let mut bytes = "ab".as_bytes().to_vec();
        bytes.extend_from_slice(&"é".as_bytes()[..1]);
        assert_eq!(excerpt(&bytes, 10), "ab\u{fffd}");
        // A token crossing the bound is redacted whole, even when the part kept is short; the
        // mark stands for all of it, so only what follows it is cut.
        let long = format!("token {}", "A".repeat(100));
        assert_eq!(excerpt(long.as_bytes(), 40), "token [redacted]");
        assert_eq!(excerpt(long.as_bytes(), 10), "token [redacted]");
        let more = format!("{long} refused");
        assert_eq!(excerpt(more.as_bytes(), 10), "token [redacted]…");
        // A short word cut by the bound is kept up to the bound.
        assert_eq!(excerpt(b"token refused", 9), "token ref…");
        assert_eq!(excerpt(b"", 10), "");
    }

    #[test]
    fn short_credentials_are_redacted_by_shape_and_context() {
        for (text, expected) in [
            ("token 00Dxx!AR8 refused", "token [redacted] refused"),
            ("5Aep861abc expired", "[redacted] expired"),
            (
                "assertion eyJhbGciOiJub25lIn0.e30. bad",
                "assertion [redacted] bad",
            ),
            (
                "Authorization: Bearer abc123",
                "Authorization: Bearer [redacted]",
            ),
            (
                "Authorization: OAuth abc/12=",
                "Authorization: OAuth [redacted]",
            ),
            (
                "grant_type=password&password=p%40ss w",
                "grant_type=password&password=[redacted] w",
            ),
            (
                "refresh_token=r1&client_secret=s&x=1",
                "refresh_token=[redacted]&client_secret=[redacted]&x=1",
            ),
            (
                r#"{"access_token": "a b\"c", "id": 1}"#,
                r#"{"access_token": "[redacted]", "id": 1}"#,
            ),
            (r#"{"password":12345}"#, r#"{"password":[redacted]}"#),
            (
                "<user_key>k 1</user_key><email>a@b.c</email>",
                "<user_key>[redacted]</user_key><email>a@b.c</email>",
            ),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
        // Names and ordinary words stay.
        for kept in [
            "grant_type=refresh_token",
            r#"{"error":"invalid_token","token_type":"Bearer"}"#,
            "Salesforce 00Dxx0000001gPLEAY is inactive!",
            "API v60.0.1 at https://acme.my.salesforce.com/id/00D/005",
        ] {
            assert_eq!(redact(kept), kept);
        }
    }

    #[test]
    fn a_secret_straddling_the_bound_leaks_nothing() {
        let key = "5a1698a233e73d7c8ccd60d775fbc68a";
        let session = "00Dxx!AR8AQ";
        for secret in [key, session, "eyJhbGciOiJub25lIn0.e30.", "5Aep861short"] {
            let body = format!("<err>bad {secret} end</err>");
            let start = body.find(secret).unwrap_or_default();
            // Every bound from just inside the secret to its end.
            for bound in start + 1..start + secret.len() {
                let out = excerpt(body.as_bytes(), bound);
                assert_eq!(out, "<err>bad [redacted]…", "bound {bound}");
            }
        }
        // Context-bound values too: the field name is kept, the value is not.
        let form = "client_id=k&client_secret=abcdef&x=1";
        for bound in 12..form.len() - 4 {
            let out = excerpt(form.as_bytes(), bound);
            assert!(!out.contains("abc"), "{out}");
        }
    }

    #[test]
    fn every_echoed_shape_is_masked_whole_and_at_every_bound() {
        for (shape, echo, fragment) in ECHOED_SECRETS {
            assert!(echo.contains(fragment), "{shape}");
            let body = format!("<html><pre>POST /services/oauth2/token\n{echo}</pre></html>");
            assert_eq!(
                leaked_secret(&redact(&body)),
                None,
                "{shape}: {}",
                redact(&body)
            );
            for bound in 0..body.chars().count() + 2 {
                let out = excerpt(body.as_bytes(), bound);
                assert_eq!(leaked_secret(&out), None, "{shape} at {bound}: {out}");
            }
        }
    }
}
