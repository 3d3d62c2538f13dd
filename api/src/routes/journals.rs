//! Journals (SPEC C9): a company's day journals by location and date range, one journal
//! with its lines and ERP move, and a re-post through the journal queue.

use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::handlers::now;
use tillbridge::journal::record::{self, JournalRecord};
use tillbridge::journal::request::JournalRequest;
use tillbridge::location::record as location_record;
use tillbridge::queue::QueueName;
use utoipa::IntoParams;

use crate::openapi::schemas as doc;
use crate::pagination;

/// The widest date range one list answers (a year of days per location).
const MAX_RANGE_DAYS: i64 = 366;

pub fn view(journal: &JournalRecord) -> Value {
    let mut value = serde_json::to_value(journal).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
        map.insert("journal_id".into(), Value::String(journal.id()));
    }
    value
}

pub(super) fn date_param(name: &str, raw: Option<&str>) -> Result<chrono::NaiveDate, AppError> {
    let raw = raw.ok_or_else(|| {
        AppError::new(
            ErrorCode::DateRequired,
            format!("`{name}` is required (YYYY-MM-DD)"),
        )
    })?;
    tillbridge::ids::strict_date(raw).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidDateFormat,
            format!("`{name}` must be a calendar date as YYYY-MM-DD, got `{raw}`"),
        )
    })
}

/// `from..=to` is a range of at most `most` days.
pub(super) fn date_range(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    most: i64,
) -> Result<(), AppError> {
    if from > to {
        return Err(AppError::validation("`from` is after `to`"));
    }
    if (to - from).num_days() >= most {
        return Err(AppError::validation(format!(
            "the range may cover at most {most} days"
        )));
    }
    Ok(())
}

/// `from` and `to` (required, at most a year apart), `location_id` (optional: every
/// location otherwise), `status` (optional). Every revision is listed, oldest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JournalFilters {
    /// First business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub from: Option<String>,
    /// Last business date
    #[param(value_type = doc::BusinessDate, required = true)]
    pub to: Option<String>,
    /// One location (all otherwise)
    #[param(value_type = Option<doc::PathId>)]
    pub location_id: Option<String>,
    /// Only journals in this status
    #[param(value_type = Option<doc::JournalStatusFilter>)]
    pub status: Option<String>,
}

pub async fn list(
    deps: &Deps,
    filters: JournalFilters,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let from = date_param("from", filters.from.as_deref())?;
    let to = date_param("to", filters.to.as_deref())?;
    date_range(from, to, MAX_RANGE_DAYS)?;
    let status = filters.status;
    let store = deps.store.as_ref();
    let locations = match filters.location_id {
        Some(id) => vec![
            location_record::get(store, company_id, &id)
                .await?
                .location_id,
        ],
        None => location_record::list_all(store, company_id)
            .await?
            .into_iter()
            .map(|l| l.location_id)
            .collect(),
    };
    let (from, to) = (from.to_string(), to.to_string());
    let mut items = Vec::new();
    for location in &locations {
        for journal in record::in_range(store, company_id, location, &from, &to).await? {
            let shown = view(&journal);
            if status.as_deref().is_none_or(|s| shown["status"] == s) {
                items.push(shown);
            }
        }
    }
    Ok(pagination::reply(items, None))
}

/// `{location_id}:{period}:{revision}` → the parts; a period is a business date, or
/// `{date}~{closure_id}` for a register closure's journal.
fn parse_id(id: &str) -> Option<(&str, &str, u32)> {
    let (rest, revision) = id.rsplit_once(':')?;
    let (location, period) = rest.rsplit_once(':')?;
    let (date, closure) = match period.split_once('~') {
        Some((date, closure)) => (date, Some(closure)),
        None => (period, None),
    };
    tillbridge::ids::strict_date(date)?;
    if closure.is_some_and(|c| !tillbridge::ids::is_valid_id(c)) {
        return None;
    }
    Some((location, period, revision.parse().ok()?))
}

pub async fn get(deps: &Deps, company_id: &str, id: &str) -> Result<Response<Body>, AppError> {
    let (location, period, revision) = parse_id(id).ok_or_else(|| {
        AppError::new(
            ErrorCode::JournalNotFound,
            format!(
                "`{id}` is not a journal id (`<location_id>:<YYYY-MM-DD>[~<closure_id>]:<revision>`)"
            ),
        )
    })?;
    let journal = record::get(deps.store.as_ref(), company_id, location, period, revision).await?;
    Ok(envelope::json(200, &view(&journal)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = JournalRepostInput)]
pub struct RepostInput {
    #[schema(value_type = doc::PathId)]
    location_id: String,
    #[schema(value_type = doc::BusinessDate)]
    business_date: String,
    /// A register closure's journal (its outlet journals per register closure) instead of
    /// the day's.
    #[serde(default)]
    #[schema(value_type = Option<doc::PathId>)]
    closure_id: Option<String>,
}

/// Queues the day's (or a register closure's) journal again (after a mapping fix, an ERP correction or a lock date
/// change); posting decides what, if anything, changes, and reads an unchanged posted move
/// back so one deleted in the ERP is posted again. `202` with the request id.
pub async fn repost(
    deps: &Deps,
    input: RepostInput,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    location_record::get(deps.store.as_ref(), company_id, &input.location_id).await?;
    let job = JournalRequest {
        request_uuid: tillbridge::random::uuid().to_string(),
        company_id: company_id.to_string(),
        location_id: input.location_id,
        business_date: input.business_date,
        attempt: 1,
        requested_at: now(),
        verify_in_erp: true,
        closure_id: input.closure_id,
    };
    job.check().map_err(|err| {
        if err.code == ErrorCode::InvalidMessage {
            AppError::validation(err.message)
        } else {
            err
        }
    })?;
    deps.queue.send(QueueName::Journal, job.message(0)?).await?;
    Ok(envelope::json(
        202,
        &JournalQueued {
            queued: true,
            request_uuid: job.request_uuid,
            location_id: job.location_id,
            business_date: job.business_date,
        },
    ))
}

/// The answer of a repost: the queued request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JournalQueued {
    #[schema(schema_with = doc::always_true)]
    queued: bool,
    request_uuid: String,
    location_id: String,
    business_date: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_ids_split_at_the_last_two_colons() {
        assert_eq!(
            parse_id("loc-1:2026-11-30:2"),
            Some(("loc-1", "2026-11-30", 2))
        );
        assert_eq!(parse_id("a:b:2026-11-30:1"), Some(("a:b", "2026-11-30", 1)));
        assert_eq!(
            parse_id("loc-1:2026-11-30~c-9:3"),
            Some(("loc-1", "2026-11-30~c-9", 3))
        );
        assert_eq!(parse_id("loc-1:2026-11-30~c/9:3"), None);
        assert_eq!(parse_id("loc-1:2026-13-30:2"), None);
        assert_eq!(parse_id("loc-1:2026-11-30:x"), None);
        assert_eq!(parse_id("nothing"), None);
    }
}
