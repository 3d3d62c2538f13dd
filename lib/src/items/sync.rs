//! Item sync: K-Series items per location (offset/amount paging), deduplicated by item id
//! across locations; X-Series products (version cursor). A mapped item whose name or SKU
//! changed raises `mapped_item_renamed`; one deleted upstream raises `orphaned_mapping`.
//! Archived items stay mapped and keep working.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::record::{product_items, PosItem};
use super::wire::{k_series_item, k_series_page, x_series_product, UpstreamItem};
use crate::alerts;
use crate::connection::source::{ItemPage, SyncScope};
use crate::connection::{integration, PosProduct};
use crate::error::AppError;
use crate::location;
use crate::mapping::record::{self as mapping, Mapping};
use crate::store::{Condition, ItemStore};

pub const MAPPED_ITEM_RENAMED: &str = "mapped_item_renamed";
pub const ORPHANED_MAPPING: &str = "orphaned_mapping";

/// Items per K-Series page; the documented maximum is 100.
const K_PAGE: usize = 100;
const X_PAGE: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemSyncSummary {
    pub seen: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted_upstream: usize,
    pub requests: usize,
    pub renamed_alerts: usize,
    pub orphaned_alerts: usize,
}

/// Upstream items with the locations that sell them.
async fn fetch(
    scope: SyncScope<'_>,
    summary: &mut ItemSyncSummary,
) -> Result<BTreeMap<String, (UpstreamItem, BTreeSet<String>)>, AppError> {
    let SyncScope {
        store,
        source,
        company_id,
        product,
        ..
    } = scope;
    let connection = integration::connection(store, company_id, product).await?;
    let mut found: BTreeMap<String, (UpstreamItem, BTreeSet<String>)> = BTreeMap::new();
    match product {
        PosProduct::KSeries => {
            let locations = location::record::list_all(store, company_id).await?;
            for location in locations
                .iter()
                .filter(|l| l.product == product && !l.missing_upstream)
            {
                let mut offset = 0;
                loop {
                    let request = ItemPage::KSeries {
                        location_id: &location.location_id,
                        offset,
                        amount: K_PAGE,
                    };
                    let body = source.items(&connection, &request).await?;
                    summary.requests += 1;
                    let page = k_series_page(&body);
                    for item in page.iter().filter_map(k_series_item) {
                        found
                            .entry(item.item_id.clone())
                            .or_insert_with(|| (item.clone(), BTreeSet::new()))
                            .1
                            .insert(location.location_id.clone());
                    }
                    if page.len() < K_PAGE {
                        break;
                    }
                    offset += page.len();
                }
            }
        }
        PosProduct::XSeries => {
            let mut after: u64 = 0;
            loop {
                let request = ItemPage::XSeries {
                    after,
                    page_size: X_PAGE,
                };
                let body = source.items(&connection, &request).await?;
                summary.requests += 1;
                let data = body["data"].as_array().cloned().unwrap_or_default();
                if data.is_empty() {
                    break;
                }
                for item in data.iter().filter_map(x_series_product) {
                    found.insert(item.item_id.clone(), (item, BTreeSet::new()));
                }
                match body["version"]["max"].as_u64() {
                    Some(max) if max > after => after = max,
                    _ => break,
                }
            }
        }
        // CSV items are recorded by the imports that name them (`integration::connection`
        // has already refused the product).
        PosProduct::Csv => {}
    }
    Ok(found)
}

fn identity(item: &PosItem) -> (String, Option<String>, Option<String>) {
    (
        item.name.clone(),
        item.sku.clone(),
        item.custom_code.clone(),
    )
}

/// Fetches the product's items from the catalogue source and records them.
/// What writing one synced item needs.
struct SyncContext<'a> {
    store: &'a dyn ItemStore,
    company_id: &'a str,
    now: &'a str,
    mappings: &'a HashMap<String, Mapping>,
}

impl SyncContext<'_> {
    /// Creates the item, or updates it when a fact changed (then a mapped item that came
    /// back is no longer orphaned, and a mapped item whose name or SKU changed raises
    /// `mapped_item_renamed`).
    async fn upsert(
        &self,
        mut next: PosItem,
        previous: Option<&PosItem>,
        summary: &mut ItemSyncSummary,
    ) -> Result<(), AppError> {
        let store = self.store;
        let Some(previous) = previous else {
            match store.put(next.to_item()?, Condition::NotExists).await {
                Ok(()) => summary.created += 1,
                // Created by a concurrent sync with the same facts.
                Err(crate::store::StoreError::ConditionFailed) => summary.unchanged += 1,
                Err(err) => return Err(err.into()),
            }
            return Ok(());
        };
        next.created_at = previous.created_at.clone();
        next.version = previous.version + 1;
        let same = PosItem {
            last_synced_at: previous.last_synced_at.clone(),
            updated_at: previous.updated_at.clone(),
            version: previous.version,
            ..next.clone()
        };
        if &same == previous {
            summary.unchanged += 1;
            return Ok(());
        }
        store
            .put(next.to_item()?, Condition::VersionIs(previous.version))
            .await?;
        summary.updated += 1;
        let item_id = &next.item_id;
        let Some(mapped) = self.mappings.get(item_id) else {
            return Ok(());
        };
        if previous.deleted_upstream {
            alerts::resolve(store, self.company_id, ORPHANED_MAPPING, item_id, self.now).await?;
        }
        if identity(previous) != identity(&next) {
            let message = format!(
                "mapped item `{item_id}` changed from \"{}\" (SKU {}) to \"{}\" (SKU {}); check that its mapping to {:?} `{}` still fits",
                previous.name,
                previous.sku.as_deref().unwrap_or("none"),
                next.name,
                next.sku.as_deref().unwrap_or("none"),
                mapped.target_kind,
                mapped.target_id
            );
            alerts::raise(
                store,
                self.company_id,
                MAPPED_ITEM_RENAMED,
                item_id,
                &message,
                self.now,
            )
            .await?;
            summary.renamed_alerts += 1;
        }
        Ok(())
    }
}

pub async fn sync(scope: SyncScope<'_>) -> Result<ItemSyncSummary, AppError> {
    let mut summary = ItemSyncSummary::default();
    let upstream = fetch(scope, &mut summary).await?;
    summary.seen = upstream.len();
    let stored: HashMap<String, PosItem> =
        product_items(scope.store, scope.company_id, scope.product)
            .await?
            .into_iter()
            .map(|i| (i.item_id.clone(), i))
            .collect();
    let mappings: HashMap<String, Mapping> = mapping::all(scope.store, scope.company_id)
        .await?
        .into_iter()
        .filter(|m| m.product == scope.product)
        .map(|m| (m.item_id.clone(), m))
        .collect();
    let ctx = SyncContext {
        store: scope.store,
        company_id: scope.company_id,
        now: scope.now,
        mappings: &mappings,
    };
    for (item_id, (seen, location_ids)) in &upstream {
        let next = PosItem {
            company_id: scope.company_id.to_string(),
            product: scope.product,
            item_id: item_id.clone(),
            name: seen.name.clone(),
            sku: seen.sku.clone(),
            custom_code: seen.custom_code.clone(),
            price: seen.price,
            active: seen.active,
            deleted_upstream: false,
            location_ids: location_ids.iter().cloned().collect(),
            accounting_group: seen.accounting_group.clone(),
            last_synced_at: scope.now.to_string(),
            created_at: scope.now.to_string(),
            updated_at: scope.now.to_string(),
            version: 1,
        };
        ctx.upsert(next, stored.get(item_id), &mut summary).await?;
    }
    for (item_id, previous) in stored
        .iter()
        .filter(|(id, item)| !upstream.contains_key(*id) && !item.deleted_upstream)
    {
        let mut gone = previous.clone();
        gone.deleted_upstream = true;
        gone.last_synced_at = scope.now.to_string();
        gone.updated_at = scope.now.to_string();
        gone.version += 1;
        scope
            .store
            .put(gone.to_item()?, Condition::VersionIs(previous.version))
            .await?;
        summary.deleted_upstream += 1;
        if mappings.contains_key(item_id) {
            let message = format!("mapped item `{item_id}` (\"{}\") was deleted in Lightspeed; its mapping no longer matches any item", previous.name);
            alerts::raise(
                scope.store,
                scope.company_id,
                ORPHANED_MAPPING,
                item_id,
                &message,
                scope.now,
            )
            .await?;
            summary.orphaned_alerts += 1;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use serde_json::{json, Value};

    use super::*;
    use crate::connection::source::MemoryCatalog;
    use crate::location::sync::tests::connected;
    use crate::mapping::record::TargetKind;
    use crate::store::memory::MemoryStore;

    fn k_items(ids: std::ops::Range<usize>) -> Vec<Value> {
        ids.map(|i| json!({"id": i, "name": format!("Item {i}"), "sku": format!("S{i}")}))
            .collect()
    }

    async fn k_series_company(store: &MemoryStore, catalog: &mut MemoryCatalog) {
        connected(store, "acme", PosProduct::KSeries).await;
        catalog.locations.insert(
            PosProduct::KSeries,
            json!({"_embedded": {"businessList": [{"businessName": "G", "currencyCode": "GBP",
                "businessLocations": [{"blID": 1, "blName": "Soho"}, {"blID": 2, "blName": "Leeds"}]}]}}),
        );
        location::sync::sync(SyncScope {
            store,
            source: catalog,
            company_id: "acme",
            product: PosProduct::KSeries,
            now: "t0",
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn k_series_items_are_paged_per_location_and_deduplicated() {
        let store = MemoryStore::new();
        let mut catalog = MemoryCatalog::default();
        k_series_company(&store, &mut catalog).await;
        // Location 1 sells 0..150 (two pages); location 2 sells 100..160 (one page).
        catalog.k_items.insert("1".into(), k_items(0..150));
        catalog.k_items.insert("2".into(), k_items(100..160));
        let summary = sync(catalog.scope(&store, PosProduct::KSeries, "t1"))
            .await
            .unwrap();
        assert_eq!(
            (summary.seen, summary.created, summary.requests),
            (160, 160, 3)
        );
        let items = product_items(&store, "acme", PosProduct::KSeries)
            .await
            .unwrap();
        assert_eq!(items.len(), 160);
        let shared = items.iter().find(|i| i.item_id == "120").unwrap();
        assert_eq!(shared.location_ids, ["1", "2"]);

        let again = sync(catalog.scope(&store, PosProduct::KSeries, "t2"))
            .await
            .unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 160));
    }

    fn mapping(item_id: &str, name: &str) -> Mapping {
        Mapping {
            company_id: "acme".into(),
            product: PosProduct::XSeries,
            item_id: item_id.into(),
            target_kind: TargetKind::Ingredient,
            target_id: "flour".into(),
            quantity: "1".parse().unwrap(),
            is_subtraction: false,
            item_name: name.into(),
            item_sku: None,
            created_at: "t0".into(),
            updated_at: "t0".into(),
            version: 1,
        }
    }

    #[tokio::test]
    async fn x_series_renames_and_deletions_of_mapped_items_raise_alerts() {
        let store = MemoryStore::new();
        connected(&store, "acme", PosProduct::XSeries).await;
        let mut catalog = MemoryCatalog {
            x_products: (1..=3)
                .map(|i| {
                    let product = json!({"id": format!("p{i}"), "name": format!("Pie {i}"), "sku": format!("P{i}")});
                    (i * 10, product)
                })
                .collect(),
            ..MemoryCatalog::default()
        };
        let first = sync(catalog.scope(&store, PosProduct::XSeries, "t1"))
            .await
            .unwrap();
        assert_eq!((first.created, first.requests), (3, 2));
        for (id, name) in [("p1", "Pie 1"), ("p2", "Pie 2")] {
            let mapped = mapping(id, name);
            store
                .put(
                    crate::store::to_item(&mapped, &mapped.key()).unwrap(),
                    Condition::NotExists,
                )
                .await
                .unwrap();
        }
        // p1 renamed, p2 deleted upstream, p3 unchanged.
        catalog.x_products = vec![
            (40, json!({"id": "p1", "name": "Apple Pie", "sku": "P1"})),
            (30, json!({"id": "p3", "name": "Pie 3", "sku": "P3"})),
        ];
        let second = sync(catalog.scope(&store, PosProduct::XSeries, "t2"))
            .await
            .unwrap();
        assert_eq!(
            (second.updated, second.unchanged, second.deleted_upstream),
            (1, 1, 1)
        );
        assert_eq!((second.renamed_alerts, second.orphaned_alerts), (1, 1));
        let (open, _) = alerts::list(&store, "acme", alerts::AlertStatus::Open, 10, None)
            .await
            .unwrap();
        let mut codes: Vec<(&str, &str)> = open
            .iter()
            .map(|a| (a.code.as_str(), a.subject.as_str()))
            .collect();
        codes.sort();
        assert_eq!(
            codes,
            [(MAPPED_ITEM_RENAMED, "p1"), (ORPHANED_MAPPING, "p2")]
        );
        let items = product_items(&store, "acme", PosProduct::XSeries)
            .await
            .unwrap();
        let p2 = items.iter().find(|i| i.item_id == "p2").unwrap();
        assert!(p2.deleted_upstream, "kept, flagged");
        assert!(catalog.requests.load(Ordering::Relaxed) >= 4);
    }
}
