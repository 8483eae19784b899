//! [`AuthScheme`]: how a token becomes request headers.

use http::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use crate::{AccessToken, BusinessUnitId, Error, TokenKind};

/// The header naming the Pardot business unit a request is for.
pub const BUSINESS_UNIT_HEADER: &str = "Pardot-Business-Unit-Id";

/// How a token is put on a request.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use pardot_auth_core::{AccessToken, AuthScheme, BusinessUnitId, Expiry, TokenKind};
///
/// let now = SystemTime::now();
/// let token = AccessToken::new(TokenKind::SalesforceBearer, "00Dx!tok".into(), now,
///     Expiry::Estimated(now + Duration::from_secs(7200)));
/// let bu: BusinessUnitId = "0Uv5A000000PAuM".parse().unwrap();
/// let headers = AuthScheme::for_pardot(&token, Some(&bu)).unwrap().headers(&token).unwrap();
/// assert_eq!(headers["authorization"], "Bearer 00Dx!tok");
/// assert_eq!(headers["pardot-business-unit-id"], "0Uv5A000000PAuMSAW");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>` and `Pardot-Business-Unit-Id: <bu>`.
    PardotBearer(BusinessUnitId),
    /// `Authorization: Pardot api_key=<api_key>, user_key=<user_key>`.
    PardotApiKey,
    /// `Authorization: Bearer <token>` alone (Salesforce REST, MCI).
    Bearer,
}

impl AuthScheme {
    /// The scheme for calling the Pardot API with `token`. A Salesforce token needs a business
    /// unit; an MCI token cannot call Pardot.
    pub fn for_pardot(
        token: &AccessToken,
        business_unit: Option<&BusinessUnitId>,
    ) -> Result<Self, Error> {
        match (token.kind(), business_unit) {
            (TokenKind::SalesforceBearer, Some(bu)) => Ok(Self::PardotBearer(bu.clone())),
            (TokenKind::SalesforceBearer, None) => Err(Error::config(
                "a Salesforce token needs a business unit id (Pardot-Business-Unit-Id, 18 characters starting with 0Uv) to call Pardot",
            )),
            (TokenKind::LegacyApiKey { .. }, _) => Ok(Self::PardotApiKey),
            (TokenKind::MciBearer, _) => Err(Error::config(
                "a Marketing Cloud Intelligence token cannot call the Pardot API",
            )),
        }
    }

    /// The headers that authenticate a request made with `token` under this scheme. The
    /// `Authorization` value is marked sensitive so HTTP stacks do not log it.
    pub fn headers(&self, token: &AccessToken) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        self.apply(token, &mut headers)?;
        Ok(headers)
    }

    /// Adds the authentication headers for `token` to `headers`, replacing any present.
    pub fn apply(&self, token: &AccessToken, headers: &mut HeaderMap) -> Result<(), Error> {
        let authorization = match (self, token.kind()) {
            (Self::PardotBearer(_), TokenKind::SalesforceBearer)
            | (Self::Bearer, TokenKind::SalesforceBearer | TokenKind::MciBearer) => {
                format!("Bearer {}", token.secret().expose_secret())
            }
            (Self::PardotApiKey, TokenKind::LegacyApiKey { user_key }) => format!(
                "Pardot api_key={}, user_key={}",
                token.secret().expose_secret(),
                user_key.expose_secret()
            ),
            (scheme, kind) => {
                return Err(Error::config(format!(
                    "a {kind:?} token cannot be sent with the {} scheme",
                    scheme.name()
                )));
            }
        };
        let mut value = HeaderValue::from_str(&authorization).map_err(|_| {
            Error::invalid_response("the token contains characters not allowed in a header")
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        if let Self::PardotBearer(bu) = self {
            let value = HeaderValue::from_str(bu.as_str())
                .map_err(|_| Error::config("business unit id is not a valid header value"))?;
            headers.insert(HeaderName::from_static("pardot-business-unit-id"), value);
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        match self {
            Self::PardotBearer(_) => "Pardot Bearer",
            Self::PardotApiKey => "Pardot api_key",
            Self::Bearer => "Bearer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expiry;
    use std::time::{Duration, SystemTime};

    fn token(kind: TokenKind) -> AccessToken {
        let now = SystemTime::now();
        AccessToken::new(
            kind,
            "sekrit".into(),
            now,
            Expiry::Known(now + Duration::from_secs(60)),
        )
    }

    #[test]
    fn legacy_header() {
        let t = token(TokenKind::LegacyApiKey {
            user_key: "uk".into(),
        });
        let h = AuthScheme::for_pardot(&t, None)
            .unwrap()
            .headers(&t)
            .unwrap();
        assert_eq!(h[AUTHORIZATION], "Pardot api_key=sekrit, user_key=uk");
        assert!(h[AUTHORIZATION].is_sensitive());
        assert!(h.get(BUSINESS_UNIT_HEADER).is_none());
    }

    #[test]
    fn salesforce_token_needs_a_business_unit() {
        let t = token(TokenKind::SalesforceBearer);
        let e = AuthScheme::for_pardot(&t, None).unwrap_err();
        assert_eq!(e.class(), crate::ErrorClass::CallerBug);
    }

    #[test]
    fn wrong_scheme_for_the_kind_is_refused() {
        let mci = token(TokenKind::MciBearer);
        assert!(AuthScheme::for_pardot(&mci, None).is_err());
        assert!(AuthScheme::PardotApiKey.headers(&mci).is_err());
        let h = AuthScheme::Bearer.headers(&mci).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer sekrit");
        let e = AuthScheme::PardotApiKey
            .headers(&token(TokenKind::SalesforceBearer))
            .unwrap_err();
        assert!(!e.to_string().contains("sekrit"));
    }
}
