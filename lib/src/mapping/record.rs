//! The mapping of one POS item to an ingredient or a recipe: quantity multiplier and
//! `is_subtraction` (reversal direction). Update replaces; delete removes.

use serde::{Deserialize, Serialize};

use crate::connection::PosProduct;
use crate::error::AppError;
use crate::money::Quantity;
use crate::store::{get_as, keys, query_all_as, ItemStore, Key, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Ingredient,
    Recipe,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub company_id: String,
    pub product: PosProduct,
    pub item_id: String,
    pub target_kind: TargetKind,
    pub target_id: String,
    pub quantity: Quantity,
    pub is_subtraction: bool,
    /// The item's name and SKU when mapped, to explain a later rename.
    pub item_name: String,
    pub item_sku: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub version: u64,
}

pub fn partition(company_id: &str) -> String {
    format!("{}#MAP", keys::company(company_id))
}

pub fn key(company_id: &str, product: PosProduct, item_id: &str) -> Key {
    Key::new(
        partition(company_id),
        crate::items::record::sort_key(product, item_id),
    )
}

impl Mapping {
    pub fn key(&self) -> Key {
        key(&self.company_id, self.product, &self.item_id)
    }

    /// What the mapping points at, in the catalogue's reference terms.
    pub fn target(&self) -> crate::catalog::recipe::Target {
        match self.target_kind {
            TargetKind::Ingredient => crate::catalog::recipe::Target::ingredient(&self.target_id),
            TargetKind::Recipe => crate::catalog::recipe::Target {
                kind: crate::catalog::recipe::TargetKind::Recipe,
                id: self.target_id.clone(),
            },
        }
    }

    /// How this mapping is named in an ingredient's or recipe's list of users.
    pub fn referrer_id(&self) -> String {
        format!("{}:{}", self.product, self.item_id)
    }
}

/// Every mapping of a company (a bounded set: one per mapped item).
/// Pattern 14: the mapping of one item, if any.
pub async fn find(
    store: &dyn ItemStore,
    company_id: &str,
    product: PosProduct,
    item_id: &str,
) -> Result<Option<Mapping>, AppError> {
    Ok(get_as(store, &key(company_id, product, item_id)).await?)
}

pub async fn all(store: &dyn ItemStore, company_id: &str) -> Result<Vec<Mapping>, AppError> {
    Ok(query_all_as(store, Query::partition(partition(company_id)).limit(500)).await?)
}
