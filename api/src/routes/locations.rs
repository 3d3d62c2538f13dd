//! Locations: sync from Lightspeed, list with filters, detail with its health banner,
//! storage-unit link, business-day settings, activation and auto-issue.

use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tillbridge::api::envelope;
use tillbridge::connection::PosProduct;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::journal::record::{JournalRecord, JournalStatus};
use tillbridge::location::record::{self, Location};
use tillbridge::location::setup::{self, DaySettings};
use tillbridge::store::attr;
use tillbridge::transfer::log as transfer_log;
use utoipa::IntoParams;

use super::{flag, PageQuery};
use crate::openapi::schemas as doc;
use crate::pagination;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// A storage unit of this company
    #[serde(default)]
    #[schema(value_type = String, required, min_length = 1)]
    storage_unit_id: Option<String>,
}

pub fn view(location: &Location) -> Value {
    let mut value = serde_json::to_value(location).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
        map.insert("activated".into(), Value::Bool(location.is_active()));
    }
    value
}

/// The location list's filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationFilters {
    /// true/false
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<doc::Flag>)]
    pub activated: Option<bool>,
    /// true/false
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<doc::Flag>)]
    pub auto_issue: Option<bool>,
    /// true/false: no longer listed by Lightspeed
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<doc::Flag>)]
    pub missing: Option<bool>,
    /// A storage unit id, or `none`
    #[param(value_type = Option<doc::Text>)]
    pub storage_unit_id: Option<String>,
}

/// Filters: `activated`, `auto_issue`, `storage_unit_id` (an id, or `none`), `missing`.
/// A company has at most a few hundred locations, so the list is filtered in memory over
/// one consistent read; the cursor is the key of the last location returned.
pub async fn list(
    deps: &Deps,
    page: PageQuery,
    filters: LocationFilters,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let LocationFilters {
        activated,
        auto_issue,
        missing,
        storage_unit_id: storage_unit,
    } = filters;
    let limit = page.limit.0 as usize;
    let keep = |l: &Location| {
        activated.is_none_or(|a| l.is_active() == a)
            && auto_issue.is_none_or(|a| l.auto_issue == a)
            && missing.is_none_or(|m| l.missing_upstream == m)
            && match storage_unit.as_deref() {
                None => true,
                Some("none") => l.storage_unit_id.is_none(),
                Some(id) => l.storage_unit_id.as_deref() == Some(id),
            }
    };
    let cursor = pagination::decode_cursor(
        page.cursor.as_deref(),
        attr::PK,
        &record::partition(company_id),
    )?;
    let after = cursor
        .as_ref()
        .and_then(|c| c.get(attr::SK))
        .and_then(Value::as_str)
        .map(str::to_string);
    let all = record::list_all(deps.store.as_ref(), company_id).await?;
    let matching: Vec<&Location> = all
        .iter()
        .filter(|l| after.as_deref().is_none_or(|a| l.key().sk.as_str() > a))
        .filter(|l| keep(l))
        .collect();
    let page = &matching[..matching.len().min(limit)];
    let next_cursor = match (matching.len() > limit, page.last()) {
        (true, Some(last)) => pagination::encode_cursor(Some(&last.key().to_item())),
        _ => None,
    };
    Ok(pagination::reply(
        page.iter().map(|l| view(l)).collect(),
        next_cursor,
    ))
}

/// The detail page: the location, its storage unit, a health banner and the last 10 failed
/// transfers.
pub async fn get(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let location = record::get(deps.store.as_ref(), company_id, location_id).await?;
    let storage_unit = setup::linked_storage_unit(deps, &location).await?;
    let failed =
        transfer_log::recent_failures(deps.store.as_ref(), company_id, location_id, 10).await?;
    let mut health = Vec::new();
    if storage_unit.is_none() {
        health.push(json!({"code": "storage_unit_required", "message": "no storage unit is linked; transfers cannot deduct stock"}));
    }
    if location.missing_upstream {
        health.push(json!({"code": "missing_upstream", "message": "Lightspeed no longer lists this location"}));
    }
    if !failed.is_empty() {
        health.push(json!({"code": "recent_failed_transfers", "message": format!("{} recent transfers failed", failed.len())}));
    }
    if !location.is_active() {
        health.push(json!({"code": "not_activated", "message": "the location is not activated; no automatic transfers run"}));
    }
    let (catalog_items, mapped_here) = catalog_mapped(deps, &location).await?;
    if mapped_here < catalog_items {
        health.push(json!({
            "code": "unmapped_items",
            "message": format!("{} of {catalog_items} items sold here are not mapped; their sales will not deduct stock", catalog_items - mapped_here)
        }));
    }
    let lifetime =
        tillbridge::transfer::location_stats::get(deps.store.as_ref(), company_id, location_id)
            .await?;
    let recent = tillbridge::transfer::location_stats::recent(
        deps.store.as_ref(),
        company_id,
        location_id,
        chrono::Utc::now().date_naive(),
    )
    .await?;
    let journal =
        tillbridge::journal::record::latest(deps.store.as_ref(), company_id, location_id).await?;
    health.extend(journal.as_ref().and_then(journal_health));
    if !lifetime.last_unmapped.is_empty() {
        health.push(json!({
            "code": "unmapped_in_recent_transfers",
            "message": format!("the last transfer sold {} unmapped items: {}", lifetime.last_unmapped.len(), lifetime.last_unmapped.iter().take(5).cloned().collect::<Vec<_>>().join(", "))
        }));
    }
    Ok(envelope::json(
        200,
        &json!({
            "location": view(&location),
            "storage_unit": storage_unit.map(|u| json!({"id": u.id, "name": u.name, "code": u.code})),
            "health": health,
            "configuration": {
                "timezone": location.timezone,
                "day_cutoff_hour": location.day_cutoff_hour,
                "day_mode": location.day_mode,
                "auto_issue": location.auto_issue,
                "journal_per": location.journal_per,
            },
            "stats": {
                "catalog_items": catalog_items,
                "catalog_mapped": mapped_here,
                "recent_failed_transfers": failed.len(),
                "issues_lifetime": lifetime.issues_total,
                "issues_failed_lifetime": lifetime.issues_failed,
                "issues_7d": recent.issues_7d,
                "issues_30d": recent.issues_30d,
                "issues_failed_30d": recent.issues_failed_30d,
                "sales_lines_7d": recent.sales_lines_7d,
                "sales_lines_30d": recent.sales_lines_30d,
                "last_run_at": lifetime.last_run_at,
                "last_success_date": lifetime.last_success_date,
            },
            "recent_failed_transfers": failed,
            "journal": journal.map(|j| journal_summary(&j)),
        }),
    ))
}

/// The newest day's journal as the detail page shows it.
fn journal_summary(journal: &JournalRecord) -> Value {
    json!({
        "journal_id": journal.id(),
        "business_date": journal.business_date,
        "revision": journal.revision,
        "status": journal.status,
        "error": journal.error,
        "erp_move": journal.erp.name,
    })
}

/// A health line when the newest day's journal is not (on its way) in the books.
fn journal_health(journal: &JournalRecord) -> Option<Value> {
    let fine = matches!(
        journal.status,
        JournalStatus::Posted
            | JournalStatus::Pending
            | JournalStatus::Reversed
            | JournalStatus::Superseded
    );
    let why = journal
        .error
        .as_ref()
        .map_or("see /journals", |e| e.message.as_str());
    (!fine).then(|| {
        json!({
            "code": "journal_not_posted",
            "message": format!("the journal of {} is {:?}: {why}", journal.business_date, journal.status)
        })
    })
}

/// Catalog mapped x of y: how many items this location sells, and how many of them have a
/// mapping.
async fn catalog_mapped(
    deps: &Deps,
    location: &tillbridge::location::Location,
) -> Result<(usize, usize), AppError> {
    let store = deps.store.as_ref();
    let mapped: std::collections::HashSet<(PosProduct, String)> =
        tillbridge::mapping::record::all(store, &location.company_id)
            .await?
            .into_iter()
            .map(|m| (m.product, m.item_id))
            .collect();
    let sold_here: Vec<tillbridge::items::PosItem> =
        tillbridge::items::record::product_items(store, &location.company_id, location.product)
            .await?
            .into_iter()
            .filter(|i| !i.deleted_upstream && i.location_ids.contains(&location.location_id))
            .collect();
    let mapped_here = sold_here
        .iter()
        .filter(|i| mapped.contains(&(i.product, i.item_id.clone())))
        .count();
    Ok((sold_here.len(), mapped_here))
}

pub async fn link(
    deps: &Deps,
    input: LinkInput,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let location = setup::link_storage_unit(
        deps,
        company_id,
        location_id,
        input.storage_unit_id.as_deref(),
        &now(),
    )
    .await?;
    Ok(envelope::json(200, &view(&location)))
}

pub async fn unlink(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let location = setup::unlink_storage_unit(deps, company_id, location_id, &now()).await?;
    Ok(envelope::json(200, &view(&location)))
}

pub async fn configure(
    deps: &Deps,
    settings: DaySettings,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let location = setup::configure(deps, company_id, location_id, settings, &now()).await?;
    Ok(envelope::json(200, &view(&location)))
}

pub async fn activate(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let request_uuid = tillbridge::random::uuid().to_string();
    let (location, newly) =
        setup::activate(deps, company_id, location_id, &request_uuid, &now()).await?;
    Ok(envelope::json(
        if newly { 201 } else { 200 },
        &json!({
            "location": view(&location),
            "migration_requested": newly && location.product.is_lightspeed(),
        }),
    ))
}
