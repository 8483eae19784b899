//! A request's query parameters and form fields, parsed once by the front door and handed to
//! every handler.

use axum::http::{HeaderMap, header};

/// Query parameters and form fields of a request, parsed once by the front door.
#[derive(Debug, Clone, Default)]
pub struct RequestParams {
    /// Query-string parameters.
    pub query: Vec<(String, String)>,
    /// Fields of an `application/x-www-form-urlencoded` body.
    pub form: Vec<(String, String)>,
}

impl RequestParams {
    /// A parameter from the form body, else from the query string.
    pub fn get(&self, name: &str) -> Option<&str> {
        form_then_query(&self.form, &self.query, name)
    }

    /// Like [`RequestParams::get`], but an empty value counts as absent.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Parses the query string and, when the body is a form (or has no content type), its
    /// fields; text that does not parse gives no parameters.
    pub(crate) fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        Self {
            query: query.map(pairs).unwrap_or_default(),
            form: if is_form(headers) {
                std::str::from_utf8(body).map(pairs).unwrap_or_default()
            } else {
                Vec::new()
            },
        }
    }
}

/// The decoded pairs of `text`: what `form_urlencoded` (and so `serde_urlencoded`) decodes
/// into pairs of strings.
fn pairs(text: &str) -> Vec<(String, String)> {
    // At most one pair per `&`-separated part: room for all at once, within reason (a
    // body of a million `&` has no pair).
    let mut pairs = Vec::with_capacity(text.split('&').count().min(32));
    for part in text.split('&').filter(|part| !part.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((decoded(name), decoded(value)));
    }
    pairs
}

/// `text` with `+` read as a space and `%XX` as the byte XX (a `%` without two hex digits
/// stays), the bytes then read as UTF-8 with U+FFFD for what is not: `form_urlencoded`'s
/// decoding, written into one buffer of the text's size instead of one grown byte by byte.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let next_coded = |run: &[u8]| memchr::memchr2(b'%', b'+', run);
    let Some(first) = next_coded(bytes) else {
        // Nothing to decode and already UTF-8: most parts of a token request (a JWT
        // assertion is a kilobyte of them), copied without a second look.
        return text.to_owned();
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    // `rest` starts at a `%` or `+` each time round; the plain run after it is copied whole.
    let mut rest = &bytes[first..];
    while !rest.is_empty() {
        let (byte, used) = match rest {
            [b'+', ..] => (b' ', 1),
            [b'%', high, low, ..] => match (hex_digit(*high), hex_digit(*low)) {
                (Some(high), Some(low)) => (high << 4 | low, 3),
                _ => (b'%', 1),
            },
            _ => (b'%', 1),
        };
        out.push(byte);
        rest = &rest[used..];
        let run = next_coded(rest).unwrap_or(rest.len());
        out.extend_from_slice(&rest[..run]);
        rest = &rest[run..];
    }
    String::from_utf8(out)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned())
}

/// The value of an ASCII hex digit.
fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

/// `list` as the owned pairs a [`RequestParams`] holds, for tests that build parameters by hand.
#[cfg(test)]
pub(crate) fn owned_pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn is_form(headers: &HeaderMap) -> bool {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => {
            const FORM: &str = "application/x-www-form-urlencoded";
            ct.get(..FORM.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(FORM))
        }
    }
}

/// The value of `name` in the form fields, else in the query pairs: how the login server
/// reads a parameter, live and in the journal.
pub(crate) fn form_then_query<'a>(
    form: &'a [(String, String)],
    query: &'a [(String, String)],
    name: &str,
) -> Option<&'a str> {
    form.iter()
        .chain(query)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pairs_decode_as_form_urlencoded_does(text in "([a-z=&+%]|%[0-9A-Fa-f]{2}|%[fF][0-9a-fA-F]|é){0,24}") {
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            prop_assert_eq!(pairs(&text), expected);
        }
    }

    #[test]
    fn pairs_keep_empty_values_and_names_without_values() {
        assert_eq!(
            pairs("a=&b&&c=d=e&x+y=%41%ZZ"),
            owned_pairs(&[("a", ""), ("b", ""), ("c", "d=e"), ("x y", "A%ZZ")])
        );
    }
}
