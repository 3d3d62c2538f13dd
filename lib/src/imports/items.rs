//! The POS items a CSV file names (product `csv`): recorded by the import so they appear in
//! the item list and can be mapped like Lightspeed items.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::connection::PosProduct;
use crate::error::AppError;
use crate::items::record::PosItem;
use crate::store::occ::{self, Plan};
use crate::store::{from_item, Condition, ItemStore, Write};

use super::parse::ImportedSale;

/// The item id of a line: its code when that is a usable id, else a digest of the code or
/// name (ids go into table keys).
pub fn item_id(code: Option<&str>, name: Option<&str>) -> String {
    match (code, name) {
        (Some(code), _) if crate::ids::is_valid_id(code) => code.to_string(),
        (Some(code), _) => format!("code-{}", short_digest(code)),
        (None, name) => format!("name-{}", short_digest(name.unwrap_or_default())),
    }
}

fn short_digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// The items of a file with the locations selling them (the last name written wins).
pub fn items_of(sales: &[ImportedSale]) -> BTreeMap<String, (String, Option<String>, Vec<String>)> {
    let mut items: BTreeMap<String, (String, Option<String>, Vec<String>)> = BTreeMap::new();
    for imported in sales {
        for line in &imported.sale.lines {
            let id = line.item.item_id.as_deref().unwrap_or_default();
            let entry = items.entry(id.to_string()).or_insert_with(|| {
                (
                    line.item.name.to_string(),
                    line.item.sku.as_deref().map(str::to_string),
                    Vec::new(),
                )
            });
            line.item.name.as_str().clone_into(&mut entry.0);
            if !entry.2.contains(&imported.location_id) {
                entry.2.push(imported.location_id.clone());
            }
        }
    }
    items
}

/// Creates or updates each item (its name and the locations selling it).
pub async fn record(
    store: &dyn ItemStore,
    company_id: &str,
    sales: &[ImportedSale],
    now: &str,
) -> Result<usize, AppError> {
    let items = items_of(sales);
    for (item_id, (name, sku, locations)) in &items {
        let fresh = PosItem {
            company_id: company_id.to_string(),
            product: PosProduct::Csv,
            item_id: item_id.clone(),
            name: name.clone(),
            sku: sku.clone(),
            custom_code: None,
            price: None,
            active: true,
            deleted_upstream: false,
            location_ids: locations.clone(),
            accounting_group: None,
            last_synced_at: now.to_string(),
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        };
        occ::update(
            store,
            "the item",
            || async { Ok(store.get(&fresh.key()).await?) },
            |stored| {
                let Some(stored) = stored else {
                    return Ok(Plan::one(
                        Write::Put(fresh.to_item()?, Condition::NotExists),
                        (),
                    ));
                };
                let mut item: PosItem = from_item(stored)?;
                let before = item.clone();
                item.name.clone_from(name);
                item.sku.clone_from(sku);
                for location in locations {
                    if !item.location_ids.contains(location) {
                        item.location_ids.push(location.clone());
                    }
                }
                if item == before {
                    return Ok(Plan::Keep(()));
                }
                item.updated_at = now.to_string();
                item.last_synced_at = now.to_string();
                item.version = before.version + 1;
                Ok(Plan::one(
                    Write::Put(item.to_item()?, Condition::VersionIs(before.version)),
                    (),
                ))
            },
        )
        .await?;
    }
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_code_else_a_digest() {
        assert_eq!(item_id(Some("BURG-1"), Some("Burger")), "BURG-1");
        let spaced = item_id(Some("BURG 1"), None);
        assert!(spaced.starts_with("code-") && crate::ids::is_valid_id(&spaced));
        let named = item_id(None, Some("Flat white"));
        assert_eq!(named, item_id(None, Some("Flat white")), "deterministic");
        assert_ne!(named, item_id(None, Some("Flat White")));
        assert!(named.starts_with("name-") && named.len() == 21);
    }
}
