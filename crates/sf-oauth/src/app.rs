//! [`ConnectedApp`]: the settings every flow that identifies a connected app by its consumer
//! key shares (the client, the login host, the key, the optional secret and how they are
//! sent), and the token request they all make with them.

use std::fmt;

use pardot_auth_core::secrecy::ExposeSecret;
use pardot_auth_core::{AccessToken, Error, LoginHost};

use crate::client::{ClientAuth, OAuthClient};
use crate::error::OAuthError;
use crate::response::TokenResponse;
use crate::types::{ClientId, ClientSecret};

/// A token request's form fields, in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

/// A connected app at a login host, as seen by one flow.
#[derive(Clone)]
pub(crate) struct ConnectedApp {
    pub(crate) client: OAuthClient,
    pub(crate) host: LoginHost,
    pub(crate) client_id: ClientId,
    /// Sent with each token request when set, and then the answer's signature is checked
    /// with it.
    pub(crate) client_secret: Option<ClientSecret>,
    /// How the key and secret are sent (HTTP Basic only with a secret).
    pub(crate) auth: ClientAuth,
}

impl fmt::Debug for ConnectedApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_as(f, "ConnectedApp", &[("auth", &self.auth)])
    }
}

impl ConnectedApp {
    /// The app `client_id` at `host`, with the default client and no secret.
    pub(crate) fn new(host: LoginHost, client_id: impl Into<ClientId>) -> Self {
        Self {
            client: OAuthClient::default(),
            host,
            client_id: client_id.into(),
            client_secret: None,
            auth: ClientAuth::FormFields,
        }
    }

    /// The app `client_id` at `host` with its consumer secret.
    pub(crate) fn with_secret(
        host: LoginHost,
        client_id: impl Into<ClientId>,
        secret: ClientSecret,
    ) -> Self {
        Self {
            client_secret: Some(secret),
            ..Self::new(host, client_id)
        }
    }

    /// The `Debug` of the flow `name` holding the app: the app's settings (the secret
    /// redacted), then the flow's `own` fields. The flows hold callbacks that have no `Debug`,
    /// so they cannot derive it.
    pub(crate) fn debug_as(
        &self,
        f: &mut fmt::Formatter<'_>,
        name: &str,
        own: &[(&str, &dyn fmt::Debug)],
    ) -> fmt::Result {
        let mut out = f.debug_struct(name);
        out.field("host", &self.host)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret);
        for (field, value) in own {
            out.field(field, value);
        }
        out.finish_non_exhaustive()
    }

    /// Posts `form` to the token endpoint with the app's credentials and parses the answer,
    /// checking its signature with the secret.
    pub(crate) async fn token_request<'a>(
        &'a self,
        form: Form<'a>,
    ) -> Result<TokenResponse, OAuthError> {
        let (form, basic) = self.with_credentials(form);
        self.client
            .token_request(
                &self.host.token_url(),
                &form,
                basic,
                self.client_secret.as_ref(),
            )
            .await
    }

    /// [`token_request`](Self::token_request), the answer made a Salesforce token and any
    /// error reported in `context`.
    pub(crate) async fn grant<'a>(
        &'a self,
        form: Form<'a>,
        context: &str,
    ) -> Result<AccessToken, Error> {
        let response = self
            .token_request(form)
            .await
            .map_err(|e| e.into_core(context))?;
        Ok(self.client.salesforce_token(response))
    }

    /// `form` with `client_id` and, when the app has one, `client_secret` added; or, with
    /// [`ClientAuth::Basic`], `form` as it is and the pair for the `Authorization` header.
    fn with_credentials<'a>(
        &'a self,
        mut form: Form<'a>,
    ) -> (Form<'a>, Option<(&'a ClientId, &'a ClientSecret)>) {
        if let (ClientAuth::Basic, Some(secret)) = (self.auth, &self.client_secret) {
            return (form, Some((&self.client_id, secret)));
        }
        form.push(("client_id", self.client_id.as_str()));
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.secret().expose_secret()));
        }
        (form, None)
    }
}
