//! Where location and item sync read a connection's upstream catalogue: the narrow port the
//! sync use cases see, and its Lightspeed adapter. The port hands back the raw response
//! bodies; turning them into locations and items is the use cases' pure logic.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::PosProduct;
use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};
use crate::store::ItemStore;

/// One page of a connection's items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemPage<'a> {
    /// K-Series: the items of one business location, `amount` from `offset`.
    KSeries {
        location_id: &'a str,
        offset: usize,
        amount: usize,
    },
    /// X-Series: products changed after version `after`, `page_size` at most.
    XSeries { after: u64, page_size: usize },
}

/// A list of the codes finance maps to accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinanceList<'a> {
    /// K-Series `paymentMethods` of one business location.
    KPaymentMethods { location_id: &'a str },
    /// K-Series `tax-rates` of one business location.
    KTaxRates { location_id: &'a str },
    /// X-Series payment types (retailer-wide).
    XPaymentTypes,
    /// X-Series taxes (retailer-wide).
    XTaxes,
}

/// What one catalogue sync (locations, items or finance codes) works on: a company's
/// connection to one product, read through the port and recorded in the store.
#[derive(Clone, Copy)]
pub struct SyncScope<'a> {
    pub store: &'a dyn ItemStore,
    pub source: &'a dyn CatalogSource,
    pub company_id: &'a str,
    pub product: PosProduct,
    pub now: &'a str,
}

#[async_trait]
pub trait CatalogSource: Send + Sync {
    /// One finance list (payment methods or tax rates), as the POS answers it.
    async fn finance(
        &self,
        connection: &Connection,
        list: FinanceList<'_>,
    ) -> Result<Value, LightspeedError>;
    /// The connection's locations: K-Series businesses (with their locations), X-Series
    /// outlets.
    async fn locations(&self, connection: &Connection) -> Result<Value, LightspeedError>;
    /// One page of the connection's items.
    async fn items(
        &self,
        connection: &Connection,
        page: &ItemPage<'_>,
    ) -> Result<Value, LightspeedError>;
}

pub struct LightspeedCatalog {
    pub client: Arc<LightspeedClient>,
}

#[async_trait]
impl CatalogSource for LightspeedCatalog {
    async fn finance(
        &self,
        connection: &Connection,
        list: FinanceList<'_>,
    ) -> Result<Value, LightspeedError> {
        let path = match list {
            FinanceList::KPaymentMethods { location_id } => {
                format!("/f/finance/{location_id}/paymentMethods")
            }
            FinanceList::KTaxRates { location_id } => format!("/f/finance/{location_id}/tax-rates"),
            FinanceList::XPaymentTypes => "/api/2.0/payment_types".into(),
            FinanceList::XTaxes => "/api/2.0/taxes".into(),
        };
        self.client.get_json(connection, &path, &[]).await
    }

    async fn locations(&self, connection: &Connection) -> Result<Value, LightspeedError> {
        match connection.product {
            PosProduct::KSeries => {
                let query = [("page", "0".to_string()), ("size", "1000".to_string())];
                self.client
                    .get_json(connection, "/f/data/businesses", &query)
                    .await
            }
            PosProduct::XSeries => {
                self.client
                    .get_json(connection, "/api/2.0/outlets", &[])
                    .await
            }
            PosProduct::Csv => Err(not_lightspeed()),
        }
    }

    async fn items(
        &self,
        connection: &Connection,
        page: &ItemPage<'_>,
    ) -> Result<Value, LightspeedError> {
        match page {
            ItemPage::KSeries {
                location_id,
                offset,
                amount,
            } => {
                let query = [
                    ("businessLocationId", location_id.to_string()),
                    ("offset", offset.to_string()),
                    ("amount", amount.to_string()),
                ];
                self.client
                    .get_json(connection, "/items/v1/items", &query)
                    .await
            }
            ItemPage::XSeries { after, page_size } => {
                let query = [
                    ("after", after.to_string()),
                    ("page_size", page_size.to_string()),
                ];
                self.client
                    .get_json(connection, "/api/2.0/products", &query)
                    .await
            }
        }
    }
}

/// A catalogue held in memory, for unit tests of the sync use cases: the locations body per
/// product, K-Series items per location (paged by offset and amount) and X-Series products
/// with their versions (paged by `after`).
#[derive(Default)]
pub struct MemoryCatalog {
    pub locations: std::collections::HashMap<PosProduct, Value>,
    pub k_items: std::collections::HashMap<String, Vec<Value>>,
    /// `(version, product)` pairs.
    pub x_products: Vec<(u64, Value)>,
    /// Finance lists by `FinanceList` debug text (e.g. `XTaxes`).
    pub finance: std::collections::HashMap<String, Value>,
    pub requests: std::sync::atomic::AtomicUsize,
}

impl MemoryCatalog {
    /// A sync of company `acme` reading this catalogue.
    pub fn scope<'a>(
        &'a self,
        store: &'a dyn ItemStore,
        product: PosProduct,
        now: &'a str,
    ) -> SyncScope<'a> {
        SyncScope {
            store,
            source: self,
            company_id: "acme",
            product,
            now,
        }
    }
}

#[async_trait]
impl CatalogSource for MemoryCatalog {
    async fn finance(
        &self,
        _connection: &Connection,
        list: FinanceList<'_>,
    ) -> Result<Value, LightspeedError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self
            .finance
            .get(&format!("{list:?}"))
            .cloned()
            .unwrap_or(Value::Null))
    }

    async fn locations(&self, connection: &Connection) -> Result<Value, LightspeedError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.locations
            .get(&connection.product)
            .cloned()
            .ok_or_else(|| LightspeedError::NotConnected(format!("{}", connection.product)))
    }

    async fn items(
        &self,
        _connection: &Connection,
        page: &ItemPage<'_>,
    ) -> Result<Value, LightspeedError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(match page {
            ItemPage::KSeries {
                location_id,
                offset,
                amount,
            } => Value::Array(
                self.k_items
                    .get(*location_id)
                    .map(|items| items.iter().skip(*offset).take(*amount).cloned().collect())
                    .unwrap_or_default(),
            ),
            ItemPage::XSeries { after, page_size } => {
                let mut newer: Vec<&(u64, Value)> =
                    self.x_products.iter().filter(|(v, _)| v > after).collect();
                newer.sort_by_key(|(v, _)| *v);
                newer.truncate(*page_size);
                let max = newer.last().map(|(v, _)| *v);
                serde_json::json!({
                    "data": newer.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(),
                    "version": {"max": max},
                })
            }
        })
    }
}

/// CSV locations have no Lightspeed connection to read from.
fn not_lightspeed() -> LightspeedError {
    LightspeedError::NotConnected("CSV sales are imported, not read from Lightspeed".into())
}
