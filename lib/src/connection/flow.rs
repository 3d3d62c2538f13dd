//! Connecting and reauthorizing: the admin starts a connection and gets the authorize URL;
//! Lightspeed sends the browser back to the callback, which verifies `state`, exchanges
//! the code, stores the tokens in the vault and marks the integration active.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::integration::{self, Integration, IntegrationStatus};
use super::product::PosProduct;
use super::state::{self, StateClaims, StateError, STATE_LIFETIME_SECONDS};
use crate::alerts::{self, code as alert_code};
use crate::api::openapi::schemas as doc;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::lightspeed::oauth::{authorize_url, Grant, OAuthError, TokenEndpoint};
use crate::lightspeed::vault::{self, TokenSet};
use crate::lightspeed::AppKeys;
use crate::store::{attr, Condition, Item, ItemStore, Key, StoreError};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectInput {
    #[schema(value_type = doc::Product)]
    pub product: String,
    #[serde(default)]
    pub name: Option<String>,
    /// X-Series store prefix (`<prefix>.retail.lightspeed.app`), if known up front.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9-]{1,63}$")]
    pub domain_prefix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub state_expires_at: i64,
    pub integration: Integration,
}

fn nonce_key(nonce: &str) -> Key {
    Key::new(format!("OAUTH#{nonce}"), "STATE")
}

pub async fn app_keys(deps: &Deps) -> Result<AppKeys, AppError> {
    let text = deps
        .secrets
        .get(&deps.config.app_secret_id)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "app secret unreadable");
            AppError::new(
                ErrorCode::LightspeedNotConfigured,
                format!(
                    "the app secret `{}` cannot be read",
                    deps.config.app_secret_id
                ),
            )
        })?;
    AppKeys::parse(&text)
}

fn valid_domain_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 63
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Starts a first connection (`reauthorize = false`) or a reauthorization.
pub async fn start(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    input: Option<ConnectInput>,
    reauthorize: bool,
    now: &str,
    now_epoch: i64,
) -> Result<Started, AppError> {
    let keys = app_keys(deps).await?;
    let client = keys.client(product)?;
    let settings = &deps.config.lightspeed;
    let redirect_uri = settings.redirect_uri()?;
    let name = input
        .as_ref()
        .and_then(|i| i.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let domain_prefix = input.as_ref().and_then(|i| i.domain_prefix.clone());
    if let Some(prefix) = &domain_prefix {
        if !valid_domain_prefix(prefix) {
            return Err(AppError::validation("`domain_prefix` must be letters, digits and '-' (the part before .retail.lightspeed.app)"));
        }
    }
    let store = deps.store.as_ref();
    let integration = pending_integration(
        store,
        company_id,
        product,
        name,
        domain_prefix.as_deref(),
        reauthorize,
        now,
    )
    .await?;
    let claims = StateClaims {
        company_id: company_id.to_string(),
        product,
        nonce: crate::random::uuid().to_string(),
        expires_at: now_epoch + STATE_LIFETIME_SECONDS,
        reauthorize,
        domain_prefix: domain_prefix.or_else(|| integration.domain_prefix.clone()),
    };
    let mut nonce = Item::new();
    let key = nonce_key(&claims.nonce);
    nonce.insert(attr::PK.into(), key.pk.into());
    nonce.insert(attr::SK.into(), key.sk.into());
    nonce.insert("company_id".into(), company_id.into());
    nonce.insert(attr::EXPIRES_AT.into(), claims.expires_at.into());
    store.put(nonce, Condition::NotExists).await?;
    let signed = state::sign(&claims, keys.state_signing_key.expose_secret().as_bytes());
    let url = authorize_url(settings, client, product, redirect_uri, &signed)
        .map_err(|e| AppError::new(ErrorCode::LightspeedNotConfigured, e))?;
    Ok(Started {
        authorize_url: url,
        state_expires_at: claims.expires_at,
        integration,
    })
}

/// The integration a connection starts from: a new pending one, the pending one a
/// concurrent start created, or (reauthorize) the existing one.
async fn pending_integration(
    store: &dyn crate::store::ItemStore,
    company_id: &str,
    product: PosProduct,
    name: Option<&str>,
    domain_prefix: Option<&str>,
    reauthorize: bool,
    now: &str,
) -> Result<Integration, AppError> {
    match (integration::get(store, company_id, product).await?, reauthorize) {
        (Some(existing), false) if existing.status != IntegrationStatus::Pending => {
            Err(exists(company_id, product))
        }
        (Some(existing), _) => Ok(existing),
        (None, true) => Err(AppError::new(
            ErrorCode::IntegrationNotFound,
            format!("company `{company_id}` has no {product} integration to reauthorize; connect it first"),
        )),
        (None, false) => {
            let record = Integration {
                name: name.map(str::to_string),
                domain_prefix: domain_prefix.map(str::to_string),
                ..Integration::pending(company_id, product, now)
            };
            match integration::create(store, &record).await {
                Ok(()) => Ok(record),
                // A concurrent start created it: fine while it is still pending.
                Err(StoreError::ConditionFailed) => match integration::require(store, company_id, product).await? {
                    existing if existing.status == IntegrationStatus::Pending => Ok(existing),
                    _ => Err(exists(company_id, product)),
                },
                Err(err) => Err(err.into()),
            }
        }
    }
}

fn exists(company_id: &str, product: PosProduct) -> AppError {
    AppError::new(
        ErrorCode::LightspeedIntegrationExists,
        format!("company `{company_id}` already has a {product} integration; reauthorize it instead of connecting again"),
    )
}

/// What the browser brought back from Lightspeed. The code is a credential until it is
/// exchanged: held so that printing the params cannot reveal it.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    pub code: Option<SecretString>,
    pub state: Option<String>,
    pub domain_prefix: Option<String>,
    /// Set when the user denied access or Lightspeed failed the authorization.
    pub error: Option<String>,
}

/// The callback's `state`, verified and consumed: single use, the nonce record is deleted
/// exactly once.
async fn consume_state(
    deps: &Deps,
    params: &CallbackParams,
    now_epoch: i64,
) -> Result<(StateClaims, AppKeys), AppError> {
    let invalid_state = |why: &str| AppError::new(ErrorCode::InvalidState, why.to_string());
    let raw_state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid_state("the callback has no `state`"))?;
    let keys = app_keys(deps).await?;
    let claims = state::verify(
        raw_state,
        keys.state_signing_key.expose_secret().as_bytes(),
        now_epoch,
    )
    .map_err(|err| match err {
        StateError::Expired => {
            invalid_state("the authorization link expired; start the connection again")
        }
        other => invalid_state(&other.to_string()),
    })?;
    match deps
        .store
        .delete(&nonce_key(&claims.nonce), Condition::Exists)
        .await
    {
        Ok(()) => Ok((claims, keys)),
        Err(StoreError::ConditionFailed) => Err(invalid_state(
            "this authorization was already used; start the connection again",
        )),
        Err(err) => Err(err.into()),
    }
}

/// The authorization code exchanged for tokens at the product's token endpoint.
async fn exchange_code(
    deps: &Deps,
    keys: &AppKeys,
    product: PosProduct,
    domain_prefix: Option<&str>,
    code: &str,
    now_epoch: i64,
) -> Result<crate::lightspeed::vault::TokenSet, AppError> {
    let endpoint = TokenEndpoint {
        http: &deps.http,
        settings: &deps.config.lightspeed,
        client: keys.client(product)?,
        product,
        domain_prefix,
    };
    let redirect_uri = deps.config.lightspeed.redirect_uri()?;
    endpoint
        .request(Grant::AuthorizationCode { code, redirect_uri }, now_epoch)
        .await
        .map_err(|err| {
            let detail = match err {
                OAuthError::InvalidGrant(_) => {
                    "the authorization code was refused (used or expired)".to_string()
                }
                other => other.to_string(),
            };
            AppError::new(
                ErrorCode::LightspeedOauthExchangeFailed,
                format!("exchanging the code failed: {detail}"),
            )
        })
}

/// The tokens into the integration's secret, and the same pair into its fallback secret:
/// created now, by the one function allowed to create secrets, so workers only ever update
/// it when the main secret refuses a rotated pair (the same pair never outranks it).
async fn store_tokens(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    tokens: &TokenSet,
) -> Result<(), AppError> {
    let secret = vault::secret_id(&deps.config.secret_prefix, company_id, product);
    vault::write(deps.secrets.as_ref(), &secret, tokens).await?;
    if let Err(err) = vault::write(
        deps.secrets.as_ref(),
        &vault::pending_secret_id(&secret),
        tokens,
    )
    .await
    {
        tracing::warn!(error = %err, "fallback token secret not prepared");
    }
    Ok(())
}

/// The callback's checks, the code exchange, then the integration marked connected (and an
/// X-Series store's webhooks registered).
pub async fn complete(
    deps: &Deps,
    params: &CallbackParams,
    now: &str,
    now_epoch: i64,
) -> Result<Integration, AppError> {
    let (claims, keys) = consume_state(deps, params, now_epoch).await?;
    let store = deps.store.as_ref();
    let (company_id, product) = (claims.company_id.as_str(), claims.product);
    let code = authorization_code(params)?;
    let existing = integration::require(store, company_id, product).await?;
    if !claims.reauthorize && existing.status != IntegrationStatus::Pending {
        return Err(exists(company_id, product));
    }
    let domain_prefix = store_domain_prefix(params, &claims, &existing)?;
    let tokens = exchange_code(
        deps,
        &keys,
        product,
        domain_prefix.as_deref(),
        code,
        now_epoch,
    )
    .await?;
    store_tokens(deps, company_id, product, &tokens).await?;
    let reauthorize = claims.reauthorize;
    let updated = mark_connected(store, &claims, &tokens, domain_prefix, now).await?;
    let updated = if product == PosProduct::XSeries {
        subscribe_webhooks(deps, updated, now).await?
    } else {
        updated
    };
    tracing::info!(
        company_id,
        product = product.as_str(),
        reauthorize,
        "integration connected"
    );
    Ok(updated)
}

/// The authorization code of a callback that Lightspeed did not refuse.
fn authorization_code(params: &CallbackParams) -> Result<&str, AppError> {
    if let Some(error) = &params.error {
        return Err(AppError::new(
            ErrorCode::LightspeedOauthExchangeFailed,
            format!("Lightspeed did not authorize the connection ({error})"),
        ));
    }
    params
        .code
        .as_ref()
        .map(|c| c.expose_secret())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedOauthExchangeFailed,
                "the callback has no authorization `code`",
            )
        })
}

/// The store's domain prefix: from the callback, else the state, else the integration;
/// X-Series cannot do without one.
fn store_domain_prefix(
    params: &CallbackParams,
    claims: &StateClaims,
    existing: &Integration,
) -> Result<Option<String>, AppError> {
    let domain_prefix = params
        .domain_prefix
        .clone()
        .or(claims.domain_prefix.clone())
        .or(existing.domain_prefix.clone());
    if claims.product == PosProduct::XSeries
        && !domain_prefix.as_deref().is_some_and(valid_domain_prefix)
    {
        return Err(AppError::new(
            ErrorCode::LightspeedOauthExchangeFailed,
            "X-Series did not name the store (`domain_prefix`)",
        ));
    }
    Ok(domain_prefix)
}

/// The integration active with its new tokens, and its connection alerts resolved.
async fn mark_connected(
    store: &dyn ItemStore,
    claims: &StateClaims,
    tokens: &TokenSet,
    domain_prefix: Option<String>,
    now: &str,
) -> Result<Integration, AppError> {
    let (company_id, product) = (claims.company_id.as_str(), claims.product);
    let reauthorize = claims.reauthorize;
    let updated = integration::update(store, company_id, product, now, |i| {
        i.status = IntegrationStatus::Active;
        i.access_expires_at = Some(tokens.access_expires_at);
        i.refresh_expires_at = tokens.refresh_expires_at;
        i.last_refresh_at = Some(now.to_string());
        i.last_error = None;
        i.domain_prefix = domain_prefix.clone();
        if reauthorize && i.connected_at.is_some() {
            i.reauthorized_at = Some(now.to_string());
        } else {
            i.connected_at = Some(now.to_string());
        }
    })
    .await?;
    for code in [alert_code::DISCONNECTED, alert_code::TOKEN_REFRESH_FAILED] {
        alerts::resolve(store, company_id, code, product.as_str(), now).await?;
    }
    Ok(updated)
}

/// Registers the store's webhooks (beside this deployment's OAuth callback) and records
/// the outcome on the integration; a refusal is shown there, not raised.
async fn subscribe_webhooks(
    deps: &Deps,
    integration: Integration,
    now: &str,
) -> Result<Integration, AppError> {
    let url = deps
        .lightspeed
        .settings()
        .redirect_uri()
        .ok()
        .and_then(crate::webhook::subscriptions::url_beside);
    let Some(url) = url else {
        tracing::warn!("no webhook URL beside the OAuth callback; webhooks not registered");
        return Ok(integration);
    };
    let connection = crate::lightspeed::client::Connection {
        company_id: integration.company_id.clone(),
        product: PosProduct::XSeries,
        domain_prefix: integration.domain_prefix.clone(),
    };
    let subscriptions =
        crate::webhook::subscriptions::subscribe(&deps.lightspeed, &connection, &url).await;
    integration::update(
        deps.store.as_ref(),
        &integration.company_id,
        PosProduct::XSeries,
        now,
        |i| i.webhooks = subscriptions.clone(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params_do_not_print_the_code() {
        let params = CallbackParams {
            code: Some(SecretString::from("one-time-code-123")),
            state: Some("s".into()),
            ..CallbackParams::default()
        };
        let printed = format!("{params:?}");
        assert!(!printed.contains("one-time-code-123"), "{printed}");
    }
}
