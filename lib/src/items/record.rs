//! The item record: one per (company, product, item id), whatever locations sell it.

use serde::{Deserialize, Serialize};

use crate::connection::PosProduct;
use crate::money::Money;
use crate::store::{attr, keys, query_all_as, to_item, Item, ItemStore, Key, Query, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosItem {
    pub company_id: String,
    pub product: PosProduct,
    pub item_id: String,
    pub name: String,
    pub sku: Option<String>,
    /// X-Series: the `custom` product code (the ERP-owned code), when there is one.
    pub custom_code: Option<String>,
    pub price: Option<Money>,
    /// Archived items (`active = false`) stay mapped and keep working.
    pub active: bool,
    /// Gone upstream (deleted); its mapping is orphaned.
    pub deleted_upstream: bool,
    pub location_ids: Vec<String>,
    pub accounting_group: Option<String>,
    pub last_synced_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

pub fn partition(company_id: &str) -> String {
    format!("{}#ITEMS", keys::company(company_id))
}

/// Pattern 13: the items of a company, in product and item id order (100 a page).
pub fn list_query(company_id: &str) -> Query {
    Query::partition(partition(company_id))
        .begins_with("ITEM#")
        .limit(100)
}

/// Pattern 13: every stored item of one product of a company.
pub async fn product_items(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
) -> Result<Vec<PosItem>, StoreError> {
    let query = Query::partition(partition(company_id))
        .begins_with(format!("ITEM#{product}#"))
        .limit(500);
    query_all_as(store, query).await
}

pub fn sort_key(product: PosProduct, item_id: &str) -> String {
    format!("ITEM#{product}#{item_id}")
}

impl PosItem {
    pub fn key(&self) -> Key {
        Key::new(
            partition(&self.company_id),
            sort_key(self.product, &self.item_id),
        )
    }

    /// The stored item, indexed by SKU (gsi1) and exact name (gsi2) for matching.
    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = to_item(self, &self.key())?;
        let code = self.custom_code.as_ref().or(self.sku.as_ref());
        if let Some(code) = code {
            item.insert(
                attr::GSI1PK.into(),
                format!("{}#SKU#{code}", keys::company(&self.company_id)).into(),
            );
            item.insert(attr::GSI1SK.into(), self.key().sk.into());
        }
        item.insert(
            attr::GSI2PK.into(),
            format!("{}#NAME#{}", keys::company(&self.company_id), self.name).into(),
        );
        item.insert(attr::GSI2SK.into(), self.key().sk.into());
        Ok(item)
    }
}
