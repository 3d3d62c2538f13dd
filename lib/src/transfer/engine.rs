//! The work of one transfer under the location-day lease: sales (fetched or cached) →
//! matched, exploded and valued → new ledger entries → cache and day state.
//!
//! Write order, and why a crash between any two writes is safe: (1) the new cache
//! generation (not current yet), (2) the ledger entries, each a conditional create under a
//! deterministic key, (3) the day state, which makes the generation current. A retry reads
//! the ledger again, so entries written before a crash are posted, not repeated.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{NaiveDate, SecondsFormat};
use futures::{StreamExt as _, TryStreamExt as _};

use super::cache::{self, CachedDay, DayState};
use super::lease;
use super::patches;
use super::settings::TransferSettings;
use super::source::SalesSource;
use super::stats::{ApiResponseSummary, TransferStats};
use crate::catalog::{recipe, Ingredient, Recipe, StorageUnit};
use crate::connection::PosProduct;
use crate::error::{AppError, ErrorCode};
use crate::items::PosItem;
use crate::ledger::derive::{derive, Catalogue, DayInput, Prior};
use crate::ledger::{entry, LedgerEntry};
use crate::lightspeed::LightspeedError;
use crate::location::business_day::window;
use crate::location::Location;
use crate::mapping::matching::{MappedItem, MappingIndex};
use crate::sales::{CanonicalSale, FetchedDay};
use crate::store::{
    from_item, keys, query_all, query_all_as, Condition, ItemStore, Query, StoreError,
};

/// Why an attempt did not post.
#[derive(Debug)]
pub enum Failure {
    /// Final for this request: logged as failed, not retried.
    Final(AppError),
    /// Lightspeed said "later": retried through the queue while retries remain.
    Lightspeed(LightspeedError),
    /// Our own infrastructure (store, lease): the message goes back to the queue as is.
    Infrastructure(AppError),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Failure::Infrastructure(err.into())
    }
}

/// What a successful attempt did.
#[derive(Debug, Clone)]
pub struct Posted {
    pub no_data: bool,
    pub ledger_ids: Vec<String>,
    pub stats: TransferStats,
}

/// Writes of one run in flight at once (ledger entries, cache chunks): enough to hide the
/// round trips, few enough to stay far below a table's burst capacity.
pub(crate) const PARALLEL_WRITES: usize = 8;

pub struct Engine<'a> {
    pub store: &'a dyn ItemStore,
    pub sales: &'a dyn SalesSource,
    pub settings: &'a TransferSettings,
}

pub struct Job<'a> {
    pub company_id: &'a str,
    pub location_id: &'a str,
    pub date: NaiveDate,
    pub force_refresh: bool,
    pub log_id: &'a str,
    pub request_uuid: &'a str,
    pub now: &'a str,
}

impl Engine<'_> {
    /// Checks the location and its storage unit, then posts the day under the lease.
    pub async fn transfer(&self, job: &Job<'_>) -> Result<Posted, Failure> {
        let location = crate::location::record::get(self.store, job.company_id, job.location_id)
            .await
            .map_err(|err| match err.code {
                ErrorCode::LocationNotFound => Failure::Final(err),
                _ => Failure::Infrastructure(err),
            })?;
        let Some(storage_unit_id) = location.storage_unit_id.clone() else {
            return Err(Failure::Final(AppError::new(
                ErrorCode::StorageUnitRequired,
                format!(
                    "location \"{}\" has no storage unit; link one, then transfer {} again",
                    location.name, job.date
                ),
            )));
        };
        let unit = self
            .store
            .get(
                &<StorageUnit as crate::catalog::records::CatalogRecord>::key(
                    job.company_id,
                    &storage_unit_id,
                ),
            )
            .await?;
        if unit.is_none() {
            return Err(Failure::Final(AppError::new(
                ErrorCode::LocationHasNoStorageUnit,
                format!(
                    "location \"{}\" is linked to storage unit `{storage_unit_id}`, which no longer exists; link an existing unit",
                    location.name
                ),
            )));
        }
        let date = job.date.to_string();
        let lease = lease::acquire(
            self.store,
            job.company_id,
            job.location_id,
            &date,
            self.settings.lease,
            self.settings.lease_wait,
        )
        .await
        .map_err(Failure::Infrastructure)?;
        let result = self.post_day(job, &location, &storage_unit_id).await;
        lease.release(self.store).await;
        result
    }

    async fn post_day(
        &self,
        job: &Job<'_>,
        location: &Location,
        storage_unit_id: &str,
    ) -> Result<Posted, Failure> {
        let date = job.date.to_string();
        // The day's sales (cache and Lightspeed), the catalogue and what is posted are read
        // at once: none needs another, and each is a wait on the network.
        let (
            (
                state,
                DaySales {
                    mut day,
                    used_cache,
                    previous_lines,
                    previous_sales,
                },
            ),
            (catalogue, items),
            posted,
        ) = futures::future::try_join3(
            self.state_and_sales(job, location, &date),
            load_catalogue(self.store, job.company_id, location),
            posted_entries(
                self.store,
                job.company_id,
                job.location_id,
                storage_unit_id,
                &date,
            ),
        )
        .await?;
        name_lines_from_catalogue(&mut day.sales, &items);
        // Only the sales closed in the day move its stock; the others it holds are earlier
        // days' sales paid in it (settlements, for its journal).
        let day_window = day
            .window()
            .unwrap_or_else(|| window(location.day_mode(), job.date));
        let consumed: Cow<'_, [CanonicalSale]> =
            if day.sales.iter().all(|s| day_window.contains(s.closed_at)) {
                Cow::Borrowed(&day.sales)
            } else {
                Cow::Owned(
                    day.sales
                        .iter()
                        .filter(|s| day_window.contains(s.closed_at))
                        .cloned()
                        .collect(),
                )
            };
        let same_unit = state.storage_unit_id.as_deref() == Some(storage_unit_id);
        let had_cache = previous_lines.is_some();
        let prior = match (previous_lines, same_unit) {
            (Some(lines), true) => Prior {
                lines: lines.into_states(),
                revisions: state.revisions.clone(),
            },
            _ => Prior::default(),
        };
        let mut derived = derive(&DayInput {
            company_id: job.company_id,
            storage_unit_id,
            location_id: job.location_id,
            business_date: &date,
            sales: &consumed,
            catalogue: &catalogue,
            posted: &posted,
            prior: &prior,
            transfer_log_id: job.log_id,
            request_uuid: job.request_uuid,
            now: job.now,
        });
        let api = api_summary(&day, used_cache);
        let no_data = day.sales.is_empty();
        let sales_count = consumed.iter().filter(|s| s.counts()).count();
        drop(consumed);
        // A re-check that fetched exactly what is cached rewrites nothing but the state.
        let sales_changed = !used_cache && previous_sales.as_ref() != Some(&day.sales);
        let cache_changed = sales_changed
            || !derived.new_entries.is_empty()
            || !had_cache
            || !derived.lines.same_as(&prior.lines);
        let lines = std::mem::take(&mut derived.lines);
        // The sales (and their lines) this run changed in the cached day, when it can be
        // patched sale by sale: the same storage unit's attribution, plain sale ids.
        let max = patches::limit(day.sales.len()).saturating_sub(state.patches as usize);
        let patches = match (cache_changed && had_cache && same_unit, &previous_sales) {
            (false, _) => None,
            (true, before) => {
                let before = before.as_deref().unwrap_or(&day.sales);
                patches::diff(before, &prior.lines, &day.sales, &lines, max)
            }
        };
        let written = Written {
            state: &state,
            day: CachedDay { lines, ..day },
            cache_changed,
            patches,
            storage_unit_id,
            sales_count,
        };
        self.write(job, written, &derived).await?;
        let created = derived.new_entries.len();
        Ok(Posted {
            no_data,
            ledger_ids: derived
                .new_entries
                .iter()
                .map(|e| e.entry_id.clone())
                .collect(),
            stats: TransferStats::new(&derived.stats, created, used_cache, api),
        })
    }

    /// The day's state (a new one for a day never transferred) and its sales.
    async fn state_and_sales(
        &self,
        job: &Job<'_>,
        location: &Location,
        date: &str,
    ) -> Result<(DayState, DaySales), Failure> {
        let state = cache::load_state(self.store, job.company_id, job.location_id, date)
            .await?
            .unwrap_or_else(|| DayState {
                company_id: job.company_id.to_string(),
                location_id: job.location_id.to_string(),
                business_date: date.to_string(),
                ..DayState::default()
            });
        let sales = self.day_sales(job, location, &state).await?;
        Ok((state, sales))
    }

    /// The day's sales: the cached copy unless a refresh is asked for (or there is none),
    /// with the previous run's line attribution and, after a fetch, the sales it replaces.
    async fn day_sales(
        &self,
        job: &Job<'_>,
        location: &Location,
        state: &DayState,
    ) -> Result<DaySales, Failure> {
        let day_window = window(location.day_mode(), job.date);
        // A refresh needs the cached copy only to compare with: both are read at once.
        let (cached, fetched) = if job.force_refresh {
            let (cached, fetched) = futures::future::join(
                cache::load(self.store, state),
                self.fetch(job, location, &day_window),
            )
            .await;
            (cached?, fetched?)
        } else {
            match cache::load(self.store, state).await? {
                Some(mut day) => {
                    let lines = std::mem::take(&mut day.lines);
                    return Ok(DaySales {
                        day,
                        used_cache: true,
                        previous_lines: Some(lines),
                        previous_sales: None,
                    });
                }
                None => (None, self.fetch(job, location, &day_window).await?),
            }
        };
        let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let (previous_lines, previous_sales) = cached.map(|c| (c.lines, c.sales)).unzip();
        Ok(DaySales {
            day: CachedDay {
                fetched_at: job.now.to_string(),
                window_start: rfc(day_window.start),
                window_end: rfc(day_window.end),
                pages: fetched.pages,
                requests: fetched.requests,
                sales: fetched.sales,
                lines: Default::default(),
            },
            used_cache: false,
            previous_lines,
            previous_sales,
        })
    }

    /// The day's sales from their source: Lightspeed, or the imported CSV rows.
    async fn fetch(
        &self,
        job: &Job<'_>,
        location: &Location,
        day_window: &crate::location::business_day::Window,
    ) -> Result<FetchedDay, Failure> {
        match location.product {
            PosProduct::Csv => Ok(FetchedDay {
                sales: crate::imports::sales::day(
                    self.store,
                    job.company_id,
                    job.location_id,
                    day_window,
                )
                .await?,
                pages: 0,
                requests: 0,
            }),
            _ => self
                .sales
                .fetch_day(location, day_window)
                .await
                .map_err(Failure::Lightspeed),
        }
    }

    /// Cache generation (when changed), the new entries (create-only), then the day state
    /// under its version: the order that makes a crash between any two writes recoverable.
    async fn write(
        &self,
        job: &Job<'_>,
        written: Written<'_>,
        derived: &crate::ledger::derive::Derived,
    ) -> Result<(), Failure> {
        let Written {
            state,
            day,
            cache_changed,
            patches,
            storage_unit_id,
            sales_count,
        } = written;
        let mut next = state.clone();
        // A few sales changed: patches on the current generation; else a new generation.
        let patches = match patches {
            Some(p) => patches::encode(&p)?,
            None => None,
        };
        let mut superseded = Vec::new();
        let mut new_generation = false;
        if cache_changed {
            match &patches {
                Some(encoded) => {
                    superseded = patches::write(self.store, state, encoded).await?;
                    let written = u32::try_from(encoded.len()).unwrap_or(u32::MAX);
                    next.patches = state.patches.saturating_add(written);
                }
                None => {
                    let generation = state.generation + 1;
                    next.chunks =
                        cache::write_generation(self.store, state, generation, &day).await?;
                    next.generation = generation;
                    next.patches = 0;
                    new_generation = true;
                }
            }
            next.fetched_at = Some(day.fetched_at.clone());
            next.sales_count = sales_count;
            next.lines_count = day.sales.iter().map(|s| s.lines.len()).sum();
        }
        // Create-only, so their order does not matter: written a few at a time.
        let puts: Vec<_> = derived
            .new_entries
            .iter()
            .map(|new| put_entry(self.store, new))
            .collect();
        futures::stream::iter(puts)
            .buffer_unordered(PARALLEL_WRITES)
            .try_collect::<()>()
            .await?;
        next.storage_unit_id = Some(storage_unit_id.to_string());
        next.revisions = derived.revisions.clone();
        next.last_run_at = Some(job.now.to_string());
        next.last_log_id = Some(job.log_id.to_string());
        match cache::save_state(self.store, &next).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                return Err(Failure::Infrastructure(AppError::new(
                    ErrorCode::TransferInProgress,
                    "the day changed while it was being posted; it will be re-read",
                )))
            }
            Err(err) => return Err(err.into()),
        }
        if new_generation && state.generation > 0 {
            cache::drop_generation(self.store, state, state.generation, state.chunks).await;
            if state.patches > 0 {
                patches::drop_generation(self.store, state, state.generation).await;
            }
        }
        patches::drop_superseded(self.store, &superseded).await;
        Ok(())
    }
}

/// One new ledger entry, create-only: another worker's entry under the same id means the
/// day moved on under this run.
async fn put_entry(store: &dyn ItemStore, new: &LedgerEntry) -> Result<(), Failure> {
    match store.put(new.to_item()?, Condition::NotExists).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(Failure::Infrastructure(AppError::new(
            ErrorCode::TransferInProgress,
            format!(
                "ledger entry {} was written by another worker; the day will be re-read",
                new.entry_id
            ),
        ))),
        Err(err) => Err(err.into()),
    }
}

/// A day's sales and what the previous run left of it.
struct DaySales {
    day: CachedDay,
    used_cache: bool,
    previous_lines: Option<crate::ledger::derive::LineList>,
    previous_sales: Option<Vec<crate::sales::CanonicalSale>>,
}

/// What a run writes back.
struct Written<'a> {
    state: &'a DayState,
    day: CachedDay,
    cache_changed: bool,
    /// The changed sales, when the cached day can be patched (see [`patches`]).
    patches: Option<Vec<patches::SalePatch>>,
    storage_unit_id: &'a str,
    /// Sales and refunds closed in the day.
    sales_count: usize,
}

/// The ledger entries already posted for a location-day in a storage unit.
pub(crate) async fn posted_entries(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    storage_unit_id: &str,
    date: &str,
) -> Result<Vec<LedgerEntry>, Failure> {
    let query = Query::partition(entry::partition(company_id, storage_unit_id))
        .begins_with(entry::day_prefix(date, location_id))
        .limit(500);
    Ok(query_all_as(store, query).await?)
}

/// What the API response summary says of where the sales came from.
fn api_summary(day: &CachedDay, used_cache: bool) -> ApiResponseSummary {
    ApiResponseSummary {
        source: if used_cache { "cache" } else { "lightspeed" }.into(),
        window_start: day.window_start.clone(),
        window_end: day.window_end.clone(),
        fetched_at: day.fetched_at.clone(),
        pages: day.pages,
        requests: if used_cache { 0 } else { day.requests },
        sales: day.sales.len(),
        lines: day.sales.iter().map(|s| s.lines.len()).sum(),
    }
}

/// X-Series sale lines name only the product id; the synced item gives its name and SKU
/// (so matching by code or name, and the "missing name" rule, see what the POS shows).
pub(crate) fn name_lines_from_catalogue(
    sales: &mut [crate::sales::CanonicalSale],
    items: &HashMap<String, PosItem>,
) {
    for line in sales.iter_mut().flat_map(|s| s.lines.iter_mut()) {
        let Some(item) = line.item.item_id.as_deref().and_then(|id| items.get(id)) else {
            continue;
        };
        if line.item.name.trim().is_empty() {
            line.item.name = item.name.as_str().into();
        }
        if line.item.sku.is_none() {
            line.item.sku = item
                .custom_code
                .as_deref()
                .or(item.sku.as_deref())
                .map(Into::into);
        }
    }
}

/// A mapping as matching sees it at this location: with the synced item's code and name,
/// or what was recorded at mapping time for an item not synced yet; `None` when the item
/// is not sold here.
fn mapped_item(
    mapping: crate::mapping::record::Mapping,
    items: &HashMap<String, PosItem>,
    location: &Location,
) -> Option<MappedItem<crate::mapping::record::Mapping>> {
    match items.get(&mapping.item_id) {
        // An item listing no locations (X-Series products) is sold everywhere.
        Some(item)
            if !item.location_ids.is_empty()
                && !item.location_ids.contains(&location.location_id) =>
        {
            None
        }
        Some(item) => Some(MappedItem {
            item_id: mapping.item_id.clone(),
            code: item.custom_code.clone().or_else(|| item.sku.clone()),
            name: item.name.clone(),
            mapping,
        }),
        None => Some(MappedItem {
            item_id: mapping.item_id.clone(),
            code: mapping.item_sku.clone(),
            name: mapping.item_name.clone(),
            mapping,
        }),
    }
}

/// Each ingredient's average cost in the location's currency, or the exception that
/// refuses it by name (its lines are skipped, the rest of the day goes on).
async fn costs_in(
    store: &dyn ItemStore,
    company_id: &str,
    currency: Option<&str>,
) -> Result<
    (
        HashMap<String, crate::money::Money>,
        HashMap<String, String>,
    ),
    Failure,
> {
    let mut costs = HashMap::new();
    let mut refused = HashMap::new();
    let ingredients = query_all(
        store,
        Query::partition(keys::company(company_id)).begins_with(keys::INGREDIENT_PREFIX),
    )
    .await?;
    for item in ingredients {
        let ingredient = from_item::<Ingredient>(item)?;
        match ingredient.average_cost_in(currency) {
            Ok(cost) => {
                costs.insert(ingredient.id, cost);
            }
            Err(refusal) => {
                let exception = refusal.exception(&ingredient.id, currency.unwrap_or("unknown"));
                refused.insert(ingredient.id, exception);
            }
        }
    }
    Ok((costs, refused))
}

/// The company's mappings (for the location's POS), recipes and ingredient costs, and the
/// location's POS items by id.
pub async fn load_catalogue(
    store: &dyn ItemStore,
    company_id: &str,
    location: &Location,
) -> Result<(Catalogue, HashMap<String, PosItem>), Failure> {
    // Matching is scoped to the items this location sells: two businesses of a group
    // often share SKUs and names, and each item carries its own mapping.
    let items: HashMap<String, PosItem> =
        crate::items::record::product_items(store, company_id, location.product)
            .await?
            .into_iter()
            .map(|i| (i.item_id.clone(), i))
            .collect();
    let mappings = crate::mapping::record::all(store, company_id)
        .await
        .map_err(Failure::Infrastructure)?
        .into_iter()
        .filter(|m| m.product == location.product)
        .filter_map(|m| mapped_item(m, &items, location))
        .collect();
    let recipes: HashMap<String, Recipe> = query_all(
        store,
        Query::partition(keys::company(company_id)).begins_with(recipe::SORT_PREFIX),
    )
    .await?
    .into_iter()
    .map(from_item::<Recipe>)
    .map(|r| r.map(|r| (r.id.clone(), r)))
    .collect::<Result<_, _>>()?;
    let currency = location.currency.as_deref();
    let (costs, refused_costs) = costs_in(store, company_id, currency).await?;
    Ok((
        Catalogue {
            mappings: MappingIndex::new(mappings),
            recipes: recipe::explode_lines(&recipes),
            costs,
            currency: currency.map(str::to_string),
            refused_costs,
        },
        items,
    ))
}
