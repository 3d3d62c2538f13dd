//! A store adapter that fails its n-th write, wrapped around the real DynamoDB adapter:
//! how the tests crash a worker between any two writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tillbridge::store::{Condition, Item, ItemStore, Key, Page, Query, StoreError, Write};

pub struct FailingStore {
    inner: Arc<dyn ItemStore>,
    /// 1-based index of the write that fails; 0 = never.
    fail_at: usize,
    writes: AtomicUsize,
}

impl FailingStore {
    pub fn new(inner: Arc<dyn ItemStore>, fail_at: usize) -> Self {
        Self {
            inner,
            fail_at,
            writes: AtomicUsize::new(0),
        }
    }

    /// Writes attempted so far (the failed one included).
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn next_write(&self) -> Result<(), StoreError> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at {
            Err(StoreError::Unavailable(format!(
                "injected failure at write {n}"
            )))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl ItemStore for FailingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.next_write()?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.next_write()?;
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.next_write()?;
        self.inner.transact(writes).await
    }
}
