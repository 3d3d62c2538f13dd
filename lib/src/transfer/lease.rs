//! The location-day lease: one worker at a time posts a given location and business day,
//! so two runs never interleave their reads and writes of the same ledger range.
//! Acquired with a conditional put (absent or expired), released by its owner only.

use std::time::Duration;

use super::cache::partition;
use crate::error::{AppError, ErrorCode};
use crate::store::{attr, Condition, Item, ItemStore, Key, StoreError};

pub struct Lease {
    key: Key,
    /// Random owner token, stored as the item's `version` so only the owner releases it.
    token: u64,
}

fn key(company_id: &str, location_id: &str, date: &str) -> Key {
    Key::new(partition(company_id, location_id, date), "LEASE")
}

/// Takes the lease, waiting up to `wait` while another worker holds it.
pub async fn acquire(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: &str,
    hold: Duration,
    wait: Duration,
) -> Result<Lease, AppError> {
    let key = key(company_id, location_id, date);
    let token = u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or([1; 8]),
    ) >> 1; // DynamoDB numbers must fit a signed 64-bit value here
    let started = std::time::Instant::now();
    let mut round = 0;
    loop {
        let now = chrono::Utc::now().timestamp();
        let mut item = Item::new();
        item.insert(attr::PK.into(), key.pk.clone().into());
        item.insert(attr::SK.into(), key.sk.clone().into());
        item.insert(attr::VERSION.into(), token.into());
        item.insert(
            attr::EXPIRES_AT.into(),
            (now + hold.as_secs() as i64).into(),
        );
        match store.put(item, Condition::AbsentOrExpiredBefore(now)).await {
            Ok(()) => return Ok(Lease { key, token }),
            Err(StoreError::ConditionFailed) if started.elapsed() < wait => {
                round += 1;
                crate::store::contention_pause(round.min(4)).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(StoreError::ConditionFailed) => {
                return Err(AppError::new(
                    ErrorCode::TransferInProgress,
                    format!("another worker is transferring {location_id} {date}; this message will be retried"),
                ))
            }
            Err(err) => return Err(err.into()),
        }
    }
}

impl Lease {
    /// Lets the next worker in; if this fails the lease simply expires.
    pub async fn release(self, store: &dyn ItemStore) {
        match store
            .delete(&self.key, Condition::VersionIs(self.token))
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(err) => tracing::warn!(error = %err, "lease not released; it will expire"),
        }
    }
}
