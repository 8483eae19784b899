//! JWT assertions as the token endpoints read them: a compact JWS split into its parts, with
//! only the header field and the claims the grants check read out of the JSON.
//!
//! Every claim the Salesforce and Marketing Cloud Intelligence grants check is read in one
//! pass into [`Claims`]; the other fields are skipped without being built. Reading the whole
//! object into a `serde_json::Value` first cost a JWT grant a map, a string per key and value,
//! and their drop: more than anything else in the grant but the signature check.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::{DecodeSliceError, Engine};
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::rsa_key::Rs256Key;

/// The longest RS256 signature checked (an 8192-bit key's), in bytes.
const MAX_SIGNATURE: usize = 8192 / 8;
/// The most decoded bytes of a header or claims set read without a heap buffer.
const STACK_JSON: usize = 1024;

/// A compact JWS split into its parts; padding (`=`) tolerated as Salesforce does.
pub(crate) struct ParsedJwt<'a> {
    /// The header's `alg`.
    pub alg: ClaimValue,
    pub claims: Claims,
    signing_input: Cow<'a, str>,
    signature: Cow<'a, str>,
}

/// The claims the grants check, each as the assertion sent it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Claims {
    pub iss: ClaimValue,
    pub sub: ClaimValue,
    /// The old name of `sub`.
    pub prn: ClaimValue,
    pub aud: ClaimValue,
    pub exp: ClaimValue,
    pub iat: ClaimValue,
    pub nbf: ClaimValue,
    pub jti: ClaimValue,
}

/// The names of [`Claims`]' fields, in the order [`Claims::from_fields`] takes them.
const CLAIM_NAMES: [&str; 8] = ["iss", "sub", "prn", "aud", "exp", "iat", "nbf", "jti"];

/// One field of a JSON object, reduced to what a claim can be read as.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum ClaimValue {
    /// Not sent.
    #[default]
    Absent,
    Str(String),
    /// A number, fractions cut toward zero (an integer beyond `i64` saturates).
    Number(i64),
    /// An array: the strings in it.
    Strings(Vec<String>),
    /// `true`, `false`, `null`, an object, or a number no `i64` can hold the sign of.
    Other,
}

impl ClaimValue {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A NumericDate sent as a number or a numeric string.
    pub(crate) fn as_date(&self) -> Option<i64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// An `aud`-like claim's strings: the one string, or the strings of an array (none for
    /// anything else). Iterated in place: a grant only looks for one it accepts.
    pub(crate) fn strings(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[String]) = match self {
            Self::Str(s) => (Some(s), &[]),
            Self::Strings(list) => (None, list),
            _ => (None, &[]),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

impl<'a> ParsedJwt<'a> {
    /// `token` split and its header and claims read; `None` unless both are JSON objects.
    pub(crate) fn parse(token: &'a str) -> Option<Self> {
        let token = token.trim();
        if !token.contains('=') {
            let (alg, claims, signing_input, signature) = split(token)?;
            return Some(Self {
                alg,
                claims,
                signing_input: Cow::Borrowed(signing_input),
                signature: Cow::Borrowed(signature),
            });
        }
        // Padding is rare: only then is the token copied without it.
        let unpadded: String = token.chars().filter(|c| *c != '=').collect();
        let (alg, claims, signing_input, signature) = split(&unpadded)?;
        Some(Self {
            alg,
            claims,
            signing_input: Cow::Owned(signing_input.to_owned()),
            signature: Cow::Owned(signature.to_owned()),
        })
    }

    /// Whether the header says RS256 and the signature verifies with `key`.
    pub(crate) fn verify_rs256(&self, key: &Rs256Key) -> bool {
        if self.alg.as_str() != Some("RS256") {
            return false;
        }
        // Decoded on the stack: a signature longer than the longest key's cannot verify.
        let mut signature = [0_u8; MAX_SIGNATURE];
        let Ok(len) = URL_SAFE_NO_PAD.decode_slice(self.signature.as_bytes(), &mut signature)
        else {
            return false;
        };
        key.verifies(self.signing_input.as_bytes(), &signature[..len])
    }
}

/// The header's `alg`, the claims, the signing input and the signature of an unpadded
/// `token`.
fn split(token: &str) -> Option<(ClaimValue, Claims, &str, &str)> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, claims) = signing_input.split_once('.')?;
    if claims.contains('.') || header.is_empty() || claims.is_empty() || signature.is_empty() {
        return None;
    }
    let [alg] = object_fields(header, &["alg"])?;
    let claims = Claims::from_fields(object_fields(claims, &CLAIM_NAMES)?);
    Some((alg, claims, signing_input, signature))
}

impl Claims {
    fn from_fields(fields: [ClaimValue; CLAIM_NAMES.len()]) -> Self {
        let [iss, sub, prn, aud, exp, iat, nbf, jti] = fields;
        Self {
            iss,
            sub,
            prn,
            aud,
            exp,
            iat,
            nbf,
            jti,
        }
    }
}

/// The fields `names` of the JSON object that `part` encodes (base64url), or `None` when it
/// is not valid base64url, UTF-8 and JSON, or not an object. A name sent twice keeps its last
/// value, as a JSON object read whole would.
fn object_fields<const N: usize>(part: &str, names: &[&str; N]) -> Option<[ClaimValue; N]> {
    // A header or claims set of a few hundred bytes is decoded on the stack; a larger one
    // (which the grant still reads) on the heap.
    let mut on_stack = [0_u8; STACK_JSON];
    let on_heap;
    let json = match URL_SAFE_NO_PAD.decode_slice(part, &mut on_stack) {
        Ok(len) => &on_stack[..len],
        Err(DecodeSliceError::OutputSliceTooSmall) => {
            on_heap = URL_SAFE_NO_PAD.decode(part).ok()?;
            &on_heap[..]
        }
        Err(DecodeSliceError::DecodeError(_)) => return None,
    };
    // Checked whole first: the fields skipped below are not, and a JSON text is UTF-8.
    let json = std::str::from_utf8(json).ok()?;
    let mut reader = serde_json::Deserializer::from_str(json);
    let fields = ObjectFields { names }.deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(fields)
}

/// Reads the fields `names` of a JSON object.
struct ObjectFields<'n, const N: usize> {
    names: &'n [&'n str; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for ObjectFields<'_, N> {
    type Value = [ClaimValue; N];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for ObjectFields<'_, N> {
    type Value = [ClaimValue; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: [ClaimValue; N] = std::array::from_fn(|_| ClaimValue::Absent);
        while let Some(wanted) = map.next_key_seed(FieldName { names: self.names })? {
            match wanted {
                Some(i) => fields[i] = map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

/// A key of the object: the index of the name it is among `names`, if any.
struct FieldName<'n, const N: usize> {
    names: &'n [&'n str; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for FieldName<'_, N> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for FieldName<'_, N> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.names.iter().position(|n| *n == name))
    }
}

impl<'de> serde::Deserialize<'de> for ClaimValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ClaimValueVisitor)
    }
}

struct ClaimValueVisitor;

impl<'de> Visitor<'de> for ClaimValueVisitor {
    type Value = ClaimValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Str(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Str(s))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Number(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Number(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<ClaimValue, E> {
        // `as` saturates: a date far beyond i64 reads as the furthest one.
        Ok(if n.is_finite() {
            ClaimValue::Number(n.trunc() as i64)
        } else {
            ClaimValue::Other
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<ClaimValue, E> {
        Ok(ClaimValue::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ClaimValue, A::Error> {
        let mut strings = Vec::new();
        while let Some(item) = seq.next_element::<ClaimValue>()? {
            if let ClaimValue::Str(s) = item {
                strings.push(s);
            }
        }
        Ok(ClaimValue::Strings(strings))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClaimValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ClaimValue::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn parse_tolerates_padding_and_reads_string_dates() {
        let h = encode(r#"{"alg":"RS256"}"#);
        let c = encode(r#"{"iss":"k","sub":"u","aud":["a","b"],"exp":"1795610048"}"#);
        let token = format!("{h}==.{c}=.c2ln");
        let jwt = ParsedJwt::parse(&token).unwrap();
        assert_eq!(jwt.alg.as_str(), Some("RS256"));
        assert_eq!(jwt.claims.exp.as_date(), Some(1_795_610_048));
        assert_eq!(jwt.claims.aud.strings().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(jwt.signing_input, format!("{h}.{c}"));
        assert_eq!(jwt.signature, "c2ln");
        assert!(ParsedJwt::parse("a.b").is_none());
        assert!(ParsedJwt::parse("not-a-jwt").is_none());
        assert!(ParsedJwt::parse("....").is_none());
    }

    #[test]
    fn a_claim_sent_twice_keeps_its_last_value_and_other_fields_are_skipped() {
        let h = encode(r#"{"typ":"JWT","alg":"none","alg":"RS256","x":{"y":[1,{"z":null}]}}"#);
        let c = encode(r#"{"sub":"a","sub":7,"exp":1.9,"aud":["a",2,"b",["c"]],"n":[]}"#);
        let token = format!("{h}.{c}.c2ln");
        let jwt = ParsedJwt::parse(&token).unwrap();
        assert_eq!(jwt.alg.as_str(), Some("RS256"));
        assert_eq!(jwt.claims.sub, ClaimValue::Number(7));
        assert_eq!(jwt.claims.sub.as_str(), None);
        assert_eq!(jwt.claims.exp.as_date(), Some(1));
        assert_eq!(jwt.claims.aud.strings().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(jwt.claims.iss, ClaimValue::Absent);
    }

    #[test]
    fn claims_of_any_size_parse_and_bad_base64_does_not() {
        let h = encode(r#"{"alg":"RS256"}"#);
        // Claims of 20 bytes and `len`: around the size decoded on the stack, and far beyond.
        for len in [
            0,
            STACK_JSON - 21,
            STACK_JSON - 20,
            STACK_JSON - 19,
            10 * STACK_JSON,
        ] {
            let jti = "j".repeat(len);
            let c = encode(&format!(r#"{{"jti":"{jti}","sub":"u"}}"#));
            let token = format!("{h}.{c}.c2ln");
            let jwt = ParsedJwt::parse(&token).unwrap();
            assert_eq!(jwt.claims.jti.as_str(), Some(jti.as_str()), "{len}");
            assert_eq!(jwt.claims.sub.as_str(), Some("u"));
        }
        for bad in [
            "e30*",
            "e",
            "e30$e30",
            &format!("{}*", encode(&"x".repeat(2000))),
        ] {
            assert!(
                ParsedJwt::parse(&format!("{h}.{bad}.c2ln")).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_objects_of_valid_json_parse() {
        let object = encode("{}");
        for bad in [
            "[]",
            "\"x\"",
            "{} {}",
            "{\"a\":}",
            "{\"a\":\"\\x\"}",
            "{\"a\":1,}",
        ] {
            let as_header = format!("{}.{object}.c2ln", encode(bad));
            let as_claims = format!("{object}.{}.c2ln", encode(bad));
            assert!(
                ParsedJwt::parse(&as_header).is_none(),
                "{bad} as the header"
            );
            assert!(
                ParsedJwt::parse(&as_claims).is_none(),
                "{bad} as the claims"
            );
        }
        let not_utf8 = URL_SAFE_NO_PAD.encode(b"{\"a\":\"\xff\"}");
        assert!(ParsedJwt::parse(&format!("{object}.{not_utf8}.c2ln")).is_none());
        assert!(ParsedJwt::parse(&format!("{object}.{object}.c2ln")).is_some());
    }
}
