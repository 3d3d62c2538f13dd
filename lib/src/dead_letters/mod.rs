//! Dead letters (SPEC C11, C13): the messages SQS moved to the dead-letter queues after
//! their last attempt failed. Operators list them (with the first failure reason the
//! workers recorded, [`failures`]) and replay them to their source queue once the cause is
//! fixed; the reconcile schedule raises `dlq_not_empty` for each company named in them
//! while they are there ([`check`]).
//!
//! Reading a queue receives its messages, which hides them: a listing holds them for
//! [`LIST_HOLD`] and hands them back at once when done (if that fails they come back when
//! the hold ends), so listing never consumes a message. A replay sends a copy to the
//! source queue and deletes the dead letter only after the send succeeded; the workers are
//! idempotent (deterministic keys, create-only writes), so replaying work that already
//! succeeded changes nothing.

pub mod failures;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::alerts;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::queue::{DeadLetter, DeadLetterQueues, MessageGroup, OutboundMessage, QueueName};
use crate::store::occ::{self, Plan};
use crate::store::{from_item, to_item, Condition, ItemStore, Key, Write};

/// The alert raised while a dead-letter queue holds a company's messages.
pub const ALERT_CODE: &str = "dlq_not_empty";

/// How long a listing hides the messages it reads (it hands them back when done).
pub const LIST_HOLD: Duration = Duration::from_secs(30);

/// How long a replay hides the messages it reads before sending them on.
const REPLAY_HOLD: Duration = Duration::from_secs(60);

/// The most messages one listing, check or replay reads per queue.
pub const MAX_READ: usize = 1000;

/// The dead-letter queue's name for `queue` (alert subjects, metrics, the API).
pub fn dlq_name(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Transfer => "transfer-dlq",
        QueueName::Migration => "migration-dlq",
        QueueName::SalesEvents => "sales-events-dlq",
        QueueName::Journal => "journal-dlq",
    }
}

/// What a source queue's messages are.
pub fn kind_of(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Transfer => "transfer",
        QueueName::Migration => "migration_day",
        QueueName::SalesEvents => "sales_event",
        QueueName::Journal => "journal",
    }
}

/// A source queue by its name or its dead-letter queue's name.
pub fn queue_named(name: &str) -> Option<QueueName> {
    QueueName::ALL
        .into_iter()
        .find(|q| q.as_str() == name || dlq_name(*q) == name)
}

/// One dead-lettered message as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    /// The source queue: transfer, migration, sales-events or journal
    pub queue: String,
    pub message_id: String,
    /// transfer, migration_day, sales_event or journal
    pub kind: String,
    /// The company the body names, or null when it names none (or does not parse)
    #[schema(required)]
    pub company_id: Option<String>,
    #[schema(required)]
    pub location_id: Option<String>,
    /// The business date the body names, or null
    #[schema(required)]
    pub business_date: Option<String>,
    /// Sales events: the webhook type (sale.update, …), else null
    #[schema(required)]
    pub event_type: Option<String>,
    /// The first failure the workers recorded (`code: message`), or null when none was
    /// recorded
    #[schema(required)]
    pub reason: Option<String>,
    /// The last failure recorded, or null
    #[schema(required)]
    pub last_reason: Option<String>,
    /// The function whose attempts failed, or null
    #[schema(required)]
    pub function: Option<String>,
    /// Attempts that failed (as recorded; without a record, SQS's receive count)
    pub attempts: u32,
    /// SQS's ApproximateReceiveCount (listings count too)
    pub receive_count: u32,
    /// When the message was first sent (RFC 3339), or null
    #[schema(required, format = DateTime)]
    pub sent_at: Option<String>,
    /// When its first attempt failed (RFC 3339), or null
    #[schema(required, format = DateTime)]
    pub first_failed_at: Option<String>,
    #[schema(required)]
    pub correlation_id: Option<String>,
}

/// One dead-letter queue's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterQueueView {
    /// The source queue: transfer, migration, sales-events or journal
    pub queue: String,
    /// The dead-letter queue: transfer-dlq, migration-dlq, sales-events-dlq or journal-dlq
    pub dead_letter_queue: String,
    /// Messages the queue holds, as SQS approximates it
    pub depth: u64,
    pub messages: Vec<DeadLetterView>,
    /// Every message held was read (false when the limit was reached or a FIFO group
    /// hid the rest)
    pub complete: bool,
}

/// `GET /v1/dead-letters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterList {
    pub queues: Vec<DeadLetterQueueView>,
}

/// What to replay: one message, the messages a filter matches, or all.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterReplayInput {
    /// One message, by id
    #[schema(value_type = Option<String>, min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9-]+$")]
    pub message_id: Option<String>,
    /// Only this source queue
    #[schema(value_type = Option<crate::api::openapi::schemas::DeadLetterQueueName>)]
    pub queue: Option<String>,
    /// Only messages naming this company
    #[schema(value_type = Option<crate::api::openapi::schemas::QueryId>)]
    pub company_id: Option<String>,
    /// Only this kind
    #[schema(value_type = Option<crate::api::openapi::schemas::DeadLetterKind>)]
    pub kind: Option<String>,
    /// Every message of every dead-letter queue
    #[serde(default)]
    pub all: bool,
}

/// One replayed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterReplayed {
    pub queue: String,
    /// The dead letter's id
    pub message_id: String,
    /// The copy's id on the source queue
    pub new_message_id: String,
    pub kind: String,
    #[schema(required)]
    pub company_id: Option<String>,
    /// The dead letter was deleted (false: the copy was sent but the dead letter stays,
    /// so replaying it again sends the same work, which the workers ignore)
    pub removed: bool,
}

/// `POST /v1/dead-letters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterReplayResult {
    /// How many messages were sent back
    pub replayed: usize,
    pub messages: Vec<DeadLetterReplayed>,
}

/// The ids a body names (read from the raw JSON, so an unparsable body still lists).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct BodySummary {
    company_id: Option<String>,
    location_id: Option<String>,
    business_date: Option<String>,
    event_type: Option<String>,
}

fn summarize(body: &str) -> BodySummary {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
        return BodySummary::default();
    };
    let text = |name: &str| map.get(name).and_then(Value::as_str);
    let id = |name: &str| {
        text(name)
            .filter(|v| ids::is_valid_id(v))
            .map(str::to_string)
    };
    BodySummary {
        company_id: id("company_id"),
        location_id: id("location_id"),
        business_date: text("business_date")
            .or_else(|| text("date"))
            .and_then(ids::strict_date)
            .map(|d| d.to_string()),
        event_type: text("event_type")
            .filter(|t| t.len() <= 64)
            .map(str::to_string),
    }
}

fn view(
    queue: QueueName,
    letter: &DeadLetter,
    failure: Option<&failures::FailureRecord>,
) -> DeadLetterView {
    let summary = summarize(&letter.body);
    DeadLetterView {
        queue: queue.as_str().into(),
        message_id: letter.message_id.clone(),
        kind: kind_of(queue).into(),
        company_id: summary.company_id,
        location_id: summary.location_id,
        business_date: summary.business_date,
        event_type: summary.event_type,
        reason: failure.map(|f| f.first_reason.clone()),
        last_reason: failure.map(|f| f.last_reason.clone()),
        function: failure.map(|f| f.function.clone()),
        attempts: failure.map_or(letter.receive_count, |f| f.failures),
        receive_count: letter.receive_count,
        sent_at: letter.sent_at.clone(),
        first_failed_at: failure.map(|f| f.first_failed_at.clone()),
        correlation_id: letter.correlation_id.clone(),
    }
}

/// Reads up to `max` messages of `queue`'s dead-letter queue, hidden for `hold` (the
/// caller hands back or deletes them), each message once.
async fn read_all(
    dlqs: &dyn DeadLetterQueues,
    queue: QueueName,
    max: usize,
    hold: Duration,
) -> Result<Vec<DeadLetter>, AppError> {
    let mut letters: Vec<DeadLetter> = Vec::new();
    let mut seen = BTreeSet::new();
    while letters.len() < max {
        let batch = dlqs.receive(queue, hold).await?;
        if batch.is_empty() {
            break;
        }
        let mut new = 0;
        for letter in batch {
            if seen.insert(letter.message_id.clone()) {
                letters.push(letter);
                new += 1;
            }
        }
        if new == 0 {
            break;
        }
    }
    Ok(letters)
}

/// Hands messages back at once; a failure only delays them until their hold ends.
async fn release(dlqs: &dyn DeadLetterQueues, queue: QueueName, letters: &[DeadLetter]) {
    let handles: Vec<String> = letters.iter().map(|l| l.receipt_handle.clone()).collect();
    if handles.is_empty() {
        return;
    }
    if let Err(err) = dlqs.release(queue, &handles).await {
        tracing::warn!(queue = queue.as_str(), error = %err, "dead letters not handed back; they reappear when their hold ends");
    }
}

/// Which queues a request names (`None`: all configured).
fn queues_of(dlqs: &dyn DeadLetterQueues, name: Option<&str>) -> Result<Vec<QueueName>, AppError> {
    match name {
        None => Ok(dlqs.configured()),
        Some(name) => {
            let queue = queue_named(name).ok_or_else(|| {
                AppError::validation(format!(
                    "`queue` must be transfer, migration, sales-events or journal, not `{name}`"
                ))
            })?;
            Ok(dlqs
                .configured()
                .into_iter()
                .filter(|q| *q == queue)
                .collect())
        }
    }
}

/// The messages of every dead-letter queue (or of `queue`), at most `limit` each, with
/// their recorded failure reasons. Every message read is handed back.
pub async fn list(
    dlqs: &dyn DeadLetterQueues,
    store: &dyn ItemStore,
    queue: Option<&str>,
    company_id: Option<&str>,
    limit: usize,
) -> Result<DeadLetterList, AppError> {
    let mut queues = Vec::new();
    for queue in queues_of(dlqs, queue)? {
        let depth = dlqs.depth(queue).await?;
        let letters = if depth == 0 {
            Vec::new()
        } else {
            read_all(dlqs, queue, MAX_READ, LIST_HOLD).await?
        };
        release(dlqs, queue, &letters).await;
        let read = letters.len();
        let mut messages = Vec::new();
        for letter in &letters {
            if messages.len() >= limit {
                break;
            }
            let failure = failures::read(store, &letter.message_id).await?;
            let view = view(queue, letter, failure.as_ref());
            if company_id.is_none() || view.company_id.as_deref() == company_id {
                messages.push(view);
            }
        }
        messages.sort_by(|a, b| (&a.sent_at, &a.message_id).cmp(&(&b.sent_at, &b.message_id)));
        let complete = u64::try_from(read).unwrap_or(u64::MAX) >= depth
            && (company_id.is_some() || messages.len() == read);
        queues.push(DeadLetterQueueView {
            queue: queue.as_str().into(),
            dead_letter_queue: dlq_name(queue).into(),
            depth,
            messages,
            complete,
        });
    }
    Ok(DeadLetterList { queues })
}

/// What a replay selects.
enum Selection<'a> {
    One(&'a str),
    Filter {
        company_id: Option<&'a str>,
        kind: Option<&'a str>,
    },
}

impl Selection<'_> {
    fn matches(&self, queue: QueueName, letter: &DeadLetter) -> bool {
        match self {
            Selection::One(id) => letter.message_id == *id,
            Selection::Filter { company_id, kind } => {
                kind.is_none_or(|k| k == kind_of(queue))
                    && company_id
                        .is_none_or(|c| summarize(&letter.body).company_id.as_deref() == Some(c))
            }
        }
    }
}

fn check_input(input: &DeadLetterReplayInput) -> Result<(), AppError> {
    let filtered = input.queue.is_some() || input.company_id.is_some() || input.kind.is_some();
    let ways =
        usize::from(input.message_id.is_some()) + usize::from(filtered) + usize::from(input.all);
    if ways != 1 {
        return Err(AppError::validation(
            "name exactly one of: `message_id`, a filter (`queue`, `company_id`, `kind`), or `all: true`",
        ));
    }
    if let Some(id) = &input.message_id {
        if id.is_empty()
            || id.len() > 128
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(AppError::validation(
                "`message_id` must be an SQS message id",
            ));
        }
    }
    if let Some(company) = &input.company_id {
        if !ids::is_valid_id(company) {
            return Err(AppError::validation("`company_id` is not a valid id"));
        }
    }
    if let Some(kind) = &input.kind {
        if !QueueName::ALL.iter().any(|q| kind_of(*q) == kind) {
            return Err(AppError::validation(format!(
                "`kind` must be transfer, migration_day, sales_event or journal, not `{kind}`"
            )));
        }
    }
    Ok(())
}

/// The copy of a dead letter sent back to its source queue. On a FIFO queue it keeps its
/// message group (its order with the group's other work) and gets a deduplication id of
/// its own (`{message_id}-replay`): the original's id may still be inside SQS's five
/// minute window, which would drop the copy silently, while a second replay of the same
/// dead letter within the window is dropped, as a duplicate should be.
fn copy_of(letter: &DeadLetter) -> OutboundMessage {
    OutboundMessage {
        body: letter.body.clone(),
        delay_seconds: 0,
        correlation_id: letter
            .correlation_id
            .clone()
            .unwrap_or_else(|| letter.message_id.clone()),
        group: letter.group_id.as_ref().map(|group| MessageGroup {
            group_id: group.clone(),
            deduplication_id: format!("{}-replay", letter.message_id),
        }),
    }
}

/// Sends the selected dead letters back to their source queues, deleting each only after
/// its copy was sent. A `message_id` that no dead-letter queue holds is
/// `dead_letter_not_found`.
pub async fn replay(
    deps: &Deps,
    input: &DeadLetterReplayInput,
) -> Result<DeadLetterReplayResult, AppError> {
    check_input(input)?;
    let dlqs = deps.dead_letters.as_ref();
    let selection = match &input.message_id {
        Some(id) => Selection::One(id),
        None => Selection::Filter {
            company_id: input.company_id.as_deref(),
            kind: input.kind.as_deref(),
        },
    };
    let mut messages = Vec::new();
    for queue in queues_of(dlqs, input.queue.as_deref())? {
        let mut kept: Vec<DeadLetter> = Vec::new();
        let mut seen = BTreeSet::new();
        let result =
            replay_queue(deps, queue, &selection, &mut kept, &mut seen, &mut messages).await;
        release(dlqs, queue, &kept).await;
        result?;
        if matches!(selection, Selection::One(_)) && !messages.is_empty() {
            break;
        }
    }
    if let (Selection::One(id), true) = (&selection, messages.is_empty()) {
        return Err(AppError::new(
            ErrorCode::DeadLetterNotFound,
            format!("no dead-letter queue holds message `{id}`"),
        ));
    }
    tracing::info!(replayed = messages.len(), "dead letters replayed");
    Ok(DeadLetterReplayResult {
        replayed: messages.len(),
        messages,
    })
}

async fn replay_queue(
    deps: &Deps,
    queue: QueueName,
    selection: &Selection<'_>,
    kept: &mut Vec<DeadLetter>,
    seen: &mut BTreeSet<String>,
    messages: &mut Vec<DeadLetterReplayed>,
) -> Result<(), AppError> {
    let dlqs = deps.dead_letters.as_ref();
    while seen.len() < MAX_READ {
        let batch = dlqs.receive(queue, REPLAY_HOLD).await?;
        let fresh: Vec<DeadLetter> = batch
            .into_iter()
            .filter(|l| seen.insert(l.message_id.clone()))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        for letter in fresh {
            if !selection.matches(queue, &letter) {
                kept.push(letter);
                continue;
            }
            let new_message_id = match deps.queue.send(queue, copy_of(&letter)).await {
                Ok(id) => id,
                Err(err) => {
                    kept.push(letter);
                    return Err(err.into());
                }
            };
            let removed = match dlqs.delete(queue, &letter.receipt_handle).await {
                Ok(()) => true,
                Err(err) => {
                    tracing::warn!(message_id = letter.message_id, error = %err, "replayed, but the dead letter stays");
                    false
                }
            };
            tracing::info!(
                queue = queue.as_str(),
                message_id = letter.message_id,
                new_message_id,
                "dead letter replayed"
            );
            messages.push(DeadLetterReplayed {
                queue: queue.as_str().into(),
                message_id: letter.message_id.clone(),
                new_message_id,
                kind: kind_of(queue).into(),
                company_id: summarize(&letter.body).company_id,
                removed,
            });
            if matches!(selection, Selection::One(_)) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// What one [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// Each dead-letter queue read, with its depth.
    pub depths: Vec<(String, u64)>,
    /// Open `dlq_not_empty` alerts (company, dead-letter queue) after the check.
    pub open: Vec<(String, String)>,
    pub resolved: usize,
    /// Messages that name no company (counted in the depth, alerted to nobody).
    pub unattributed: usize,
}

/// The (company, dead-letter queue) pairs alerted by the last check, so the next one can
/// resolve those whose messages are gone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AlertedPairs {
    pairs: Vec<(String, String)>,
    version: u64,
}

/// One list per set of dead-letter queues (a table shared by two deployments, or by
/// tests with queues of their own, keeps their lists apart): FNV-1a of their URLs.
fn alerted_key(urls: &crate::config::DeadLetterUrls) -> Key {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for url in [
        &urls.transfer,
        &urls.migration,
        &urls.sales_events,
        &urls.journal,
    ] {
        for byte in url.as_deref().unwrap_or_default().bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    Key::new("OPS#DLQ", format!("ALERTED#{hash:016x}"))
}

/// The reconcile schedule's check: each dead-letter queue's depth as a metric, a
/// `dlq_not_empty` alert for each company its messages name (subject: the dead-letter
/// queue's name; counted on every check while they are there), resolved once the
/// company has no message left there. A queue that cannot be read keeps its alerts as
/// they are.
pub async fn check(
    deps: &Deps,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CheckSummary, AppError> {
    let now = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let dlqs = deps.dead_letters.as_ref();
    let store = deps.store.as_ref();
    let mut summary = CheckSummary::default();
    let mut current: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unread: BTreeSet<String> = BTreeSet::new();
    for queue in dlqs.configured() {
        let name = dlq_name(queue);
        let read = async {
            let depth = dlqs.depth(queue).await?;
            let letters = if depth == 0 {
                Vec::new()
            } else {
                read_all(dlqs, queue, MAX_READ, LIST_HOLD).await?
            };
            release(dlqs, queue, &letters).await;
            Ok::<_, AppError>((depth, letters))
        };
        let (depth, letters) = match read.await {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(queue = name, code = %err.code, error = %err.message, "dead-letter queue not read; its alerts stay as they are");
                unread.insert(name.to_string());
                continue;
            }
        };
        crate::metrics::dead_letter_depth(name, depth);
        summary.depths.push((name.to_string(), depth));
        for letter in &letters {
            match summarize(&letter.body).company_id {
                Some(company) => *current.entry((company, name.to_string())).or_default() += 1,
                None => summary.unattributed += 1,
            }
        }
    }
    for ((company, queue), count) in &current {
        let message = format!(
            "{count} message(s) of this company are in the {queue} dead-letter queue: an operator lists them at GET /v1/dead-letters and replays them with POST /v1/dead-letters once the cause is fixed"
        );
        alerts::raise(store, company, ALERT_CODE, queue, &message, &now).await?;
    }
    let key = alerted_key(&deps.config.dead_letters);
    let previous = read_alerted(store, &key).await?;
    let mut open: BTreeSet<(String, String)> = current.keys().cloned().collect();
    for (company, queue) in previous.pairs {
        if open.contains(&(company.clone(), queue.clone())) {
            continue;
        }
        if unread.contains(&queue) {
            open.insert((company, queue));
            continue;
        }
        if alerts::resolve(store, &company, ALERT_CODE, &queue, &now)
            .await?
            .is_some()
        {
            summary.resolved += 1;
        }
    }
    write_alerted(store, &key, open.iter().cloned().collect()).await?;
    summary.open = open.into_iter().collect();
    Ok(summary)
}

async fn read_alerted(store: &dyn ItemStore, key: &Key) -> Result<AlertedPairs, AppError> {
    match store.get(key).await? {
        Some(item) => Ok(from_item(item)?),
        None => Ok(AlertedPairs::default()),
    }
}

async fn write_alerted(
    store: &dyn ItemStore,
    key: &Key,
    pairs: Vec<(String, String)>,
) -> Result<(), AppError> {
    let pairs = &pairs;
    occ::retry(store, "the dead-letter alert list", move || async move {
        let (version, condition) = match store.get(key).await? {
            Some(item) => {
                let stored: AlertedPairs = from_item(item)?;
                if &stored.pairs == pairs {
                    return Ok(Plan::Keep(()));
                }
                (stored.version + 1, Condition::VersionIs(stored.version))
            }
            None => (1, Condition::NotExists),
        };
        let record = AlertedPairs {
            pairs: pairs.clone(),
            version,
        };
        Ok(Plan::one(Write::Put(to_item(&record, key)?, condition), ()))
    })
    .await
}

/// [`check`] for the reconcile schedule: logs what it found, or why it failed, and never
/// stops the run.
pub async fn run_check(deps: &Deps, now: chrono::DateTime<chrono::Utc>) {
    match check(deps, now).await {
        Ok(summary) => tracing::info!(
            depths = ?summary.depths,
            open_alerts = summary.open.len(),
            resolved = summary.resolved,
            unattributed = summary.unattributed,
            "dead-letter check done"
        ),
        Err(err) => {
            tracing::error!(code = %err.code, message = %err.message, "dead-letter check failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_summarized_without_trusting_them() {
        let s = summarize(
            r#"{"company_id":"acme","location_id":"l1","business_date":"2026-02-01","x":1}"#,
        );
        assert_eq!(s.company_id.as_deref(), Some("acme"));
        assert_eq!(s.location_id.as_deref(), Some("l1"));
        assert_eq!(s.business_date.as_deref(), Some("2026-02-01"));
        let s = summarize(r#"{"company_id":"a#b","date":"2026-13-01"}"#);
        assert_eq!((s.company_id, s.business_date), (None, None));
        assert_eq!(summarize("not json"), BodySummary::default());
    }

    #[test]
    fn a_replay_names_exactly_one_selection() {
        let ok = |input: DeadLetterReplayInput| check_input(&input).is_ok();
        assert!(!ok(DeadLetterReplayInput::default()));
        assert!(ok(DeadLetterReplayInput {
            all: true,
            ..Default::default()
        }));
        assert!(ok(DeadLetterReplayInput {
            message_id: Some("0f1e-22".into()),
            ..Default::default()
        }));
        assert!(ok(DeadLetterReplayInput {
            queue: Some("transfer".into()),
            kind: Some("transfer".into()),
            ..Default::default()
        }));
        assert!(!ok(DeadLetterReplayInput {
            all: true,
            queue: Some("transfer".into()),
            ..Default::default()
        }));
        assert!(!ok(DeadLetterReplayInput {
            kind: Some("other".into()),
            ..Default::default()
        }));
        assert!(!ok(DeadLetterReplayInput {
            message_id: Some("a b".into()),
            ..Default::default()
        }));
    }

    #[test]
    fn fifo_copies_keep_their_group_and_get_a_fresh_dedupe_id() {
        let letter = DeadLetter {
            message_id: "m-1".into(),
            receipt_handle: "r".into(),
            body: "{}".into(),
            receive_count: 4,
            sent_at: None,
            correlation_id: Some("c-1".into()),
            group_id: Some("lane-0".into()),
        };
        let copy = copy_of(&letter);
        assert_eq!(copy.correlation_id, "c-1");
        let group = copy.group.unwrap();
        assert_eq!(
            (group.group_id.as_str(), group.deduplication_id.as_str()),
            ("lane-0", "m-1-replay")
        );
        assert!(copy_of(&DeadLetter {
            group_id: None,
            ..letter
        })
        .group
        .is_none());
    }
}
