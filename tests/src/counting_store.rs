//! An [`ItemStore`] that counts what passes through it (requests by kind and DynamoDB write
//! units: 1 per KB of an item written, twice that inside a transaction), for benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tillbridge::store::{Condition, Item, ItemStore, Key, Page, Query, StoreError, Write};

/// Counts requests and estimates write units the way DynamoDB bills them (1 KB per unit,
/// transactions twice).
pub struct CountingStore {
    inner: Arc<dyn ItemStore>,
    gets: AtomicU64,
    puts: AtomicU64,
    deletes: AtomicU64,
    queries: AtomicU64,
    transacts: AtomicU64,
    write_units: AtomicU64,
}

fn units(item: &Item) -> u64 {
    (serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0) as u64)
        .div_ceil(1024)
        .max(1)
}

impl CountingStore {
    pub fn new(inner: Arc<dyn ItemStore>) -> Self {
        Self {
            inner,
            gets: 0.into(),
            puts: 0.into(),
            deletes: 0.into(),
            queries: 0.into(),
            transacts: 0.into(),
            write_units: 0.into(),
        }
    }
    pub fn figures(&self) -> [(&'static str, u64); 6] {
        [
            ("get", self.gets.load(Ordering::SeqCst)),
            ("put", self.puts.load(Ordering::SeqCst)),
            ("delete", self.deletes.load(Ordering::SeqCst)),
            ("query", self.queries.load(Ordering::SeqCst)),
            ("transact", self.transacts.load(Ordering::SeqCst)),
            ("write units", self.write_units.load(Ordering::SeqCst)),
        ]
    }
    pub fn reset(&self) {
        for counter in [
            &self.gets,
            &self.puts,
            &self.deletes,
            &self.queries,
            &self.transacts,
            &self.write_units,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl ItemStore for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.write_units.fetch_add(units(&item), Ordering::SeqCst);
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.write_units.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.transacts.fetch_add(1, Ordering::SeqCst);
        let wcu: u64 = writes
            .iter()
            .map(|w| match w {
                Write::Put(item, _) => units(item),
                Write::Delete(..) => 1,
            })
            .sum();
        self.write_units.fetch_add(2 * wcu, Ordering::SeqCst);
        self.inner.transact(writes).await
    }
}
