//! A cached day changed sale by sale. A run that changes a few of a cached day's sales (a
//! webhook's sale, a late void) writes one patch item per changed sale, holding the sale as
//! it stands now (or its absence from the day) and its lines' attribution, instead of a new
//! generation of the whole day. Its writes grow with the lines of the sales it changed, not
//! with the day.
//!
//! A patch is `PATCH#{generation}#{run}#{sale}` in the day's partition. It belongs to one
//! generation and is read once the day state's version has reached its run (the version
//! the state gets when that run completes), so, like a generation, what a crashed run wrote
//! is never read; the next run deletes it before writing its own. Of a sale's patches the
//! latest run's is read; the ones it supersedes are deleted after the state moves on.
//!
//! A run that would take the day past [`limit`] patches writes a new generation instead,
//! which leaves the old generation's patches behind with it: whole-day writes come at most
//! once per quarter of the day's sales changed, a constant per changed sale.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::cache::{self, partition, CachedDay, DayState};
use crate::ledger::derive::{LineList, LineState, LineStates};
use crate::sales::CanonicalSale;
use crate::store::{attr, query_all, to_item, Condition, ItemStore, Key, Query, StoreError};

/// Patches a generation takes before the next run writes a new one: a quarter of the day's
/// sales, and at least this many.
const MIN_LIMIT: usize = 16;

/// Most patches a day's generation may have with `sales` sales in the day.
pub fn limit(sales: usize) -> usize {
    (sales / 4).max(MIN_LIMIT)
}

/// One sale of a day as a run leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePatch {
    pub sale_id: String,
    /// `None`: the sale is no longer in the day (its lines may still hold what they fed).
    pub sale: Option<CanonicalSale>,
    pub lines: LineList,
}

/// A sale's part of a day, borrowed.
#[derive(Default, PartialEq)]
struct Part<'a> {
    sale: Option<&'a CanonicalSale>,
    lines: Vec<(&'a str, &'a LineState)>,
}

/// The sale a line key belongs to: patched days have plain sale ids (no `/`).
fn sale_of(key: &str) -> Option<&str> {
    key.split_once('/').map(|(sale, _)| sale)
}

/// The day's sales and line states by sale, or `None` when the day cannot be patched:
/// a sale id that is not a plain id (it must end at the first `/` of its line keys and fit
/// a sort key), a sale twice, or a line key naming no sale.
fn parts<'a>(
    sales: &'a [CanonicalSale],
    lines: impl Iterator<Item = (&'a str, &'a LineState)>,
) -> Option<FxHashMap<&'a str, Part<'a>>> {
    let mut parts: FxHashMap<&str, Part> = FxHashMap::default();
    for sale in sales {
        if !crate::ids::is_valid_id(&sale.sale_id) {
            return None;
        }
        let part = parts.entry(sale.sale_id.as_str()).or_default();
        if part.sale.replace(sale).is_some() {
            return None;
        }
    }
    for (key, state) in lines {
        let sale = sale_of(key).filter(|s| crate::ids::is_valid_id(s))?;
        parts.entry(sale).or_default().lines.push((key, state));
    }
    for part in parts.values_mut() {
        part.lines.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    Some(parts)
}

/// The patches that take a cached day (`before`) to what a run derived (`after`), in
/// sale id order; `None` when the day cannot be patched (see [`parts`]) or more than `max`
/// sales changed.
pub fn diff(
    before_sales: &[CanonicalSale],
    before_lines: &LineStates,
    after_sales: &[CanonicalSale],
    after_lines: &LineList,
    max: usize,
) -> Option<Vec<SalePatch>> {
    let before = parts(
        before_sales,
        before_lines.iter().map(|(k, s)| (k.as_str(), s)),
    )?;
    let after = parts(after_sales, after_lines.iter())?;
    let nothing = Part::default();
    let ids: FxHashSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let mut changed: Vec<(&str, &Part)> = Vec::new();
    for id in ids {
        let now = after.get(id).unwrap_or(&nothing);
        if before.get(id).unwrap_or(&nothing) != now {
            if changed.len() == max {
                return None;
            }
            changed.push((id, now));
        }
    }
    changed.sort_unstable_by_key(|(id, _)| *id);
    Some(
        changed
            .into_iter()
            .map(|(id, now)| SalePatch {
                sale_id: id.to_string(),
                sale: now.sale.cloned(),
                lines: now.lines.iter().map(|(k, s)| (*k, (*s).clone())).collect(),
            })
            .collect(),
    )
}

/// Makes `day` what its patches say: a patched sale replaced where it stood (or removed),
/// a new one added at the end, and each patched sale's lines replaced by the patch's.
pub fn apply(day: &mut CachedDay, patches: Vec<SalePatch>) {
    if patches.is_empty() {
        return;
    }
    let mut by_sale: FxHashMap<String, SalePatch> = patches
        .into_iter()
        .map(|p| (p.sale_id.clone(), p))
        .collect();
    day.lines
        .retain(|key, _| !sale_of(key).is_some_and(|s| by_sale.contains_key(s)));
    for patch in by_sale.values_mut() {
        day.lines.append(std::mem::take(&mut patch.lines));
    }
    let mut sales = Vec::with_capacity(day.sales.len());
    for sale in std::mem::take(&mut day.sales) {
        match by_sale.get_mut(&sale.sale_id) {
            Some(patch) => sales.extend(patch.sale.take()),
            None => sales.push(sale),
        }
    }
    let mut added: Vec<CanonicalSale> = by_sale.into_values().filter_map(|p| p.sale).collect();
    added.sort_unstable_by(|a, b| (a.closed_at, &a.sale_id).cmp(&(b.closed_at, &b.sale_id)));
    sales.append(&mut added);
    day.sales = sales;
}

/// Patches encoded for their items, or `None` when one is too large for a single item (the
/// run writes a generation instead).
pub fn encode(patches: &[SalePatch]) -> Result<Option<Vec<(String, String)>>, StoreError> {
    let mut encoded = Vec::with_capacity(patches.len());
    for patch in patches {
        let mut chunks = cache::encode(patch)?;
        if chunks.len() != 1 {
            return Ok(None);
        }
        encoded.extend(chunks.pop().map(|data| (patch.sale_id.clone(), data)));
    }
    Ok(Some(encoded))
}

fn prefix(generation: u32) -> String {
    format!("PATCH#{generation:06}#")
}

fn key(state: &DayState, generation: u32, run: u64, sale_id: &str) -> Key {
    Key::new(
        partition(&state.company_id, &state.location_id, &state.business_date),
        format!("{}{run:012}#{sale_id}", prefix(generation)),
    )
}

/// A patch item as stored.
struct Stored {
    key: Key,
    run: u64,
    sale_id: String,
    data: Option<String>,
}

/// The patch items of a generation, written by any run.
async fn stored(
    store: &dyn ItemStore,
    state: &DayState,
    generation: u32,
) -> Result<Vec<Stored>, StoreError> {
    let pk = partition(&state.company_id, &state.location_id, &state.business_date);
    let items = query_all(
        store,
        Query::partition(pk.clone()).begins_with(prefix(generation)),
    )
    .await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(sk) = item.get(attr::SK).and_then(|v| v.as_str()) else {
            continue;
        };
        let rest = sk.strip_prefix(&prefix(generation)).unwrap_or_default();
        let Some((run, sale_id)) = rest
            .split_once('#')
            .and_then(|(run, sale)| Some((run.parse::<u64>().ok()?, sale)))
        else {
            return Err(StoreError::Malformed(format!(
                "sales cache patch `{sk}` is not named PATCH#generation#run#sale"
            )));
        };
        out.push(Stored {
            key: Key::new(pk.clone(), sk),
            run,
            sale_id: sale_id.to_string(),
            data: item
                .get("data")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        });
    }
    Ok(out)
}

/// The current patches of the state's generation: of each sale, the latest completed run's.
pub async fn current(
    store: &dyn ItemStore,
    state: &DayState,
) -> Result<Vec<SalePatch>, StoreError> {
    let mut latest: FxHashMap<String, Stored> = FxHashMap::default();
    for patch in stored(store, state, state.generation).await? {
        if patch.run > state.version {
            continue;
        }
        match latest.get(&patch.sale_id) {
            Some(seen) if seen.run >= patch.run => {}
            _ => {
                latest.insert(patch.sale_id.clone(), patch);
            }
        }
    }
    let mut patches = Vec::with_capacity(latest.len());
    for patch in latest.into_values() {
        let data = patch.data.ok_or_else(|| {
            StoreError::Malformed(format!(
                "sales cache patch of {} has no data",
                patch.sale_id
            ))
        })?;
        patches.push(cache::decode::<SalePatch>(&[data])?);
    }
    Ok(patches)
}

/// Writes a run's patches on the state's generation: first deletes what a crashed run left
/// (never current), then puts each patch under this run. Returns the patches these
/// supersede, for [`drop_superseded`] once the state has moved on.
pub async fn write(
    store: &dyn ItemStore,
    state: &DayState,
    encoded: &[(String, String)],
) -> Result<Vec<Key>, StoreError> {
    let run = state.version + 1;
    let patched: FxHashSet<&str> = encoded.iter().map(|(sale, _)| sale.as_str()).collect();
    let mut superseded = Vec::new();
    for patch in stored(store, state, state.generation).await? {
        if patch.run >= run {
            store.delete(&patch.key, Condition::None).await?;
        } else if patched.contains(patch.sale_id.as_str()) {
            superseded.push(patch.key);
        }
    }
    for (sale_id, data) in encoded {
        let key = key(state, state.generation, run, sale_id);
        let item = to_item(&serde_json::json!({ "data": data }), &key)?;
        store.put(item, Condition::None).await?;
    }
    Ok(superseded)
}

/// Removes patches no longer read (best effort: a leftover is never read again).
pub async fn drop_superseded(store: &dyn ItemStore, keys: &[Key]) {
    for key in keys {
        if let Err(err) = store.delete(key, Condition::None).await {
            tracing::warn!(sk = %key.sk, error = %err, "superseded sales cache patch left behind");
        }
    }
}

/// Removes a superseded generation's patches (best effort, as for its chunks).
pub async fn drop_generation(store: &dyn ItemStore, state: &DayState, generation: u32) {
    match stored(store, state, generation).await {
        Ok(patches) => {
            let keys: Vec<Key> = patches.into_iter().map(|p| p.key).collect();
            drop_superseded(store, &keys).await;
        }
        Err(err) => {
            tracing::warn!(generation, error = %err, "old sales cache patches left behind");
        }
    }
}

#[cfg(test)]
#[path = "patches_tests.rs"]
mod tests;
