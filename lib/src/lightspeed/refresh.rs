//! Rotation-safe, single-flight token refresh across concurrent Lambdas.
//!
//! Refresh tokens rotate: two workers refreshing with the same token would leave one
//! holding a revoked token, wrongly read as "disconnected". So a refresh happens only
//! under a lease item in DynamoDB (conditional put with expiry), and the newest tokens are
//! re-read before and after taking the lease: if another worker already rotated them,
//! they are used as they are.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::error::LightspeedError;
use super::oauth::{Grant, OAuthError, TokenEndpoint};
use super::settings::{AppKeys, LightspeedSettings};
use super::vault::{self, Saved, TokenSet};
use crate::alerts::{self, code as alert_code};
use crate::connection::integration::{self, IntegrationStatus};
use crate::connection::PosProduct;
use crate::secrets::SecretVault;
use crate::store::lease::Lease;
use crate::store::{ItemStore, Key};

/// A lease outlives the slowest token request (15 s timeout) with margin.
const LEASE_HOLD: Duration = Duration::from_secs(30);
/// How long a worker waits for another worker's refresh.
const WAIT: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(150);

pub struct RefreshContext<'a> {
    pub http: &'a reqwest::Client,
    pub settings: &'a LightspeedSettings,
    pub keys: &'a AppKeys,
    pub store: &'a dyn ItemStore,
    pub vault: &'a dyn SecretVault,
    pub secret_prefix: &'a str,
}

fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn lease_key(company_id: &str, product: PosProduct) -> Key {
    Key::new(format!("LEASE#TOKEN#{company_id}#{product}"), "LEASE")
}

fn vault_error(err: crate::secrets::SecretError) -> LightspeedError {
    LightspeedError::RefreshFailed(format!("token vault: {err}"))
}

fn store_error(err: impl std::fmt::Display) -> LightspeedError {
    LightspeedError::RefreshFailed(format!("state store: {err}"))
}

/// Returns tokens newer than `failed_access_token`, refreshing them if nobody else has.
pub async fn refresh(
    ctx: &RefreshContext<'_>,
    company_id: &str,
    product: PosProduct,
    domain_prefix: Option<&str>,
    failed_access_token: &str,
) -> Result<TokenSet, LightspeedError> {
    let secret = vault::secret_id(ctx.secret_prefix, company_id, product);
    // The newest tokens in the vault, unless they are the ones that just failed.
    let newest = || async {
        let tokens = vault::read_newest(ctx.vault, &secret)
            .await
            .map_err(vault_error)?
            .ok_or_else(|| {
                LightspeedError::NotConnected(format!("no tokens for {company_id} {product}"))
            })?;
        Ok::<_, LightspeedError>((!tokens.has_access_token(failed_access_token)).then_some(tokens))
    };
    if let Some(tokens) = newest().await? {
        return Ok(tokens);
    }
    // A revoked refresh token stays revoked: do not ask Lightspeed again until reauthorized.
    if is_disconnected(ctx, company_id, product).await? {
        return Err(LightspeedError::Disconnected(format!(
            "the {product} connection of `{company_id}` must be reauthorized"
        )));
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let lease = Lease::try_acquire(ctx.store, lease_key(company_id, product), LEASE_HOLD)
            .await
            .map_err(store_error)?;
        if let Some(lease) = lease {
            let result = refresh_holding_lease(
                ctx,
                company_id,
                product,
                domain_prefix,
                &secret,
                failed_access_token,
            )
            .await;
            // A lease that stays behind only delays the next refresh until it expires.
            lease.release(ctx.store).await;
            return result;
        }
        // Someone else is refreshing: wait for their result.
        tokio::time::sleep(POLL).await;
        if let Some(tokens) = newest().await? {
            return Ok(tokens);
        }
        if is_disconnected(ctx, company_id, product).await? {
            return Err(LightspeedError::Disconnected(
                "another worker found the refresh token revoked".into(),
            ));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(LightspeedError::RefreshFailed(
                "timed out waiting for another worker's token refresh".into(),
            ));
        }
    }
}

async fn is_disconnected(
    ctx: &RefreshContext<'_>,
    company_id: &str,
    product: PosProduct,
) -> Result<bool, LightspeedError> {
    let current = integration::get(ctx.store, company_id, product)
        .await
        .map_err(store_error)?;
    Ok(current.is_some_and(|i| i.status == IntegrationStatus::Disconnected))
}

async fn refresh_holding_lease(
    ctx: &RefreshContext<'_>,
    company_id: &str,
    product: PosProduct,
    domain_prefix: Option<&str>,
    secret: &str,
    failed_access_token: &str,
) -> Result<TokenSet, LightspeedError> {
    // Re-read under the lease: the previous holder may have rotated them just now (into
    // the fallback secret, if the integration's own could not be written).
    let current = vault::read_newest(ctx.vault, secret)
        .await
        .map_err(vault_error)?
        .ok_or_else(|| {
            LightspeedError::NotConnected(format!("no tokens for {company_id} {product}"))
        })?;
    if !current.has_access_token(failed_access_token) {
        return Ok(current);
    }
    let client = ctx
        .keys
        .client(product)
        .map_err(|e| LightspeedError::RefreshFailed(e.message))?;
    let endpoint = TokenEndpoint {
        http: ctx.http,
        settings: ctx.settings,
        client,
        product,
        domain_prefix,
    };
    let now = now_text();
    match endpoint
        .request(
            Grant::RefreshToken(current.refresh_token.expose_secret()),
            now_epoch(),
        )
        .await
    {
        Ok(mut tokens) => {
            tokens.generation = tokens.generation.max(current.generation + 1);
            keep_rotated(ctx, company_id, product, secret, tokens, &now).await
        }
        Err(err) => {
            // A refused refresh token needs the user; anything else is retried.
            let (status, alert, error, message): (_, _, fn(String) -> LightspeedError, _) =
                match err {
                    OAuthError::InvalidGrant(detail) => (
                        IntegrationStatus::Disconnected,
                        alert_code::DISCONNECTED,
                        LightspeedError::Disconnected,
                        format!("Lightspeed refused the refresh token ({detail}); reauthorize the {product} connection"),
                    ),
                    err => (
                        IntegrationStatus::RefreshFailed,
                        alert_code::TOKEN_REFRESH_FAILED,
                        LightspeedError::RefreshFailed,
                        format!("refreshing the {product} token failed: {err}; it will be retried"),
                    ),
                };
            mark(ctx, company_id, product, status, alert, &message, &now).await?;
            Err(error(message))
        }
    }
}

/// Lightspeed has rotated: the previous refresh token is dead from here on, so the new
/// pair must not be dropped whatever fails next. Saved in the integration's secret (or
/// its fallback), the integration marked active and its alerts resolved; saved nowhere,
/// handed to the caller marked unsaved (its process serves with it) with an alert.
async fn keep_rotated(
    ctx: &RefreshContext<'_>,
    company_id: &str,
    product: PosProduct,
    secret: &str,
    mut tokens: TokenSet,
    now: &str,
) -> Result<TokenSet, LightspeedError> {
    let subject = product.as_str();
    match vault::save_rotated(ctx.vault, secret, &tokens).await {
        Ok(Saved::Secret) => {}
        Ok(Saved::Pending) => tracing::warn!(
            company_id,
            product = subject,
            "rotated tokens saved in the fallback secret"
        ),
        Err(err) => {
            tracing::error!(company_id, product = subject, error = %err, "rotated tokens could not be saved anywhere");
            let message = format!(
                "the renewed {product} tokens could not be saved in the secret store; they are in use but will be lost if it does not recover"
            );
            if let Err(alert_err) = alerts::raise(
                ctx.store,
                company_id,
                alert_code::TOKEN_REFRESH_FAILED,
                subject,
                &message,
                now,
            )
            .await
            {
                tracing::warn!(error = %alert_err, "alert not raised");
            }
            tokens.unsaved = true;
            return Ok(tokens);
        }
    }
    integration::update(ctx.store, company_id, product, now, |i| {
        i.status = IntegrationStatus::Active;
        i.access_expires_at = Some(tokens.access_expires_at);
        i.refresh_expires_at = tokens.refresh_expires_at;
        i.last_refresh_at = Some(now.to_string());
        i.last_error = None;
    })
    .await
    .map_err(store_error)?;
    for code in [alert_code::DISCONNECTED, alert_code::TOKEN_REFRESH_FAILED] {
        alerts::resolve(ctx.store, company_id, code, subject, now)
            .await
            .map_err(store_error)?;
    }
    tracing::info!(company_id, product = subject, "access token refreshed");
    Ok(tokens)
}

async fn mark(
    ctx: &RefreshContext<'_>,
    company_id: &str,
    product: PosProduct,
    status: IntegrationStatus,
    code: &str,
    message: &str,
    now: &str,
) -> Result<(), LightspeedError> {
    integration::update(ctx.store, company_id, product, now, |i| {
        i.status = status;
        i.last_error = Some(message.to_string());
    })
    .await
    .map_err(store_error)?;
    alerts::raise(ctx.store, company_id, code, product.as_str(), message, now)
        .await
        .map_err(store_error)?;
    tracing::warn!(
        company_id,
        product = product.as_str(),
        code,
        "token refresh failed"
    );
    Ok(())
}
