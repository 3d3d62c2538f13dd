//! The state-store port: a narrow key-value view of the one DynamoDB table, with its
//! DynamoDB adapter ([`dynamodb`]) and an in-memory one for unit tests ([`memory`]).
//! Use cases build keys with [`keys`] and never see an SDK type; read-modify-write goes
//! through [`occ`], single-holder work through [`lease`].

pub mod dynamodb;
pub mod keys;
pub mod lease;
pub mod memory;
pub mod occ;

use async_trait::async_trait;
use serde_json::{Map, Value};

/// One stored item: JSON attributes, including the key attributes of [`keys`].
pub type Item = Map<String, Value>;

/// Names of the key and bookkeeping attributes (mirrored in `template.yaml`).
pub mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1PK: &str = "gsi1pk";
    pub const GSI1SK: &str = "gsi1sk";
    pub const GSI2PK: &str = "gsi2pk";
    pub const GSI2SK: &str = "gsi2sk";
    /// TTL attribute (epoch seconds); DynamoDB deletes expired items lazily, so readers
    /// must still compare it with the clock.
    pub const EXPIRES_AT: &str = "expires_at";
    /// Optimistic-concurrency counter for read-modify-write updates.
    pub const VERSION: &str = "version";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key as an item of its two attributes: the `start_after` of a page that ends
    /// with this key's item.
    pub fn to_item(&self) -> Item {
        let mut item = Item::new();
        item.insert(attr::PK.into(), Value::String(self.pk.clone()));
        item.insert(attr::SK.into(), Value::String(self.sk.clone()));
        item
    }
}

/// The secondary indexes of the table (see `keys/ACCESS_PATTERNS.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Gsi1,
    Gsi2,
}

impl Index {
    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
        }
    }
    pub fn key_attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Gsi1 => (attr::GSI1PK, attr::GSI1SK),
            Index::Gsi2 => (attr::GSI2PK, attr::GSI2SK),
        }
    }
}

/// Precondition of a write; this is what makes repeated writes idempotent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    None,
    /// Only create: fails with [`StoreError::ConditionFailed`] when the key exists.
    NotExists,
    /// Only replace an existing item.
    Exists,
    /// Only replace the item whose `version` attribute equals this value.
    VersionIs(u64),
    /// Create, or take over an item whose `expires_at` (epoch seconds) is before this
    /// instant: how leases are acquired.
    AbsentOrExpiredBefore(i64),
}

impl Condition {
    /// Replaces the item read at `version`, or creates it when nothing was read (version 0).
    pub fn replacing(version: u64) -> Self {
        if version == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(version)
        }
    }
}

#[derive(Debug, Clone)]
pub enum SortKeyCondition {
    BeginsWith(String),
    Between(String, String),
}

#[derive(Debug, Clone)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub sk: Option<SortKeyCondition>,
    pub limit: u32,
    /// The previous page's `last_key`, to continue from.
    pub start_after: Option<Item>,
    pub forward: bool,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            index: None,
            pk: pk.into(),
            sk: None,
            limit: 100,
            start_after: None,
            forward: true,
        }
    }
    pub fn on(mut self, index: Index) -> Self {
        self.index = Some(index);
        self
    }
    pub fn begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.sk = Some(SortKeyCondition::BeginsWith(prefix.into()));
        self
    }
    pub fn between(mut self, low: impl Into<String>, high: impl Into<String>) -> Self {
        self.sk = Some(SortKeyCondition::Between(low.into(), high.into()));
        self
    }
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    pub fn start_after(mut self, key: Option<Item>) -> Self {
        self.start_after = key;
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow; pass it back as `start_after`.
    pub last_key: Option<Item>,
}

/// One write of an all-or-nothing transaction.
#[derive(Debug, Clone)]
pub enum Write {
    Put(Item, Condition),
    Delete(Key, Condition),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the write's condition did not hold")]
    ConditionFailed,
    /// Throttling, timeouts, 5xx: safe to retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Another writer's transaction touched the same items at the same time: repeating
    /// the work succeeds.
    #[error("concurrent write: {0}")]
    Contention(String),
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("store request rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// All writes succeed or none; a failed condition gives [`StoreError::ConditionFailed`].
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
}

/// Every item a query matches, following pages to the end (for bounded sets only).
pub async fn query_all(store: &dyn ItemStore, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::new();
    let mut query = query;
    loop {
        let page = store.query(&query).await?;
        out.extend(page.items);
        match page.last_key {
            Some(key) => query.start_after = Some(key),
            None => return Ok(out),
        }
    }
}

/// One page of a query read as `T`s, with the key to continue after.
pub async fn query_page_as<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    query: &Query,
) -> Result<(Vec<T>, Option<Item>), StoreError> {
    let page = store.query(query).await?;
    let items = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?;
    Ok((items, page.last_key))
}

/// One page of a query read as `T`s.
pub async fn query_as<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    query: &Query,
) -> Result<Vec<T>, StoreError> {
    Ok(query_page_as(store, query).await?.0)
}

/// [`query_all`] read as `T`s.
pub async fn query_all_as<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    query: Query,
) -> Result<Vec<T>, StoreError> {
    query_all(store, query)
        .await?
        .into_iter()
        .map(from_item)
        .collect()
}

/// Serialises a domain record and adds its key attributes.
pub fn to_item<T: serde::Serialize>(record: &T, key: &Key) -> Result<Item, StoreError> {
    match serde_json::to_value(record) {
        Ok(Value::Object(mut map)) => {
            map.insert(attr::PK.into(), Value::String(key.pk.clone()));
            map.insert(attr::SK.into(), Value::String(key.sk.clone()));
            Ok(map)
        }
        Ok(_) => Err(StoreError::Malformed("record is not a JSON object".into())),
        Err(err) => Err(StoreError::Malformed(err.to_string())),
    }
}

/// Reads a domain record back from an item (key attributes are ignored by serde).
/// The item at `key` as a `T`, if there is one.
pub async fn get_as<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    key: &Key,
) -> Result<Option<T>, StoreError> {
    store.get(key).await?.map(from_item).transpose()
}

pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|err| StoreError::Malformed(err.to_string()))
}
