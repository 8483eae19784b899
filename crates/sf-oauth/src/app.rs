//! [`ConnectedApp`]: the settings every flow that may send the consumer secret shares (the
//! client, the login host, the consumer key and the optional secret), and the token request
//! they all make with them.

use std::fmt;

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{AccessToken, Error, LoginHost};

use crate::client::OAuthClient;
use crate::error::OAuthError;
use crate::response::TokenResponse;
use crate::types::{ClientId, ClientSecret};

/// A connected app at a login host, as seen by one flow.
#[derive(Clone)]
pub(crate) struct ConnectedApp {
    pub(crate) client: OAuthClient,
    pub(crate) host: LoginHost,
    pub(crate) client_id: ClientId,
    /// Sent with each token request when set, and then the answer's signature is checked
    /// with it.
    pub(crate) client_secret: Option<ClientSecret>,
}

impl ConnectedApp {
    /// The app `client_id` at `host`, with the default client and no secret.
    pub(crate) fn new(host: LoginHost, client_id: impl Into<ClientId>) -> Self {
        Self {
            client: OAuthClient::default(),
            host,
            client_id: client_id.into(),
            client_secret: None,
        }
    }

    /// Adds the app's settings to the `Debug` of the flow holding it (the secret redacted).
    pub(crate) fn debug_fields<'f, 'a, 'b>(
        &self,
        out: &'f mut fmt::DebugStruct<'a, 'b>,
    ) -> &'f mut fmt::DebugStruct<'a, 'b> {
        out.field("host", &self.host)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
    }

    /// Posts `form` to the token endpoint, with `client_secret` appended when the app has one,
    /// and parses the answer (checking its signature with that secret).
    pub(crate) async fn token_request<'a>(
        &'a self,
        mut form: Vec<(&'a str, &'a str)>,
    ) -> Result<TokenResponse, OAuthError> {
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.secret().expose_secret()));
        }
        self.client
            .token_request(
                &self.host.token_url(),
                &form,
                None,
                self.client_secret.as_ref(),
            )
            .await
    }

    /// [`token_request`](Self::token_request), the answer made a Salesforce token and any
    /// error reported in `context`.
    pub(crate) async fn grant<'a>(
        &'a self,
        form: Vec<(&'a str, &'a str)>,
        context: &str,
    ) -> Result<AccessToken, Error> {
        let response = self
            .token_request(form)
            .await
            .map_err(|e| e.into_core(context))?;
        Ok(self.client.salesforce_token(response))
    }
}
