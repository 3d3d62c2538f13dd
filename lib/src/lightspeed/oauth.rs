//! The token endpoints: authorization-code exchange and refresh, for K-Series V1 (Basic
//! auth, query parameters), K-Series V2 (Keycloak, form body) and X-Series (per-store,
//! credentials in the form body). Lifetimes are read from the response, never assumed.

use std::time::Duration;

use reqwest::{Client, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::settings::{ClientCredentials, KAuthVersion, LightspeedSettings};
use super::vault::TokenSet;
use crate::connection::PosProduct;

/// K-Series V1 refresh tokens expire after 14 idle days when the response does not say.
const K_V1_REFRESH_IDLE_SECONDS: i64 = 14 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The code or refresh token is used, expired or revoked.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// 5xx, 429, timeout or connection failure: may pass.
    #[error("token endpoint unavailable: {0}")]
    Unavailable(String),
    /// Any other refusal (bad client credentials, bad request) or a malformed response.
    #[error("token endpoint refused: {0}")]
    Rejected(String),
}

pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
    },
    RefreshToken(&'a str),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    refresh_expires_in: Option<i64>,
    /// X-Series: absolute expiry, epoch seconds.
    expires: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

pub struct TokenEndpoint<'a> {
    pub http: &'a Client,
    pub settings: &'a LightspeedSettings,
    pub client: &'a ClientCredentials,
    pub product: PosProduct,
    pub domain_prefix: Option<&'a str>,
}

/// The URL a person opens to grant access.
pub fn authorize_url(
    settings: &LightspeedSettings,
    client: &ClientCredentials,
    product: PosProduct,
    redirect_uri: &str,
    state: &str,
) -> Result<String, String> {
    let (base, scope) = match (product, settings.k_auth_version) {
        (PosProduct::KSeries, KAuthVersion::V1) => (
            format!("{}/oauth/authorize", settings.k_api_base),
            Some("financial-api items"),
        ),
        (PosProduct::KSeries, KAuthVersion::V2) => (
            format!("{}/auth", settings.k_v2_auth_base),
            Some("financial-api items offline_access"),
        ),
        (PosProduct::XSeries, _) => (settings.x_connect_url.clone(), None),
        (PosProduct::Csv, _) => {
            return Err("CSV sales are imported; there is nothing to authorize".into())
        }
    };
    let mut url = Url::parse(&base).map_err(|e| format!("authorize URL `{base}`: {e}"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("response_type", "code");
        query.append_pair("client_id", &client.client_id);
        if let Some(scope) = scope {
            query.append_pair("scope", scope);
        }
        query.append_pair("redirect_uri", redirect_uri);
        query.append_pair("state", state);
    }
    Ok(url.to_string())
}

impl TokenEndpoint<'_> {
    fn url(&self) -> String {
        match (self.product, self.settings.k_auth_version) {
            (PosProduct::KSeries, KAuthVersion::V1) => {
                format!("{}/oauth/token", self.settings.k_api_base)
            }
            (PosProduct::KSeries, KAuthVersion::V2) => {
                format!("{}/token", self.settings.k_v2_auth_base)
            }
            (PosProduct::XSeries, _) => format!(
                "{}/api/1.0/token",
                self.settings.x_base(self.domain_prefix.unwrap_or_default())
            ),
            // Never reached: CSV locations hold no tokens (`client` refuses the product).
            (PosProduct::Csv, _) => String::new(),
        }
    }

    pub async fn request(&self, grant: Grant<'_>, now_epoch: i64) -> Result<TokenSet, OAuthError> {
        let body = self.send(&grant).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            OAuthError::Rejected(format!("token response is not the documented JSON: {e}"))
        })?;
        self.token_set(parsed, &grant, now_epoch)
    }

    /// The grant in the product's wire form; the body of a 2xx answer, or the error the
    /// answer means (5xx and 429 are worth retrying, `invalid_grant` is final).
    async fn send(&self, grant: &Grant<'_>) -> Result<Vec<u8>, OAuthError> {
        let mut params: Vec<(&str, &str)> = match grant {
            Grant::AuthorizationCode { code, redirect_uri } => {
                vec![
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                ]
            }
            Grant::RefreshToken(token) => {
                vec![("grant_type", "refresh_token"), ("refresh_token", token)]
            }
        };
        let secret = self.client.client_secret.expose_secret();
        let request = match (self.product, self.settings.k_auth_version) {
            (PosProduct::KSeries, KAuthVersion::V1) => self
                .http
                .post(self.url())
                .query(&params)
                .basic_auth(&self.client.client_id, Some(secret)),
            (PosProduct::KSeries, KAuthVersion::V2) => self
                .http
                .post(self.url())
                .form(&params)
                .basic_auth(&self.client.client_id, Some(secret)),
            (PosProduct::XSeries | PosProduct::Csv, _) => {
                params.push(("client_id", &self.client.client_id));
                params.push(("client_secret", secret));
                self.http.post(self.url()).form(&params)
            }
        };
        let response = request
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| {
                OAuthError::Unavailable(format!("token request failed: {}", without_url(&e)))
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| OAuthError::Unavailable(without_url(&e)))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(OAuthError::Unavailable(format!(
                "token endpoint answered {status}"
            )));
        }
        if !status.is_success() {
            let error: Option<ErrorBody> = serde_json::from_slice(&body).ok();
            let code = error
                .as_ref()
                .and_then(|e| e.error.clone())
                .unwrap_or_default();
            let description = error.and_then(|e| e.error_description).unwrap_or_default();
            return Err(if code == "invalid_grant" {
                OAuthError::InvalidGrant(description)
            } else {
                OAuthError::Rejected(format!("{status} {code} {description}").trim().to_string())
            });
        }
        Ok(body.to_vec())
    }

    /// The token set a response gives, with lifetimes as instants (lifetimes from outside
    /// are added with saturation: a nonsense `expires_in` cannot overflow the clock).
    fn token_set(
        &self,
        parsed: TokenResponse,
        grant: &Grant<'_>,
        now_epoch: i64,
    ) -> Result<TokenSet, OAuthError> {
        let refresh_token = match (parsed.refresh_token, grant) {
            (Some(token), _) => SecretString::from(token),
            // Some servers only rotate on use; keep the one we have.
            (None, Grant::RefreshToken(old)) => SecretString::from(*old),
            (None, Grant::AuthorizationCode { .. }) => {
                return Err(OAuthError::Rejected(
                    "token response has no refresh_token".into(),
                ))
            }
        };
        let access_expires_at = match (parsed.expires, parsed.expires_in) {
            (Some(at), _) if self.product == PosProduct::XSeries => at,
            (_, Some(seconds)) => now_epoch.saturating_add(seconds),
            _ => {
                return Err(OAuthError::Rejected(
                    "token response has no expires_in".into(),
                ))
            }
        };
        let refresh_expires_at = match (
            self.product,
            self.settings.k_auth_version,
            parsed.refresh_expires_in,
        ) {
            // Keycloak reports 0 for offline tokens: no expiry.
            (_, _, Some(0)) => None,
            (_, _, Some(seconds)) => Some(now_epoch.saturating_add(seconds)),
            (PosProduct::KSeries, KAuthVersion::V1, None) => {
                Some(now_epoch.saturating_add(K_V1_REFRESH_IDLE_SECONDS))
            }
            _ => None,
        };
        Ok(TokenSet {
            access_token: SecretString::from(parsed.access_token),
            refresh_token,
            access_expires_at,
            refresh_expires_at,
            obtained_at: now_epoch,
            generation: chrono::Utc::now().timestamp_millis(),
            unsaved: false,
        })
    }
}

/// reqwest errors can carry the URL, which for V1 holds the code or refresh token in the
/// query string: never let that reach a log line.
pub fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_decode() || err.is_body() {
        "could not read the response"
    } else {
        "request error"
    };
    kind.to_string()
}
