//! Imported sales at rest: per CSV location and UTC date, each import's sales as deflated
//! JSON chunks (`LOC#{c}#{loc}#CSV#{utc date}` / `IMPORT#{import_id}#{n}`), written before
//! the import record. A transfer reads the days its business-day window touches and keeps
//! the sales of committed imports only, so a half-written import is never seen.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};

use super::parse::ImportedSale;
use super::record::{self, ImportRecord};
use crate::location::business_day::Window;
use crate::sales::CanonicalSale;
use crate::store::{query_all, to_item, Condition, ItemStore, Key, Query, StoreError};
use crate::transfer::cache;

const CHUNK_PREFIX: &str = "IMPORT#";

pub fn partition(company_id: &str, location_id: &str, utc_date: NaiveDate) -> String {
    format!("LOC#{company_id}#{location_id}#CSV#{utc_date}")
}

fn chunk_key(
    company_id: &str,
    location_id: &str,
    date: NaiveDate,
    import_id: &str,
    n: usize,
) -> Key {
    Key::new(
        partition(company_id, location_id, date),
        format!("{CHUNK_PREFIX}{import_id}#{n:04}"),
    )
}

/// Writes an import's sales (idempotent: the same import always writes the same chunks);
/// returns the number of items written.
pub async fn write(
    store: &dyn ItemStore,
    company_id: &str,
    import_id: &str,
    sales: &[ImportedSale],
) -> Result<usize, StoreError> {
    let mut by_day: BTreeMap<(&str, NaiveDate), Vec<&CanonicalSale>> = BTreeMap::new();
    for imported in sales {
        by_day
            .entry((
                imported.location_id.as_str(),
                imported.sale.closed_at.date_naive(),
            ))
            .or_default()
            .push(&imported.sale);
    }
    let mut written = 0;
    for ((location_id, date), day_sales) in by_day {
        let chunks = cache::encode(&day_sales)?;
        for (n, data) in chunks.iter().enumerate() {
            let key = chunk_key(company_id, location_id, date, import_id, n);
            let mut item = to_item(&serde_json::json!({ "data": data }), &key)?;
            item.insert("import_id".into(), import_id.into());
            item.insert("chunks".into(), chunks.len().into());
            store.put(item, Condition::None).await?;
            written += 1;
        }
    }
    Ok(written)
}

/// The committed imported sales closed inside `window` at one location. A sale id imported
/// again by a later file replaces the earlier one (a corrected export).
pub async fn day(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    window: &Window,
) -> Result<Vec<CanonicalSale>, StoreError> {
    let last = window.end - Duration::nanoseconds(1);
    let mut date = window.start.date_naive();
    let mut found: Vec<(ImportRecord, Vec<CanonicalSale>)> = Vec::new();
    let mut committed: HashMap<String, Option<ImportRecord>> = HashMap::new();
    while date <= last.date_naive() {
        let query = Query::partition(partition(company_id, location_id, date))
            .begins_with(CHUNK_PREFIX)
            .limit(100);
        let mut chunks: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
        for item in query_all(store, query).await? {
            let text = |name: &str| item.get(name).and_then(|v| v.as_str()).map(str::to_string);
            let (Some(import_id), Some(data)) = (text("import_id"), text("data")) else {
                return Err(StoreError::Malformed(
                    "imported sales chunk without data".into(),
                ));
            };
            let expected = item
                .get("chunks")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            let entry = chunks
                .entry(import_id)
                .or_insert((expected as usize, Vec::new()));
            entry.1.push(data);
        }
        for (import_id, (expected, data)) in chunks {
            if !committed.contains_key(&import_id) {
                let found = record::find(store, company_id, &import_id).await?;
                committed.insert(import_id.clone(), found);
            }
            // Not committed (a failed or concurrent upload), or not all written yet.
            let Some(Some(import)) = committed.get(&import_id) else {
                continue;
            };
            if data.len() != expected {
                continue;
            }
            let sales: Vec<CanonicalSale> = cache::decode(&data)?;
            found.push((import.clone(), sales));
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    found.sort_by(|a, b| (&a.0.created_at, &a.0.import_id).cmp(&(&b.0.created_at, &b.0.import_id)));
    let mut by_id: BTreeMap<String, CanonicalSale> = BTreeMap::new();
    for (_, sales) in found {
        for sale in sales.into_iter().filter(|s| window.contains(s.closed_at)) {
            by_id.insert(sale.sale_id.clone(), sale);
        }
    }
    let mut sales: Vec<CanonicalSale> = by_id.into_values().collect();
    sales.sort_by(|a, b| (a.closed_at, &a.sale_id).cmp(&(b.closed_at, &b.sale_id)));
    Ok(sales)
}
