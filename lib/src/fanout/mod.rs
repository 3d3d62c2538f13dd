//! Automatic daily transfer (SPEC C6): every hour, each active auto-issue location whose
//! business day just closed gets that day's transfer plus re-checks of the days before it
//! (`force_refresh`, so late sales and back-office edits are posted as deltas).
//!
//! The locations come from the sparse `FANOUT` partition of gsi1 (access pattern 12): a
//! location is in it only while activated with auto-issue on, so pausing auto-issue stops
//! the fan-out without touching manual transfers.

pub mod plan;
pub mod settings;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

pub use plan::{plan, plan_location, request_uuid, FanoutTarget, LocationPlan};
pub use settings::FanoutSettings;

use crate::error::{AppError, ErrorCode};
use crate::location::business_day::DayMode;
use crate::location::Location;
use crate::queue::{MessageQueue, OutboundMessage, QueueName};
use crate::store::{from_item, query_all, Index, ItemStore, Query};
use crate::transfer::TransferRequest;

/// gsi1 partition of the locations the fan-out serves; written by
/// [`Location::to_item`](crate::location::Location::to_item).
pub const FANOUT_PARTITION: &str = "FANOUT";

/// Sends in flight at once: enough to enqueue thousands of requests well inside the
/// function timeout without a burst of hundreds of open connections.
const SEND_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanoutSummary {
    /// When the run is anchored (the scheduled time), RFC 3339.
    pub now: String,
    /// Items read from the fan-out index.
    pub locations_seen: usize,
    /// Active auto-issue locations without a storage unit: their transfers would only fail.
    pub skipped_without_storage_unit: Vec<String>,
    /// Index items that no longer parse as a location (logged, not fatal to the run).
    pub malformed: usize,
    pub requests_enqueued: usize,
    /// Locations with at least one closed day in this run.
    pub by_location: Vec<LocationSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationSummary {
    pub company_id: String,
    pub location_id: String,
    pub closed: Vec<String>,
    pub requests: usize,
}

/// One run at `now`: reads the fan-out index, plans, and enqueues one transfer-queue message
/// per request. Every send is attempted; if any fails the run errors so the schedule's
/// retry runs it again, which is safe because request ids are deterministic.
pub async fn run(
    store: &dyn ItemStore,
    queue: &dyn MessageQueue,
    now: DateTime<Utc>,
    settings: &FanoutSettings,
) -> Result<FanoutSummary, AppError> {
    let items = query_all(store, Query::partition(FANOUT_PARTITION).on(Index::Gsi1)).await?;
    let mut summary = FanoutSummary {
        now: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        locations_seen: items.len(),
        ..FanoutSummary::default()
    };
    let mut targets = Vec::new();
    for item in items {
        let location: Location = match from_item(item) {
            Ok(location) => location,
            Err(err) => {
                tracing::error!(error = %err, "fan-out index item is not a location; skipped");
                summary.malformed += 1;
                continue;
            }
        };
        if let Some(target) = target_of(&location, &mut summary) {
            targets.push(target);
        }
    }

    let mut requests = Vec::new();
    for target in &targets {
        let planned = plan_location(target, now, settings.look_back, settings.recheck_days);
        if planned.closed.is_empty() {
            continue;
        }
        summary.by_location.push(LocationSummary {
            company_id: planned.company_id.clone(),
            location_id: planned.location_id.clone(),
            closed: planned.closed.iter().map(|d| d.to_string()).collect(),
            requests: planned.requests.len(),
        });
        requests.extend(planned.requests);
    }

    let results: Vec<Result<(), String>> = stream::iter(requests)
        .map(|request| async move { send(queue, &request).await })
        .buffer_unordered(SEND_CONCURRENCY)
        .collect()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    summary.requests_enqueued = results.len() - failed;
    if failed > 0 {
        tracing::error!(failed, summary = ?summary, "fan-out could not enqueue every request");
        return Err(AppError::new(
            ErrorCode::QueueUnavailable,
            format!(
                "{failed} of {} transfer requests were not enqueued; the run is safe to repeat",
                results.len()
            ),
        ));
    }
    Ok(summary)
}

/// The planning view of a location, or `None` (logged and counted) when it must be skipped.
fn target_of(location: &Location, summary: &mut FanoutSummary) -> Option<FanoutTarget> {
    let name = format!("{}/{}", location.company_id, location.location_id);
    // The index is maintained on every write, so this only trips on a hand-edited item.
    if !(location.is_active() && location.auto_issue && !location.missing_upstream) {
        tracing::warn!(location = %name, "in the fan-out index but not active with auto-issue on; skipped");
        return None;
    }
    if location.storage_unit_id.is_none() {
        tracing::warn!(location = %name, "active auto-issue location has no storage unit; skipped");
        summary.skipped_without_storage_unit.push(name);
        return None;
    }
    let mode = location.day_mode();
    if location.day_mode == "local" && mode == DayMode::Utc {
        tracing::warn!(
            location = %name,
            timezone = %location.timezone,
            "unknown time zone; business days fall back to UTC"
        );
    }
    Some(FanoutTarget {
        company_id: location.company_id.clone(),
        location_id: location.location_id.clone(),
        mode,
    })
}

async fn send(queue: &dyn MessageQueue, request: &TransferRequest) -> Result<(), String> {
    let body = serde_json::to_string(request).map_err(|e| e.to_string())?;
    let message = OutboundMessage {
        body,
        delay_seconds: 0,
        correlation_id: request.request_uuid.clone(),
        group: None,
    };
    match queue.send(QueueName::Transfer, message).await {
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::error!(
                error = %err,
                request_uuid = %request.request_uuid,
                location_id = %request.location_id,
                business_date = ?request.business_date,
                "transfer request not enqueued"
            );
            Err(err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::connection::PosProduct;
    use crate::location::record::new_location;
    use crate::location::UpstreamLocation;
    use crate::queue::QueueError;
    use crate::store::{attr, Condition, Item, Key, Page, StoreError, Write};

    /// Serves gsi1 queries from a list, one item per page so paging is exercised.
    #[derive(Default)]
    struct IndexStore {
        items: Vec<Item>,
    }

    #[async_trait]
    impl ItemStore for IndexStore {
        async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
            Ok(None)
        }
        async fn put(&self, _: Item, _: Condition) -> Result<(), StoreError> {
            Ok(())
        }
        async fn delete(&self, _: &Key, _: Condition) -> Result<(), StoreError> {
            Ok(())
        }
        async fn query(&self, query: &Query) -> Result<Page, StoreError> {
            assert_eq!(query.index, Some(Index::Gsi1));
            let matching: Vec<&Item> = self
                .items
                .iter()
                .filter(|i| i.get(attr::GSI1PK).and_then(|v| v.as_str()) == Some(&query.pk))
                .collect();
            let start = query
                .start_after
                .as_ref()
                .and_then(|k| k.get("n"))
                .and_then(|n| n.as_u64())
                .map_or(0, |n| n as usize + 1);
            let items: Vec<Item> = matching
                .iter()
                .skip(start)
                .take(1)
                .map(|i| (*i).clone())
                .collect();
            let last_key = (start + 1 < matching.len()).then(|| {
                let mut key = Item::new();
                key.insert("n".into(), (start as u64).into());
                key
            });
            Ok(Page { items, last_key })
        }
        async fn transact(&self, _: Vec<Write>) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[derive(Default)]
    struct RecordingQueue {
        sent: Mutex<Vec<(QueueName, OutboundMessage)>>,
        fail_for: Option<String>,
    }

    #[async_trait]
    impl MessageQueue for RecordingQueue {
        async fn send(
            &self,
            queue: QueueName,
            message: OutboundMessage,
        ) -> Result<String, QueueError> {
            if self
                .fail_for
                .as_deref()
                .is_some_and(|needle| message.body.contains(needle))
            {
                return Err(QueueError::Unavailable("down".into()));
            }
            self.sent.lock().unwrap().push((queue, message));
            Ok("m".into())
        }
    }

    fn location(id: &str, tz: &str, storage_unit: Option<&str>, active: bool, auto: bool) -> Item {
        let mut l = new_location(
            "acme",
            PosProduct::KSeries,
            &UpstreamLocation {
                location_id: id.into(),
                name: id.into(),
                business_name: None,
                country: None,
                timezone: Some(tz.into()),
                currency: None,
            },
            "2026-01-01T00:00:00Z",
        );
        l.storage_unit_id = storage_unit.map(str::to_string);
        l.activated_at = active.then(|| "2026-01-02T00:00:00Z".to_string());
        l.auto_issue = auto;
        l.to_item().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A fan-out at 03:05 UTC with the default settings.
    async fn run_at_3am(
        store: &dyn ItemStore,
        queue: &dyn MessageQueue,
    ) -> Result<FanoutSummary, AppError> {
        run(
            store,
            queue,
            at("2026-07-11T03:05:00Z"),
            &FanoutSettings::default(),
        )
        .await
    }

    #[test]
    fn the_location_record_writes_the_partition_read_here() {
        let item = location("1", "Europe/London", Some("su"), true, true);
        assert_eq!(item[attr::GSI1PK], FANOUT_PARTITION);
        assert!(!location("1", "Europe/London", Some("su"), true, false).contains_key(attr::GSI1PK));
        assert!(!location("1", "Europe/London", Some("su"), false, true).contains_key(attr::GSI1PK));
    }

    #[tokio::test]
    async fn enqueues_each_closed_day_with_rechecks_and_skips_unlinked_locations() {
        let store = IndexStore {
            items: vec![
                location("london", "Europe/London", Some("su1"), true, true),
                location("auckland", "Pacific/Auckland", Some("su2"), true, true),
                location("unlinked", "Europe/London", None, true, true),
                location("paused", "Europe/London", Some("su3"), true, false),
                location("nyc", "America/New_York", Some("su4"), true, true),
            ],
        };
        let queue = RecordingQueue::default();
        let summary = run_at_3am(&store, &queue).await.unwrap();
        assert_eq!(
            summary.locations_seen, 4,
            "the paused one is not in the index"
        );
        assert_eq!(
            summary.skipped_without_storage_unit,
            vec!["acme/unlinked".to_string()]
        );
        assert_eq!(summary.requests_enqueued, 4);
        assert_eq!(
            summary.by_location,
            vec![LocationSummary {
                company_id: "acme".into(),
                location_id: "london".into(),
                closed: vec!["2026-07-10".into()],
                requests: 4,
            }]
        );
        let sent = queue.sent.lock().unwrap();
        let mut requests: Vec<TransferRequest> = sent
            .iter()
            .map(|(name, m)| {
                assert_eq!(*name, QueueName::Transfer);
                let request: TransferRequest = serde_json::from_str(&m.body).unwrap();
                assert_eq!(m.correlation_id, request.request_uuid);
                assert_eq!(m.delay_seconds, 0);
                request
            })
            .collect();
        requests.sort_by(|a, b| b.business_date.cmp(&a.business_date));
        let expected = plan(
            &[FanoutTarget {
                company_id: "acme".into(),
                location_id: "london".into(),
                mode: DayMode::Local {
                    tz: chrono_tz::Europe::London,
                    cutoff_hour: 4,
                },
            }],
            at("2026-07-11T03:05:00Z"),
            chrono::Duration::hours(1),
            3,
        );
        assert_eq!(requests, expected);
    }

    #[tokio::test]
    async fn a_failed_send_fails_the_run_after_trying_the_rest() {
        let store = IndexStore {
            items: vec![location("london", "Europe/London", Some("su1"), true, true)],
        };
        let queue = RecordingQueue {
            fail_for: Some("2026-07-09".into()),
            ..RecordingQueue::default()
        };
        let err = run_at_3am(&store, &queue).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::QueueUnavailable);
        assert_eq!(queue.sent.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_malformed_index_item_does_not_stop_the_others() {
        let mut broken = BTreeMap::new();
        broken.insert(attr::GSI1PK, FANOUT_PARTITION);
        let broken: Item = broken
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        let store = IndexStore {
            items: vec![
                broken,
                location("london", "Europe/London", Some("su1"), true, true),
            ],
        };
        let queue = RecordingQueue::default();
        let summary = run_at_3am(&store, &queue).await.unwrap();
        assert_eq!((summary.malformed, summary.requests_enqueued), (1, 4));
    }
}
