//! An [`ItemStore`] that counts what passes through it (requests by kind and DynamoDB write
//! units: 1 per KB of an item written, twice that inside a transaction), for benchmarks, and
//! keeps the keys written, for tests of what a piece of work writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tillbridge::store::{attr, Condition, Item, ItemStore, Key, Page, Query, StoreError, Write};

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
    written: Mutex<Vec<Key>>,
}

fn units(item: &Item) -> u64 {
    (serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0) as u64)
        .div_ceil(1024)
        .max(1)
}

fn key_of(item: &Item) -> Key {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Key::new(text(attr::PK), text(attr::SK))
}

/// `deps` with their store (and the sales source's store) counted: the deps and the counter.
pub fn counting_deps(mut deps: tillbridge::Deps) -> (tillbridge::Deps, Arc<CountingStore>) {
    let counting = Arc::new(CountingStore::new(deps.store.clone()));
    deps.store = counting.clone();
    deps.sales = Arc::new(tillbridge::transfer::source::LightspeedSales {
        client: deps.lightspeed.clone(),
        store: counting.clone(),
    });
    (deps, counting)
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
            written: Mutex::default(),
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
    /// The keys put or deleted since the last [`Self::reset`], in order.
    pub fn written(&self) -> Vec<Key> {
        self.written.lock().map(|w| w.clone()).unwrap_or_default()
    }
    fn record(&self, key: Key) {
        if let Ok(mut written) = self.written.lock() {
            written.push(key);
        }
    }
    pub fn reset(&self) {
        if let Ok(mut written) = self.written.lock() {
            written.clear();
        }
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
        self.record(key_of(&item));
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.write_units.fetch_add(1, Ordering::SeqCst);
        self.record(key.clone());
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
        for write in &writes {
            self.record(match write {
                Write::Put(item, _) => key_of(item),
                Write::Delete(key, _) => key.clone(),
            });
        }
        self.inner.transact(writes).await
    }
}
