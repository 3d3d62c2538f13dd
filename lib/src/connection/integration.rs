//! The integration record: one per company and POS product. Holds status and token
//! expiry times, never the tokens themselves (those are in the vault).

use serde::{Deserialize, Serialize};

use super::product::PosProduct;
use crate::error::{AppError, ErrorCode};
use crate::store::occ::{self, Plan};
use crate::store::{
    attr, from_item, get_as, keys, query_as, to_item, Condition, Item, ItemStore, Key, Query,
    StoreError, Write,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    /// Authorization started, no tokens yet.
    Pending,
    Active,
    /// The refresh token is dead; a person must reauthorize.
    Disconnected,
    /// The last refresh failed in a way that may pass; retried automatically.
    RefreshFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub company_id: String,
    pub product: PosProduct,
    pub name: Option<String>,
    pub domain_prefix: Option<String>,
    pub status: IntegrationStatus,
    /// Epoch seconds.
    pub access_expires_at: Option<i64>,
    /// Epoch seconds; `None` when the refresh token does not expire (or no tokens yet).
    pub refresh_expires_at: Option<i64>,
    pub last_refresh_at: Option<String>,
    pub connected_at: Option<String>,
    pub reauthorized_at: Option<String>,
    pub last_error: Option<String>,
    /// X-Series webhook subscriptions registered at connection.
    #[serde(default)]
    pub webhooks: Vec<crate::webhook::subscriptions::Subscription>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Integration {
    /// A new integration in `Pending`: no tokens, no webhooks, nothing refreshed yet.
    pub fn pending(company_id: &str, product: PosProduct, now: &str) -> Self {
        Self {
            company_id: company_id.to_string(),
            product,
            name: None,
            domain_prefix: None,
            status: IntegrationStatus::Pending,
            access_expires_at: None,
            refresh_expires_at: None,
            last_refresh_at: None,
            connected_at: None,
            reauthorized_at: None,
            last_error: None,
            webhooks: Vec::new(),
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        }
    }
}

pub fn key(company_id: &str, product: PosProduct) -> Key {
    Key::new(keys::company(company_id), format!("INTEG#{product}"))
}

/// Pattern 6: the integrations of a company (at most one per product, so one page).
pub async fn list(store: &dyn ItemStore, company_id: &str) -> Result<Vec<Integration>, StoreError> {
    let query = Query::partition(keys::company(company_id))
        .begins_with("INTEG#")
        .limit(10);
    query_as(store, &query).await
}

/// The gsi2 partition of the X-Series connections of one store (domain prefix).
fn domain_partition(domain_prefix: &str) -> String {
    format!("XDOMAIN#{domain_prefix}")
}

/// Pattern 6 (gsi2 `XDOMAIN#{prefix}`): the X-Series connections, whatever their status,
/// with this domain prefix (how a webhook finds its companies; a store connected to two
/// companies feeds both) — one query whatever the number of connections. Records written
/// before the index existed are found by the slower walk of every X-Series connection (gsi1
/// `INTEG`) until their next update indexes them.
pub async fn of_domain(
    store: &dyn ItemStore,
    domain_prefix: &str,
) -> Result<Vec<Integration>, StoreError> {
    let query = Query::partition(domain_partition(domain_prefix))
        .on(crate::store::Index::Gsi2)
        .limit(100);
    let indexed: Vec<Integration> = crate::store::query_all_as(store, query).await?;
    if !indexed.is_empty() {
        return Ok(indexed);
    }
    let query = Query::partition("INTEG")
        .on(crate::store::Index::Gsi1)
        .begins_with(format!("{}#", PosProduct::XSeries))
        .limit(100);
    let all: Vec<Integration> = crate::store::query_all_as(store, query).await?;
    Ok(all
        .into_iter()
        .filter(|i| i.domain_prefix.as_deref() == Some(domain_prefix))
        .collect())
}

/// Pattern 6 (gsi1 `INTEG`): the companies with an active connection of `product` (the
/// X-Series feed backstop polls each).
pub async fn of_product(
    store: &dyn ItemStore,
    product: PosProduct,
) -> Result<Vec<String>, StoreError> {
    let query = Query::partition("INTEG")
        .on(crate::store::Index::Gsi1)
        .begins_with(format!("{product}#"))
        .limit(100);
    let items = crate::store::query_all(store, query).await?;
    let mut companies = Vec::new();
    for item in items {
        let integration: Integration = from_item(item)?;
        if integration.status == IntegrationStatus::Active {
            companies.push(integration.company_id);
        }
    }
    Ok(companies)
}

fn to_stored(integration: &Integration) -> Result<Item, StoreError> {
    let mut item = to_item(
        integration,
        &key(&integration.company_id, integration.product),
    )?;
    item.insert(attr::GSI1PK.into(), "INTEG".into());
    item.insert(
        attr::GSI1SK.into(),
        format!("{}#{}", integration.product, integration.company_id).into(),
    );
    if let (PosProduct::XSeries, Some(prefix)) = (integration.product, &integration.domain_prefix) {
        item.insert(attr::GSI2PK.into(), domain_partition(prefix).into());
        item.insert(
            attr::GSI2SK.into(),
            keys::company(&integration.company_id).into(),
        );
    }
    Ok(item)
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
) -> Result<Option<Integration>, AppError> {
    Ok(get_as(store, &key(company_id, product)).await?)
}

pub async fn require(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
) -> Result<Integration, AppError> {
    get(store, company_id, product).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::IntegrationNotFound,
            format!(
                "company `{company_id}` has no {product} integration; start a connection first"
            ),
        )
    })
}

/// The connection to call Lightspeed with for a company's product (`integration_not_found`
/// when the company never connected it).
pub async fn connection(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
) -> Result<crate::lightspeed::client::Connection, AppError> {
    if !product.is_lightspeed() {
        return Err(AppError::new(
            ErrorCode::IntegrationNotFound,
            "CSV locations have no Lightspeed connection; their sales arrive through `/imports`",
        ));
    }
    let integration = require(store, company_id, product).await?;
    Ok(crate::lightspeed::client::Connection {
        company_id: company_id.to_string(),
        product,
        domain_prefix: integration.domain_prefix,
    })
}

/// Creates the record; fails with `ConditionFailed` when one exists.
pub async fn create(store: &dyn ItemStore, integration: &Integration) -> Result<(), StoreError> {
    store
        .put(to_stored(integration)?, Condition::NotExists)
        .await
}

/// Read-modify-write with a version condition, retried on contention.
pub async fn update<F>(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
    now: &str,
    mut change: F,
) -> Result<Integration, AppError>
where
    F: FnMut(&mut Integration),
{
    occ::update(
        store,
        "the integration",
        || require(store, company_id, product),
        |mut integration: Integration| {
            let previous = integration.version;
            change(&mut integration);
            integration.version = previous + 1;
            integration.updated_at = now.to_string();
            let write = Write::Put(to_stored(&integration)?, Condition::VersionIs(previous));
            Ok(Plan::one(write, integration))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn store_of(company_id: &str, prefix: &str) -> Integration {
        let mut integration = Integration::pending(company_id, PosProduct::XSeries, "t0");
        integration.domain_prefix = Some(prefix.into());
        integration
    }

    #[tokio::test]
    async fn a_store_finds_its_companies_by_index_and_older_records_by_the_walk() {
        let store = MemoryStore::default();
        for (company, prefix) in [("a", "shop"), ("b", "shop"), ("c", "other")] {
            create(&store, &store_of(company, prefix)).await.unwrap();
        }
        let ids = |found: Vec<Integration>| -> Vec<String> {
            found.into_iter().map(|i| i.company_id).collect()
        };
        let mut found = ids(of_domain(&store, "shop").await.unwrap());
        found.sort();
        assert_eq!(found, ["a", "b"]);
        // A record written before the domain index: no gsi2 attributes.
        let old = store_of("d", "legacy");
        let mut item = to_item(&old, &key("d", PosProduct::XSeries)).unwrap();
        item.insert(attr::GSI1PK.into(), "INTEG".into());
        item.insert(attr::GSI1SK.into(), "x_series#d".into());
        store.put(item, Condition::None).await.unwrap();
        assert_eq!(ids(of_domain(&store, "legacy").await.unwrap()), ["d"]);
        assert!(of_domain(&store, "nobody").await.unwrap().is_empty());
    }
}
