//! Disconnecting a company from a Lightspeed product: the store's webhook subscriptions of
//! this deployment are removed (X-Series; kept while another company here is connected to
//! the same store), the tokens are deleted from the vault and forgotten, and the integration
//! is marked `disconnected`, so nothing calls Lightspeed for it until someone reauthorizes
//! (which subscribes again). Locations, mappings, the ledger and journals stay as they are;
//! an activated location's scheduled transfers report `lightspeed_auth_failed` (reauthorize)
//! until then. Repeating a disconnect changes nothing more.

use super::integration::{self, Integration, IntegrationStatus};
use super::product::PosProduct;
use crate::deps::Deps;
use crate::error::AppError;
use crate::lightspeed::client::Connection;
use crate::lightspeed::vault;
use crate::webhook::subscriptions;

pub async fn disconnect(
    deps: &Deps,
    company_id: &str,
    product: PosProduct,
    now: &str,
) -> Result<Integration, AppError> {
    let current = integration::require(deps.store.as_ref(), company_id, product).await?;
    let connection = Connection {
        company_id: company_id.to_string(),
        product,
        domain_prefix: current.domain_prefix.clone(),
    };
    // While the tokens still work: this deployment's subscriptions go first, unless another
    // company here is still connected to the same store (its deliveries use them too).
    let shared = shared_with_others(deps, &current).await?;
    let webhooks = match (product, webhook_url(deps)) {
        (PosProduct::XSeries, Some(url)) if has_active(&current) && !shared => {
            subscriptions::unsubscribe(&deps.lightspeed, &connection, &url).await
        }
        _ => current.webhooks.clone(),
    };
    let secret = vault::secret_id(&deps.config.secret_prefix, company_id, product);
    // Unavailable is `secrets_unavailable`: nothing is marked yet, so disconnecting again
    // finishes the job.
    deps.secrets.delete(&secret).await?;
    deps.lightspeed.forget(&connection).await;
    integration::update(deps.store.as_ref(), company_id, product, now, |i| {
        i.status = IntegrationStatus::Disconnected;
        i.webhooks = webhooks.clone();
        i.access_expires_at = None;
        i.refresh_expires_at = None;
        i.last_error = Some(format!(
            "disconnected at {now}; reauthorize to connect again"
        ));
    })
    .await
}

/// Where this deployment's webhooks are delivered, if it has a callback to sit beside.
fn webhook_url(deps: &Deps) -> Option<String> {
    deps.lightspeed
        .settings()
        .redirect_uri()
        .ok()
        .and_then(subscriptions::url_beside)
}

/// Whether another company of this deployment is connected to the same X-Series store.
async fn shared_with_others(deps: &Deps, current: &Integration) -> Result<bool, AppError> {
    let Some(domain) = current.domain_prefix.as_deref() else {
        return Ok(false);
    };
    Ok(integration::of_domain(deps.store.as_ref(), domain)
        .await?
        .iter()
        .any(|i| i.company_id != current.company_id && i.status == IntegrationStatus::Active))
}

/// Whether any subscription is still registered (a repeated disconnect lists nothing).
fn has_active(integration: &Integration) -> bool {
    integration.webhooks.iter().any(|w| w.status == "active")
}
