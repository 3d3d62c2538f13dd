//! The create / get / list / update use cases every company-scoped catalogue object shares.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::store::occ::{self, Plan};
use crate::store::{
    from_item, keys, query_page_as, to_item, Condition, Item, ItemStore, Key, Query, StoreError,
    Write,
};

/// A catalogue object stored under its company's partition.
pub trait CatalogRecord: Serialize + DeserializeOwned + Clone + Send + Sync {
    /// Kind name used in ids and messages, e.g. `storage_unit`.
    const KIND: &'static str;
    const SORT_PREFIX: &'static str;
    const NOT_FOUND: ErrorCode;
    type Input: Send + Serialize;
    type Patch: Send;

    fn key(company_id: &str, id: &str) -> Key {
        keys::catalog(company_id, Self::SORT_PREFIX, id)
    }
    /// Builds a validated new record.
    fn create(
        company_id: &str,
        id: String,
        input: Self::Input,
        now: &str,
    ) -> Result<Self, AppError>;
    /// Applies a validated partial update.
    fn apply(&mut self, patch: Self::Patch, now: &str) -> Result<(), AppError>;
    fn version(&self) -> u64;
    fn set_version(&mut self, version: u64);
    /// Secondary-index attributes stored with the record.
    fn index_attributes(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// What the API shows of the record.
    fn view(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// [`CatalogRecord::version`] and [`CatalogRecord::set_version`] of a record whose
/// `version` field holds it.
macro_rules! versioned {
    () => {
        fn version(&self) -> u64 {
            self.version
        }
        fn set_version(&mut self, version: u64) {
            self.version = version;
        }
    };
}
pub(crate) use versioned;

/// Result of a create: `replayed` when an idempotency key returned an existing object.
pub struct Created<T> {
    pub record: T,
    pub replayed: bool,
}

pub struct ListPage<T> {
    pub items: Vec<T>,
    pub last_key: Option<Item>,
}

fn stored<T: CatalogRecord>(record: &T, key: &Key) -> Result<Item, StoreError> {
    let mut item = to_item(record, key)?;
    for (name, value) in record.index_attributes() {
        item.insert(name.to_string(), value.into());
    }
    Ok(item)
}

fn not_found<T: CatalogRecord>(id: &str) -> AppError {
    AppError::new(
        T::NOT_FOUND,
        format!(
            "{} `{id}` does not exist in this company",
            T::KIND.replace('_', " ")
        ),
    )
}

pub async fn create<T: CatalogRecord>(
    store: &dyn ItemStore,
    company_id: &str,
    input: T::Input,
    idempotency_key: Option<&str>,
    now: &str,
) -> Result<Created<T>, AppError> {
    let id = ids::new_id(company_id, T::KIND, idempotency_key);
    let fingerprint = ids::request_fingerprint(&input);
    let record = T::create(company_id, id.clone(), input, now)?;
    let key = T::key(company_id, &id);
    let mut item = stored(&record, &key)?;
    if idempotency_key.is_some() {
        item.insert(
            ids::REQUEST_FINGERPRINT_ATTR.into(),
            fingerprint.clone().into(),
        );
    }
    match store.put(item, Condition::NotExists).await {
        Ok(()) => Ok(Created {
            record,
            replayed: false,
        }),
        // Only an idempotency key makes ids collide: return what the first call created,
        // if this is the same request.
        Err(StoreError::ConditionFailed) => {
            let first = store.get(&key).await?.ok_or_else(|| not_found::<T>(&id))?;
            ids::check_replay(&first, &fingerprint)?;
            Ok(Created {
                record: from_item(first)?,
                replayed: true,
            })
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn get<T: CatalogRecord>(
    store: &dyn ItemStore,
    company_id: &str,
    id: &str,
) -> Result<T, AppError> {
    if !ids::is_valid_id(id) {
        return Err(not_found::<T>(id));
    }
    match store.get(&T::key(company_id, id)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(not_found::<T>(id)),
    }
}

/// Patterns 1, 2, 4: the partition holding a company's records of kind `T` (cursors of
/// their lists must belong to it).
pub fn partition<T: CatalogRecord>(company_id: &str) -> String {
    T::key(company_id, "").pk
}

pub async fn list<T: CatalogRecord>(
    store: &dyn ItemStore,
    company_id: &str,
    limit: u32,
    start_after: Option<Item>,
) -> Result<ListPage<T>, AppError> {
    let query = Query::partition(partition::<T>(company_id))
        .begins_with(T::SORT_PREFIX)
        .limit(limit)
        .start_after(start_after);
    let (items, last_key) = query_page_as(store, &query).await?;
    Ok(ListPage { items, last_key })
}

/// Read-modify-write with a `version` condition, retried a few times, so two concurrent
/// updates never silently drop each other's fields.
pub async fn update<T: CatalogRecord>(
    store: &dyn ItemStore,
    company_id: &str,
    id: &str,
    patch: T::Patch,
    now: &str,
) -> Result<T, AppError>
where
    T::Patch: Clone,
{
    let what = format!("{} `{id}`", T::KIND);
    let patch = &patch;
    occ::retry(store, &what, move || async move {
        let mut record = get::<T>(store, company_id, id).await?;
        let previous = record.version();
        record.apply(patch.clone(), now)?;
        record.set_version(previous + 1);
        let item = stored(&record, &T::key(company_id, id))?;
        Ok(Plan::one(
            Write::Put(item, Condition::VersionIs(previous)),
            record,
        ))
    })
    .await
}
