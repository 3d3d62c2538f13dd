//! The authorised Lightspeed API client everything else uses: bearer token from the vault
//! (cached per process), proactive refresh shortly before expiry, and on a 401 one
//! single-flight refresh and one retry. Throttling and server errors come back as typed,
//! retryable errors carrying `Retry-After`.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::{Client, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};

use super::error::{parse_retry_after, LightspeedError};
use super::oauth::without_url;
use super::refresh::{refresh, RefreshContext};
use super::settings::{AppKeys, LightspeedSettings};
use super::vault::{self, TokenSet};
use crate::connection::PosProduct;
use crate::secrets::SecretVault;
use crate::store::ItemStore;

/// Refresh this long before the access token's stated expiry.
const EXPIRY_MARGIN_SECONDS: i64 = 60;

/// Which integration a request is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub company_id: String,
    pub product: PosProduct,
    pub domain_prefix: Option<String>,
}

/// What a client is built from: its HTTP client and settings, where tokens are stored, and
/// which secrets hold them and the app's keys.
pub struct LightspeedParts {
    pub http: Client,
    pub settings: LightspeedSettings,
    pub store: Arc<dyn ItemStore>,
    pub vault: Arc<dyn SecretVault>,
    pub secret_prefix: String,
    pub app_secret_id: String,
}

pub struct LightspeedClient {
    parts: LightspeedParts,
    keys: OnceCell<AppKeys>,
    tokens: Mutex<HashMap<String, TokenSet>>,
}

impl LightspeedClient {
    pub fn new(parts: LightspeedParts) -> Self {
        Self {
            parts,
            keys: OnceCell::new(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &LightspeedSettings {
        &self.parts.settings
    }

    async fn keys(&self) -> Result<&AppKeys, LightspeedError> {
        self.keys
            .get_or_try_init(|| async {
                let text = self
                    .parts
                    .vault
                    .get(&self.parts.app_secret_id)
                    .await
                    .map_err(|e| LightspeedError::RefreshFailed(format!("app secret: {e}")))?;
                AppKeys::parse(&text).map_err(|e| LightspeedError::NotConnected(e.message))
            })
            .await
    }

    /// The X-Series app's client secret, which signs its webhooks (`None` when no X-Series
    /// app is configured).
    pub async fn x_series_client_secret(&self) -> Result<Option<SecretString>, LightspeedError> {
        Ok(self
            .keys()
            .await?
            .lightspeed
            .x_series
            .as_ref()
            .map(|app| app.client_secret.clone()))
    }

    fn secret(&self, connection: &Connection) -> String {
        vault::secret_id(
            &self.parts.secret_prefix,
            &connection.company_id,
            connection.product,
        )
    }

    async fn current_tokens(&self, connection: &Connection) -> Result<TokenSet, LightspeedError> {
        let secret = self.secret(connection);
        let cached = self.tokens.lock().await.get(&secret).cloned();
        if let Some(mut tokens) = cached {
            if tokens.unsaved {
                tokens.unsaved = !self.save_unsaved(&secret, &tokens).await;
                if !tokens.unsaved {
                    self.tokens.lock().await.insert(secret, tokens.clone());
                    let now =
                        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                    if let Err(err) = crate::alerts::resolve(
                        self.parts.store.as_ref(),
                        &connection.company_id,
                        crate::alerts::code::TOKEN_REFRESH_FAILED,
                        connection.product.as_str(),
                        &now,
                    )
                    .await
                    {
                        tracing::warn!(error = %err, "alert not resolved");
                    }
                }
            }
            return Ok(tokens);
        }
        let tokens = vault::read(self.parts.vault.as_ref(), &secret)
            .await
            .map_err(|e| LightspeedError::RefreshFailed(format!("token vault: {e}")))?
            .ok_or_else(|| {
                LightspeedError::NotConnected(format!(
                    "company `{}` has no {} tokens; connect it first",
                    connection.company_id, connection.product
                ))
            })?;
        self.tokens.lock().await.insert(secret, tokens.clone());
        Ok(tokens)
    }

    /// One attempt to put a rotated pair that only this process holds into the vault.
    async fn save_unsaved(&self, secret: &str, tokens: &TokenSet) -> bool {
        match vault::save_unsaved(self.parts.vault.as_ref(), secret, tokens).await {
            Ok(true) => {
                tracing::info!("rotated tokens held in memory are saved in the vault");
                true
            }
            Ok(false) => {
                tracing::info!("the vault holds later tokens than the ones held in memory");
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "rotated tokens still only in memory");
                false
            }
        }
    }

    async fn refreshed(
        &self,
        connection: &Connection,
        failed: &TokenSet,
    ) -> Result<TokenSet, LightspeedError> {
        let keys = self.keys().await?;
        let ctx = RefreshContext {
            http: &self.parts.http,
            settings: &self.parts.settings,
            keys,
            store: self.parts.store.as_ref(),
            vault: self.parts.vault.as_ref(),
            secret_prefix: &self.parts.secret_prefix,
        };
        let result = refresh(
            &ctx,
            &connection.company_id,
            connection.product,
            connection.domain_prefix.as_deref(),
            failed.access_token.expose_secret(),
        )
        .await;
        let mut cache = self.tokens.lock().await;
        match &result {
            Ok(tokens) => {
                cache.insert(self.secret(connection), tokens.clone());
            }
            Err(_) => {
                cache.remove(&self.secret(connection));
            }
        }
        result
    }

    /// GET `path` (relative to the product's API base) and parse the JSON body.
    pub async fn get_json(
        &self,
        connection: &Connection,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, LightspeedError> {
        self.get_as(connection, path, query).await
    }

    /// GET `path` with `query` and read the JSON answer straight into `T` (a `null` for an
    /// empty `204`); an answer `T` cannot read is garbled, and retryable as such.
    pub async fn get_as<T: DeserializeOwned>(
        &self,
        connection: &Connection,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, LightspeedError> {
        self.call(
            connection,
            &Call {
                method: Method::GET,
                path,
                query,
                body: None,
            },
        )
        .await
    }

    /// POST `body` as JSON to `path` and parse the JSON answer.
    pub async fn post_json(
        &self,
        connection: &Connection,
        path: &str,
        body: &Value,
    ) -> Result<Value, LightspeedError> {
        self.call(
            connection,
            &Call {
                method: Method::POST,
                path,
                query: &[],
                body: Some(body),
            },
        )
        .await
    }

    /// DELETE `path`; an empty answer (`204`) is `null`.
    pub async fn delete(
        &self,
        connection: &Connection,
        path: &str,
    ) -> Result<Value, LightspeedError> {
        let call = Call {
            method: Method::DELETE,
            path,
            query: &[],
            body: None,
        };
        self.call(connection, &call).await
    }

    /// Forgets the tokens held for `connection` (after they were revoked).
    pub async fn forget(&self, connection: &Connection) {
        self.tokens.lock().await.remove(&self.secret(connection));
    }

    /// One call with a valid token: refreshed first when about to expire, and once more
    /// after a 401.
    async fn call<T: DeserializeOwned>(
        &self,
        connection: &Connection,
        call: &Call<'_>,
    ) -> Result<T, LightspeedError> {
        let mut tokens = self.current_tokens(connection).await?;
        if tokens.access_expires_at - EXPIRY_MARGIN_SECONDS <= chrono::Utc::now().timestamp() {
            tokens = self.refreshed(connection, &tokens).await?;
        }
        match self.send(connection, call, &tokens).await? {
            Sent::Done(value) => Ok(value),
            Sent::Unauthorized => {
                let fresh = self.refreshed(connection, &tokens).await?;
                match self.send(connection, call, &fresh).await? {
                    Sent::Done(value) => Ok(value),
                    Sent::Unauthorized => Err(LightspeedError::Api {
                        status: Some(401),
                        message: "Lightspeed still answers 401 with a freshly refreshed token"
                            .into(),
                    }),
                }
            }
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        connection: &Connection,
        call: &Call<'_>,
        tokens: &TokenSet,
    ) -> Result<Sent<T>, LightspeedError> {
        let path = call.path;
        let method = &call.method;
        let base = self
            .parts
            .settings
            .api_base(connection.product, connection.domain_prefix.as_deref());
        let mut request = self
            .parts
            .http
            .request(method.clone(), format!("{base}{path}"))
            .query(call.query)
            .bearer_auth(tokens.access_token.expose_secret())
            .timeout(self.parts.settings.request_timeout);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| LightspeedError::Retryable {
                status: None,
                retry_after: None,
                message: format!("{method} {path}: {}", without_url(&e)),
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now().timestamp()));
        let body = response
            .bytes()
            .await
            .map_err(|e| LightspeedError::Retryable {
                status: Some(status.as_u16()),
                retry_after: None,
                message: format!("{method} {path}: {}", without_url(&e)),
            })?;
        let excerpt = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        match status {
            StatusCode::UNAUTHORIZED => Ok(Sent::Unauthorized),
            StatusCode::FORBIDDEN => Err(LightspeedError::Forbidden(format!(
                "{method} {path}: {}",
                excerpt()
            ))),
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                Err(LightspeedError::Retryable {
                    status: Some(s.as_u16()),
                    retry_after,
                    message: format!("{method} {path} answered {s}"),
                })
            }
            s if !s.is_success() => Err(LightspeedError::Api {
                status: Some(s.as_u16()),
                message: format!("{method} {path} answered {s}: {}", excerpt()),
            }),
            // Only a 204 is an empty answer (`null`); an empty 200 is a truncated body,
            // retried below. A truncated or garbled body is a transient fault.
            s => serde_json::from_slice(if s == StatusCode::NO_CONTENT {
                b"null"
            } else {
                &body
            })
            .map(Sent::Done)
            .map_err(|e| LightspeedError::Retryable {
                status: Some(status.as_u16()),
                retry_after: None,
                message: format!("{method} {path}: response is not valid JSON ({e})"),
            }),
        }
    }
}

/// One request: method, path (relative to the API base), query and JSON body.
struct Call<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Option<&'a Value>,
}

enum Sent<T> {
    Done(T),
    Unauthorized,
}
