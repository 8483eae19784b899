//! JWT claim sets: the Salesforce JWT bearer assertion and the Marketing Cloud Intelligence
//! client assertion. Signing is the flows' job (`sf-oauth`); verifying is the mock's.

use serde::{Deserialize, Deserializer, Serialize};

/// Claims of a Salesforce OAuth 2.0 JWT bearer assertion (RFC 7523).
///
/// Deserialising accepts what Salesforce accepts: `prn` as an old name for `sub`, and `exp` as
/// a number or a numeric string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtBearerClaims {
    /// The connected app's consumer key.
    pub iss: String,
    /// The Salesforce username to log in as.
    #[serde(alias = "prn")]
    pub sub: String,
    /// The login server: `https://login.salesforce.com`, `https://test.salesforce.com`, or
    /// the My Domain URL.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
}

/// Claims of the client assertion a Marketing Cloud Intelligence service account signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAssertionClaims {
    /// The service account id.
    pub iss: String,
    /// The service account id again.
    pub sub: String,
    /// `https://idp.intelligence.salesforce.com` unless configured otherwise.
    pub aud: String,
    /// Issue time, seconds since the Unix epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: i64,
    /// Optional expiry, seconds since the Unix epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_numeric_date"
    )]
    pub exp: Option<i64>,
    /// A unique id (32 hex characters); the server refuses a repeated one.
    pub jti: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Int(i64),
    Float(f64),
    Text(String),
}

fn to_seconds<E: serde::de::Error>(value: NumberOrString) -> Result<i64, E> {
    match value {
        NumberOrString::Int(n) => Ok(n),
        // JWT NumericDate may be fractional; Salesforce truncates.
        NumberOrString::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
        NumberOrString::Float(_) => Err(E::custom("a date must be a finite number")),
        NumberOrString::Text(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| E::custom(format!("`{s}` is not a number of seconds"))),
    }
}

/// Deserialises a JWT NumericDate sent as a number or a numeric string.
pub fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    to_seconds(NumberOrString::deserialize(d)?)
}

/// Like [`numeric_date`], for an optional claim.
pub fn optional_numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<NumberOrString>::deserialize(d)?
        .map(to_seconds)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_as_number_or_string_and_prn_alias() {
        let a: JwtBearerClaims = serde_json::from_str(
            r#"{"iss":"k","prn":"u@x.com","aud":"https://login.salesforce.com","exp":"1795610048"}"#,
        )
        .unwrap();
        assert_eq!(a.exp, 1_795_610_048);
        assert_eq!(a.sub, "u@x.com");
        let b: JwtBearerClaims =
            serde_json::from_str(r#"{"iss":"k","sub":"u@x.com","aud":"a","exp":1795610048.7}"#)
                .unwrap();
        assert_eq!(b.exp, 1_795_610_048);
        assert!(
            serde_json::from_str::<JwtBearerClaims>(
                r#"{"iss":"k","sub":"u","aud":"a","exp":"soon"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn client_assertion_without_exp() {
        let c: ClientAssertionClaims = serde_json::from_str(
            r#"{"iss":"sa","sub":"sa","aud":"https://idp.intelligence.salesforce.com","iat":1700000000,"jti":"0123456789abcdef0123456789abcdef"}"#,
        )
        .unwrap();
        assert_eq!(c.exp, None);
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("exp"));
    }
}
