//! A lease: one item that at most one holder owns until it releases it or it expires.
//! Taken with a conditional put (absent or expired), released by its owner only (the
//! item's `version` is the owner's random token). Used for the location-day transfer
//! lease and the single-flight token refresh.

use std::time::{Duration, Instant};

use super::{attr, Condition, Item, ItemStore, Key, StoreError};

#[derive(Debug)]
pub struct Lease {
    key: Key,
    token: u64,
}

impl Lease {
    /// One attempt: `Ok(None)` while another holder's lease is unexpired.
    pub async fn try_acquire(
        store: &dyn ItemStore,
        key: Key,
        hold: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let token = crate::random::token();
        let now = chrono::Utc::now().timestamp();
        let hold = i64::try_from(hold.as_secs()).unwrap_or(i64::MAX / 2);
        let mut item = Item::new();
        item.insert(attr::PK.into(), key.pk.clone().into());
        item.insert(attr::SK.into(), key.sk.clone().into());
        item.insert(attr::VERSION.into(), token.into());
        item.insert(attr::EXPIRES_AT.into(), now.saturating_add(hold).into());
        match store.put(item, Condition::AbsentOrExpiredBefore(now)).await {
            Ok(()) => Ok(Some(Lease { key, token })),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Takes the lease, polling with short jittered pauses for up to `wait` while another
    /// holder has it; `Ok(None)` when it is still held after `wait`.
    pub async fn acquire(
        store: &dyn ItemStore,
        key: Key,
        hold: Duration,
        wait: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let started = Instant::now();
        let mut round = 0;
        loop {
            if let Some(lease) = Self::try_acquire(store, key.clone(), hold).await? {
                return Ok(Some(lease));
            }
            if started.elapsed() >= wait {
                return Ok(None);
            }
            round += 1;
            let pause = crate::random::backoff(round, 5, 4, 20) + Duration::from_millis(100);
            tokio::time::sleep(pause).await;
        }
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Lets the next holder in. A lease that cannot be released only delays the next
    /// holder until it expires; either way the outcome is logged.
    pub async fn release(self, store: &dyn ItemStore) {
        match store
            .delete(&self.key, Condition::VersionIs(self.token))
            .await
        {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => tracing::warn!(
                lease = %self.key.pk,
                "lease expired and was taken over before its release"
            ),
            Err(err) => tracing::warn!(
                lease = %self.key.pk,
                error = %err,
                "lease not released; it lapses when it expires"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn one_holder_at_a_time_and_only_the_holder_releases() {
        let store = MemoryStore::new();
        let key = Key::new("LEASE#X", "LEASE");
        let hold = Duration::from_secs(30);
        let first = Lease::try_acquire(&store, key.clone(), hold)
            .await
            .unwrap()
            .unwrap();
        assert!(Lease::try_acquire(&store, key.clone(), hold)
            .await
            .unwrap()
            .is_none());
        let waited = Lease::acquire(&store, key.clone(), hold, Duration::from_millis(150))
            .await
            .unwrap();
        assert!(waited.is_none(), "still held after the wait");
        first.release(&store).await;
        let second = Lease::try_acquire(&store, key.clone(), hold)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.key(), &key);
        second.release(&store).await;
        assert!(store.get(&key).await.unwrap().is_none());
    }
}
