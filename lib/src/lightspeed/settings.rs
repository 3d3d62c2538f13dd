//! Where Lightspeed lives (environment, defaults are production) and the app's own keys
//! (the app secret in Secrets Manager: client credentials and the state-signing key).

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::optional_var;
use crate::connection::PosProduct;
use crate::error::{AppError, ErrorCode};

pub mod env {
    pub const K_AUTH_VERSION: &str = "LIGHTSPEED_K_AUTH_VERSION";
    pub const K_API_BASE: &str = "LIGHTSPEED_K_API_BASE";
    pub const K_V2_AUTH_BASE: &str = "LIGHTSPEED_K_V2_AUTH_BASE";
    pub const X_CONNECT_URL: &str = "LIGHTSPEED_X_CONNECT_URL";
    pub const X_API_BASE: &str = "LIGHTSPEED_X_API_BASE";
    pub const OAUTH_REDIRECT_URI: &str = "OAUTH_REDIRECT_URI";
    pub const OAUTH_RESULT_URL: &str = "OAUTH_RESULT_URL";
    pub const REQUEST_TIMEOUT_MS: &str = "LIGHTSPEED_REQUEST_TIMEOUT_MS";
}

/// How long one Lightspeed API request may take before it counts as a (retryable) timeout.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;

/// K-Series has two authorization servers; new API clients are V2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KAuthVersion {
    V1,
    V2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightspeedSettings {
    pub k_auth_version: KAuthVersion,
    /// K-Series API host; also the V1 authorization server.
    pub k_api_base: String,
    /// K-Series V2 (Keycloak realm) OpenID Connect base, ending `/protocol/openid-connect`.
    pub k_v2_auth_base: String,
    pub x_connect_url: String,
    /// X-Series per-store API base with a `{domain_prefix}` placeholder.
    pub x_api_base: String,
    /// Where Lightspeed sends the browser back (the oauth-callback route).
    pub redirect_uri: Option<String>,
    /// Where the callback sends the browser afterwards; defaults to `/oauth/result` beside it.
    pub result_url: Option<String>,
    pub request_timeout: std::time::Duration,
}

impl LightspeedSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let get = |name: &str, default: &str| {
            vars.get(name)
                .map(|v| v.trim().trim_end_matches('/').to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let optional = |name: &str| optional_var(vars, name).map(str::to_string);
        Self {
            k_auth_version: if get(env::K_AUTH_VERSION, "v2").eq_ignore_ascii_case("v1") {
                KAuthVersion::V1
            } else {
                KAuthVersion::V2
            },
            k_api_base: get(env::K_API_BASE, "https://api.lsk.lightspeed.app"),
            k_v2_auth_base: get(
                env::K_V2_AUTH_BASE,
                "https://auth.lsk-prod.app/realms/k-series/protocol/openid-connect",
            ),
            x_connect_url: get(
                env::X_CONNECT_URL,
                "https://secure.retail.lightspeed.app/connect",
            ),
            x_api_base: get(
                env::X_API_BASE,
                "https://{domain_prefix}.retail.lightspeed.app",
            ),
            redirect_uri: optional(env::OAUTH_REDIRECT_URI),
            result_url: optional(env::OAUTH_RESULT_URL),
            request_timeout: std::time::Duration::from_millis(
                optional(env::REQUEST_TIMEOUT_MS)
                    .and_then(|v| v.parse::<u64>().ok())
                    .filter(|ms| *ms > 0)
                    .unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS),
            ),
        }
    }

    pub fn x_base(&self, domain_prefix: &str) -> String {
        self.x_api_base.replace("{domain_prefix}", domain_prefix)
    }

    /// The API base a product's requests go to.
    pub fn api_base(&self, product: PosProduct, domain_prefix: Option<&str>) -> String {
        match product {
            PosProduct::KSeries => self.k_api_base.clone(),
            PosProduct::XSeries => self.x_base(domain_prefix.unwrap_or_default()),
            // No Lightspeed API behind imported sales: requests fail on the empty URL.
            PosProduct::Csv => String::new(),
        }
    }

    pub fn redirect_uri(&self) -> Result<&str, AppError> {
        self.redirect_uri.as_deref().ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedNotConfigured,
                format!(
                    "{} is not set; it must be the deployed /oauth/callback URL",
                    env::OAUTH_REDIRECT_URI
                ),
            )
        })
    }

    pub fn result_url(&self) -> String {
        match (&self.result_url, &self.redirect_uri) {
            (Some(url), _) => url.clone(),
            (None, Some(callback)) => callback.replace("/oauth/callback", "/oauth/result"),
            (None, None) => "/oauth/result".to_string(),
        }
    }
}

/// An OAuth client. The secret is held so that printing the struct cannot reveal it.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LightspeedApps {
    pub k_series: Option<ClientCredentials>,
    pub x_series: Option<ClientCredentials>,
}

/// The app secret's JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct AppKeys {
    pub state_signing_key: SecretString,
    #[serde(default)]
    pub lightspeed: LightspeedApps,
}

impl AppKeys {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        // serde's message can quote the offending value, which here is a secret: report
        // only where and what kind of problem it is.
        let keys: AppKeys = serde_json::from_str(text).map_err(|err| {
            let kind = match err.classify() {
                serde_json::error::Category::Io => "unreadable",
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    "not valid JSON"
                }
                serde_json::error::Category::Data => "missing a field or has a wrong type",
            };
            AppError::new(
                ErrorCode::LightspeedNotConfigured,
                format!(
                    "the app secret is {kind} (line {}, column {}); expected {{\"state_signing_key\", \"lightspeed\": {{\"k_series\"|\"x_series\": {{\"client_id\", \"client_secret\"}}}}}}",
                    err.line(),
                    err.column()
                ),
            )
        })?;
        if keys.state_signing_key.expose_secret().len() < 16 {
            return Err(AppError::new(
                ErrorCode::LightspeedNotConfigured,
                "the app secret's `state_signing_key` must be at least 16 characters",
            ));
        }
        Ok(keys)
    }

    pub fn client(&self, product: PosProduct) -> Result<&ClientCredentials, AppError> {
        let client = match product {
            PosProduct::KSeries => self.lightspeed.k_series.as_ref(),
            PosProduct::XSeries => self.lightspeed.x_series.as_ref(),
            PosProduct::Csv => None,
        };
        client.filter(|c| !c.client_id.is_empty() && !c.client_secret.expose_secret().is_empty()).ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedNotConfigured,
                format!("no Lightspeed {product} client credentials in the app secret (`lightspeed.{product}.client_id` / `client_secret`)"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_production_hosts_and_v2() {
        let settings = LightspeedSettings::from_vars(&HashMap::new());
        assert_eq!(settings.k_auth_version, KAuthVersion::V2);
        assert_eq!(
            settings.x_base("shop"),
            "https://shop.retail.lightspeed.app"
        );
        assert_eq!(
            settings.redirect_uri().unwrap_err().code,
            ErrorCode::LightspeedNotConfigured
        );
    }

    #[test]
    fn app_keys_name_what_is_missing() {
        let keys = AppKeys::parse(r#"{"state_signing_key":"0123456789abcdef0123"}"#).unwrap();
        assert_eq!(
            keys.client(PosProduct::KSeries).unwrap_err().code,
            ErrorCode::LightspeedNotConfigured
        );
        assert!(AppKeys::parse(r#"{"state_signing_key":"short"}"#).is_err());
        assert!(AppKeys::parse("not json").is_err());
    }

    #[test]
    fn app_keys_cannot_be_printed_or_echoed() {
        let text = r#"{"state_signing_key":"signing-key-0123456789","lightspeed":{"k_series":{"client_id":"app","client_secret":"client-secret-value"}}}"#;
        let keys = AppKeys::parse(text).unwrap();
        let printed = format!("{keys:?} {:?}", keys.client(PosProduct::KSeries).unwrap());
        for secret in ["signing-key-0123456789", "client-secret-value"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        // serde would quote a mistyped value; the error must not.
        let err = AppKeys::parse(r#"{"state_signing_key": 987654321987654321}"#).unwrap_err();
        assert!(!err.message.contains("987654321"), "{}", err.message);
        let err = AppKeys::parse(r#"{"state_signing_key": "signing-key-0123456789", "lightspeed": {"k_series": {"client_id": 1, "client_secret": "client-secret-value"}}}"#).unwrap_err();
        assert!(
            !err.message.contains("client-secret-value"),
            "{}",
            err.message
        );
    }
}
