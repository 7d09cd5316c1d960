//! OAuth 2 settings (URL keys `oauth_*`): the client-credentials grant (RFC 6749 §4.4) and
//! token exchange (RFC 8693), and the form of a token request.

use std::fmt;

use dbapi::{Error, Result};
use url::Url;

use crate::config::secret::Secret;

/// The OAuth 2 grant used to obtain bearer tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthFlow {
    /// Client credentials (RFC 6749 §4.4): the client's id and secret buy a token.
    ClientCredentials,
    /// Token exchange (RFC 8693): a token from elsewhere (the subject token) buys one for
    /// this server.
    TokenExchange,
}

impl OAuthFlow {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OAuthFlow::ClientCredentials => "client_credentials",
            OAuthFlow::TokenExchange => "token_exchange",
        }
    }
}

/// OAuth 2 settings (URL keys `oauth_*`, see `docs/url.md`).
///
/// ```
/// use dbapi_flightsql::{Config, OAuth};
///
/// let config = Config::new("flight.example.com", 443).with_oauth(
///     OAuth::client_credentials("https://auth.example.com/token", "app", "s3cret")
///         .with_scope("flight.read"),
/// );
/// assert!(!config.to_string().contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OAuth {
    pub(crate) flow: OAuthFlow,
    pub(crate) token_uri: String,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) scope: Option<String>,
    pub(crate) subject_token: Option<Secret>,
    pub(crate) subject_token_type: Option<String>,
    pub(crate) actor_token: Option<Secret>,
    pub(crate) actor_token_type: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resource: Option<String>,
    pub(crate) requested_token_type: Option<String>,
}

impl OAuth {
    pub(super) fn empty(flow: OAuthFlow, token_uri: String) -> OAuth {
        OAuth {
            flow,
            token_uri,
            client_id: None,
            client_secret: None,
            scope: None,
            subject_token: None,
            subject_token_type: None,
            actor_token: None,
            actor_token_type: None,
            audience: None,
            resource: None,
            requested_token_type: None,
        }
    }

    /// The client-credentials grant at `token_uri`.
    pub fn client_credentials(
        token_uri: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> OAuth {
        let mut oauth = OAuth::empty(OAuthFlow::ClientCredentials, token_uri.into());
        oauth.client_id = Some(client_id.into());
        oauth.client_secret = Some(Secret::new(client_secret.into()));
        oauth
    }

    /// Token exchange at `token_uri` of `subject_token`, of type `subject_token_type` (e.g.
    /// `urn:ietf:params:oauth:token-type:jwt`).
    pub fn token_exchange(
        token_uri: impl Into<String>,
        subject_token: impl Into<String>,
        subject_token_type: impl Into<String>,
    ) -> OAuth {
        let mut oauth = OAuth::empty(OAuthFlow::TokenExchange, token_uri.into());
        oauth.subject_token = Some(Secret::new(subject_token.into()));
        oauth.subject_token_type = Some(subject_token_type.into());
        oauth
    }

    /// The scope asked for (`oauth_scope`).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Client credentials sent with a token exchange (`oauth_client_id`,
    /// `oauth_client_secret`), as HTTP Basic authentication.
    pub fn with_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(Secret::new(secret.into()));
        self
    }

    /// The actor token of a token exchange and its type (`oauth_actor_token`,
    /// `oauth_actor_token_type`).
    pub fn with_actor_token(
        mut self,
        token: impl Into<String>,
        token_type: impl Into<String>,
    ) -> Self {
        self.actor_token = Some(Secret::new(token.into()));
        self.actor_token_type = Some(token_type.into());
        self
    }

    /// The audience of a token exchange (`oauth_audience`).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The resource of a token exchange (`oauth_resource`).
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The token type asked for in a token exchange (`oauth_requested_token_type`).
    pub fn with_requested_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.requested_token_type = Some(token_type.into());
        self
    }

    /// The grant.
    pub fn flow(&self) -> OAuthFlow {
        self.flow
    }

    /// The token endpoint.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// Checks that the grant has what it needs.
    pub(crate) fn validate(&self) -> Result<()> {
        let uri = Url::parse(&self.token_uri).map_err(|e| {
            Error::interface(format!(
                "oauth_token_uri {:?} is not a URL: {e}",
                self.token_uri
            ))
        })?;
        // Where the grant's secrets may go (https://, http:// only to this machine) is the
        // credential policy's to decide, at each request.
        match uri.scheme() {
            "https" | "http" => {}
            other => {
                return Err(Error::interface(format!(
                    "oauth_token_uri scheme {other}:// is not supported (https://)"
                )));
            }
        }
        let need = |present: bool, key: &str| {
            if present {
                Ok(())
            } else {
                Err(Error::interface(format!(
                    "oauth_flow={} needs {key}",
                    self.flow.as_str()
                )))
            }
        };
        match self.flow {
            OAuthFlow::ClientCredentials => {
                need(self.client_id.is_some(), "oauth_client_id")?;
                need(self.client_secret.is_some(), "oauth_client_secret")?;
            }
            OAuthFlow::TokenExchange => {
                need(self.subject_token.is_some(), "oauth_subject_token")?;
                need(
                    self.subject_token_type.is_some(),
                    "oauth_subject_token_type",
                )?;
            }
        }
        if self.actor_token.is_some() != self.actor_token_type.is_some() {
            return Err(Error::interface(
                "oauth_actor_token and oauth_actor_token_type go together",
            ));
        }
        Ok(())
    }

    /// The form of the token request.
    /// What a token request carries that the credential policy must allow, named.
    pub(crate) fn carried(&self) -> Vec<String> {
        [
            (self.client_secret.is_some(), "the OAuth client secret"),
            (self.subject_token.is_some(), "the OAuth subject token"),
            (self.actor_token.is_some(), "the OAuth actor token"),
        ]
        .into_iter()
        .filter(|(present, _)| *present)
        .map(|(_, name)| name.to_owned())
        .collect()
    }

    pub(crate) fn form(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match self.flow {
            OAuthFlow::ClientCredentials => {
                form.append_pair("grant_type", "client_credentials");
            }
            OAuthFlow::TokenExchange => {
                form.append_pair(
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                );
            }
        }
        let pairs = [
            ("scope", self.scope.as_deref()),
            (
                "subject_token",
                self.subject_token.as_ref().map(Secret::expose),
            ),
            ("subject_token_type", self.subject_token_type.as_deref()),
            ("actor_token", self.actor_token.as_ref().map(Secret::expose)),
            ("actor_token_type", self.actor_token_type.as_deref()),
            ("audience", self.audience.as_deref()),
            ("resource", self.resource.as_deref()),
            ("requested_token_type", self.requested_token_type.as_deref()),
        ];
        for (key, value) in pairs {
            if let Some(v) = value {
                form.append_pair(key, v);
            }
        }
        form.finish()
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("flow", &self.flow)
            .field("token_uri", &self.token_uri)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scope", &self.scope)
            .field("subject_token", &self.subject_token)
            .field("actor_token", &self.actor_token)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_both_grants() {
        let cc = OAuth::client_credentials("https://a/t", "id", "sec").with_scope("read write");
        assert_eq!(cc.form(), "grant_type=client_credentials&scope=read+write");
        let te = OAuth::token_exchange("https://a/t", "sub&tok", "urn:x")
            .with_audience("flight")
            .with_actor_token("act", "urn:y");
        let form = te.form();
        assert!(
            form.starts_with(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
            )
        );
        assert!(form.contains("subject_token=sub%26tok"), "{form}");
        assert!(form.contains("audience=flight"), "{form}");
        assert!(form.contains("actor_token_type=urn%3Ay"), "{form}");
    }

    #[test]
    fn validation_names_what_is_missing() {
        let mut bad = OAuth::client_credentials("https://a/t", "id", "s");
        bad.client_secret = None;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("oauth_client_secret")
        );
        // Where plain http:// may go is the credential policy's question, asked per request.
        let plain = OAuth::client_credentials("http://auth.example.com/t", "id", "s");
        assert!(plain.validate().is_ok());
        assert_eq!(plain.carried(), ["the OAuth client secret"]);

        let e = OAuth::client_credentials("ftp://a/t", "id", "s")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("ftp"), "{e}");
    }

    #[test]
    fn secrets_are_hidden() {
        let o = OAuth::token_exchange("https://a/t", "subj3ct", "urn:x")
            .with_client("id", "s3cr3t-cl1ent");
        let config = crate::config::Config::new("h", 1).with_oauth(o.clone());
        for shown in [format!("{o:?}"), format!("{config:?}"), config.to_string()] {
            assert!(
                !shown.contains("subj3ct") && !shown.contains("s3cr3t-cl1ent"),
                "{shown}"
            );
        }
        assert!(config.to_url().contains("subj3ct"));
    }
}
