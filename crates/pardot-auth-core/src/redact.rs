//! Safe excerpts of what a server sent, for error messages and logs.
//!
//! An error body is not supposed to hold a credential, but proxies and debugging endpoints
//! echo requests (`Authorization: Bearer …`, a posted form). An excerpt is therefore bounded,
//! and every run of 32 or more token characters (`A-Z a-z 0-9 . _ ~ + = ! -`) is replaced
//! by `[redacted]`: Salesforce access tokens (`00D…!AQ…`), refresh tokens, JWTs, legacy
//! api_keys and user_keys (32 hex digits) are all such runs, while words, numbers, ids (15
//! or 18 characters) and URLs (split by `/` and `:`) stay readable.

/// Characters of a token: base64url, base64 (`+`, `=`), hex, Salesforce's `!` and `.`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '+' | '=' | '!' | '-')
}

/// The shortest run of token characters that is redacted.
pub const REDACTED_RUN: usize = 32;

/// At most `max_chars` characters of `body` (lossy UTF-8, never cut inside a character),
/// trimmed, with every run of [`REDACTED_RUN`] or more token characters replaced by
/// `[redacted]`. A run crossing the bound is judged on its whole length (so no part of a long
/// token is kept), and a cut is marked `…`.
///
/// ```
/// use pardot_auth_core::redact::excerpt;
/// let body = b"Bearer 00D5g00000AcmeP!AQ4AQFzXl9pWqyq1rP6dwbD5kK8eX9bHTJ4P5n8yO3cG3 refused";
/// assert_eq!(excerpt(body, 200), "Bearer [redacted] refused");
/// assert_eq!(excerpt("Session expired or invalid".as_bytes(), 7), "Session…");
/// ```
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    redact_bounded(text.trim(), max_chars)
}

/// `text` with every run of [`REDACTED_RUN`] or more token characters replaced by
/// `[redacted]`.
pub fn redact(text: &str) -> String {
    redact_bounded(text, usize::MAX)
}

fn redact_bounded(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut run_start = None;
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count == max_chars {
            if let Some(s) = run_start {
                // Judge the run on its full length, but keep only what lies within the bound.
                let end = text[i..]
                    .find(|c: char| !is_token_char(c))
                    .map_or(text.len(), |j| i + j);
                if end - s >= REDACTED_RUN {
                    out.push_str("[redacted]");
                } else {
                    out.push_str(&text[s..i]);
                }
            }
            out.push('…');
            return out;
        }
        match (is_token_char(c), run_start) {
            (true, None) => run_start = Some(i),
            (true, Some(_)) => {}
            (false, start) => {
                if let Some(s) = start {
                    push_run(&mut out, &text[s..i]);
                    run_start = None;
                }
                out.push(c);
            }
        }
    }
    if let Some(s) = run_start {
        push_run(&mut out, &text[s..]);
    }
    out
}

fn push_run(out: &mut String, run: &str) {
    // Token characters are ASCII, so the byte length is the character count.
    if run.len() >= REDACTED_RUN {
        out.push_str("[redacted]");
    } else {
        out.push_str(run);
    }
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
        // A token crossing the bound is redacted whole, even when the part kept is short.
        let long = format!("token {}", "A".repeat(100));
        assert_eq!(excerpt(long.as_bytes(), 40), "token [redacted]…");
        assert_eq!(excerpt(long.as_bytes(), 10), "token [redacted]…");
        // A short word cut by the bound is kept up to the bound.
        assert_eq!(excerpt(b"token refused", 9), "token ref…");
        assert_eq!(excerpt(b"", 10), "");
    }
}
