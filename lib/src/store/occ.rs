//! Optimistic concurrency, in one place: read, change, write under the `version` read,
//! and on a failed condition (or a conflicting transaction) read again, with a bounded
//! number of jittered, growing pauses. Running out of attempts is reported as
//! [`ErrorCode::WriteContention`] (409, retryable).

use std::future::Future;

use super::{ItemStore, StoreError, Write};
use crate::error::{AppError, ErrorCode};

/// How often a read-modify-write is tried before it reports contention.
pub const ATTEMPTS: usize = 12;

/// What one attempt decided after reading.
#[derive(Debug)]
pub enum Plan<T> {
    /// Nothing to write: the update ends with this value.
    Keep(T),
    /// Write these all or nothing (their conditions carry the versions read); the update
    /// ends with the value once they land.
    Write(Vec<Write>, T),
}

impl<T> Plan<T> {
    /// A single conditional write.
    pub fn one(write: Write, value: T) -> Self {
        Plan::Write(vec![write], value)
    }
}

/// The pause before attempt `attempt` (1-based retries): 10 ms growing to 160 ms, plus up
/// to 20 ms of jitter so concurrent writers stop colliding in lockstep.
pub async fn pause(attempt: usize) {
    tokio::time::sleep(crate::random::backoff(attempt, 5, 5, 20)).await;
}

/// The error when every attempt met a concurrent change of `what`.
pub fn contended(what: &str) -> AppError {
    AppError::new(
        ErrorCode::WriteContention,
        format!("{what} is changing concurrently; retry"),
    )
}

/// Reads with `read`, lets `decide` change what it read into a [`Plan`] and writes it, up
/// to [`ATTEMPTS`] times while the writes' conditions fail because another writer got
/// there first. Errors of `read` or `decide` end the update at once.
///
/// `read` returns a fresh future per attempt (its captures are shared references), while
/// `decide` is synchronous and may hold mutable state such as a caller's change closure.
/// (An `AsyncFnMut` attempt would be shorter to write, but its higher-ranked future fails
/// the `Send` checks of the `async_trait` ports that call these updates.)
pub async fn update<R, T, Fut>(
    store: &dyn ItemStore,
    what: &str,
    mut read: impl FnMut() -> Fut,
    mut decide: impl FnMut(R) -> Result<Plan<T>, AppError>,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<R, AppError>>,
{
    for round in 0..ATTEMPTS {
        if round > 0 {
            pause(round).await;
        }
        let (writes, value) = match decide(read().await?)? {
            Plan::Keep(value) => return Ok(value),
            Plan::Write(writes, value) => (writes, value),
        };
        match write(store, writes).await {
            Ok(()) => return Ok(value),
            Err(StoreError::ConditionFailed | StoreError::Contention(_)) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(contended(what))
}

/// [`update`] for an attempt that reads and plans in one step.
pub async fn retry<T, Fut>(
    store: &dyn ItemStore,
    what: &str,
    attempt: impl FnMut() -> Fut,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<Plan<T>, AppError>>,
{
    update(store, what, attempt, Ok).await
}

/// One write goes as it is, several as a transaction.
async fn write(store: &dyn ItemStore, mut writes: Vec<Write>) -> Result<(), StoreError> {
    match writes.len() {
        0 => return Ok(()),
        1 => {}
        _ => return store.transact(writes).await,
    }
    match writes.remove(0) {
        Write::Put(item, condition) => store.put(item, condition).await,
        Write::Delete(key, condition) => store.delete(&key, condition).await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::{json, Value};

    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{Condition, Item, Key};

    fn counter(version: u64) -> Item {
        let Value::Object(item) = json!({"pk": "C", "sk": "N", "version": version}) else {
            unreachable!()
        };
        item
    }

    async fn version(store: &MemoryStore) -> Result<u64, AppError> {
        let item = store.get(&Key::new("C", "N")).await?;
        Ok(item
            .and_then(|i| i.get("version").and_then(Value::as_u64))
            .unwrap_or(0))
    }

    #[tokio::test]
    async fn a_lost_race_is_retried_on_a_fresh_read() {
        let store = MemoryStore::new();
        store.put(counter(1), Condition::NotExists).await.unwrap();
        let reads = AtomicUsize::new(0);
        let result = update(
            &store,
            "the counter",
            || async {
                let read = version(&store).await?;
                // Another writer lands between the first read and its write.
                if reads.fetch_add(1, Ordering::SeqCst) == 0 {
                    store.put(counter(read + 1), Condition::None).await?;
                }
                Ok(read)
            },
            |read| {
                let write = Write::Put(counter(read + 1), Condition::VersionIs(read));
                Ok(Plan::one(write, read + 1))
            },
        )
        .await
        .unwrap();
        assert_eq!(result, 3);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(version(&store).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn endless_contention_is_write_contention_after_the_attempts() {
        let store = MemoryStore::new();
        store.put(counter(1), Condition::NotExists).await.unwrap();
        let reads = AtomicUsize::new(0);
        let err = retry(&store, "the counter", || async {
            reads.fetch_add(1, Ordering::SeqCst);
            let stale = Write::Put(counter(2), Condition::VersionIs(0));
            Ok(Plan::one(stale, ()))
        })
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::WriteContention);
        assert_eq!(err.code.http_status(), 409);
        assert!(err.code.is_retryable());
        assert_eq!(reads.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test]
    async fn keep_writes_nothing_and_errors_end_at_once() {
        let store = MemoryStore::new();
        let kept = retry(&store, "x", || async { Ok(Plan::Keep(7)) })
            .await
            .unwrap();
        assert_eq!(kept, 7);
        assert!(store.dump().unwrap().is_empty());
        let reads = AtomicUsize::new(0);
        let err = retry::<(), _>(&store, "x", || async {
            reads.fetch_add(1, Ordering::SeqCst);
            Err(AppError::validation("no"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }
}
