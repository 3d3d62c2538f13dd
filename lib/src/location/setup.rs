//! What an admin does with a location before it can transfer: link a storage unit, set its
//! business-day rule, activate it (one way), pause and resume automatic issuing.

use serde::Deserialize;

use super::record::{self, JournalPeriod, Location};
use crate::api::openapi::schemas as doc;
use crate::catalog::storage_unit::{owner_index, StorageUnit};
use crate::catalog::{records, CatalogRecord};
use crate::connection::PosProduct;
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::store::{Index, Query};

/// Links `storage_unit_id`, which must be this company's.
pub async fn link_storage_unit(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    storage_unit_id: Option<&str>,
    now: &str,
) -> Result<Location, AppError> {
    let storage_unit_id = storage_unit_id
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::StorageUnitRequired,
                "send the `storage_unit_id` to link to this location",
            )
        })?;
    record::get(deps.store.as_ref(), company_id, location_id).await?;
    match records::get::<StorageUnit>(deps.store.as_ref(), company_id, storage_unit_id).await {
        Ok(_) => {}
        Err(err) if err.code == ErrorCode::StorageUnitNotFound => {
            let owners = deps
                .store
                .query(
                    &Query::partition(owner_index(storage_unit_id))
                        .on(Index::Gsi2)
                        .limit(1),
                )
                .await?;
            return Err(if owners.items.is_empty() {
                err
            } else {
                AppError::new(
                    ErrorCode::StorageUnitCompanyMismatch,
                    format!("storage unit `{storage_unit_id}` belongs to another company; link one of this company's storage units"),
                )
            });
        }
        Err(err) => return Err(err),
    }
    let storage_unit_id = storage_unit_id.to_string();
    record::update(deps.store.as_ref(), company_id, location_id, now, |l| {
        l.storage_unit_id = Some(storage_unit_id.clone());
        Ok(())
    })
    .await
}

pub async fn unlink_storage_unit(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    now: &str,
) -> Result<Location, AppError> {
    let location = record::update(deps.store.as_ref(), company_id, location_id, now, |l| {
        l.storage_unit_id = None;
        Ok(())
    })
    .await?;
    // Nothing can be deducted without a unit: a running migration stops.
    if let Some(job) =
        crate::migration::start::open_job(deps.store.as_ref(), company_id, location_id).await?
    {
        crate::migration::start::cancel(
            deps.store.as_ref(),
            company_id,
            location_id,
            &job.job_id,
            now,
        )
        .await?;
    }
    Ok(location)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LocationSettings)]
pub struct DaySettings {
    #[serde(default)]
    #[schema(value_type = doc::TimeZone)]
    pub timezone: Option<String>,
    /// Local hour at which the business day starts
    #[serde(default)]
    #[schema(value_type = u32, maximum = 23)]
    pub day_cutoff_hour: Option<u32>,
    /// `local` or `utc`.
    #[serde(default)]
    #[schema(schema_with = doc::day_mode)]
    pub day_mode: Option<String>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub auto_issue: Option<bool>,
    /// `business_day` (one journal per business day) or `register_closure` (X-Series: one
    /// journal per register closure, posted when the register closes).
    #[serde(default)]
    #[schema(schema_with = doc::journal_per)]
    pub journal_per: Option<String>,
}

/// Checks settings (pure).
pub fn validate(settings: &DaySettings) -> Result<(), AppError> {
    if settings.timezone.is_none()
        && settings.day_cutoff_hour.is_none()
        && settings.day_mode.is_none()
        && settings.auto_issue.is_none()
        && settings.journal_per.is_none()
    {
        return Err(AppError::validation(
            "nothing to update: send `timezone`, `day_cutoff_hour`, `day_mode`, `auto_issue` or `journal_per`",
        ));
    }
    journal_period(settings)?;
    if let Some(tz) = &settings.timezone {
        if tz.parse::<chrono_tz::Tz>().is_err() {
            return Err(AppError::validation(format!(
                "`{tz}` is not an IANA time zone such as Europe/London"
            )));
        }
    }
    if settings.day_cutoff_hour.is_some_and(|h| h > 23) {
        return Err(AppError::validation(
            "`day_cutoff_hour` must be 0 to 23 (local hour when the business day starts)",
        ));
    }
    if let Some(mode) = &settings.day_mode {
        if mode != "local" && mode != "utc" {
            return Err(AppError::validation("`day_mode` must be `local` or `utc`"));
        }
    }
    Ok(())
}

/// The journal period asked for, if any (pure).
fn journal_period(settings: &DaySettings) -> Result<Option<JournalPeriod>, AppError> {
    match settings.journal_per.as_deref() {
        None => Ok(None),
        Some("business_day") => Ok(Some(JournalPeriod::BusinessDay)),
        Some("register_closure") => Ok(Some(JournalPeriod::RegisterClosure)),
        Some(other) => Err(AppError::validation(format!(
            "`journal_per` must be `business_day` or `register_closure`, got `{other}`"
        ))),
    }
}

pub async fn configure(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    settings: DaySettings,
    now: &str,
) -> Result<Location, AppError> {
    validate(&settings)?;
    let journal_per = journal_period(&settings)?;
    record::update(deps.store.as_ref(), company_id, location_id, now, |l| {
        if let Some(period) = journal_per {
            if period == JournalPeriod::RegisterClosure && l.product != PosProduct::XSeries {
                return Err(AppError::validation(format!(
                    "`journal_per: register_closure` needs an X-Series outlet; location \"{}\" is {}",
                    l.name,
                    l.product.as_str()
                )));
            }
            l.journal_per = period;
        }
        if let Some(tz) = &settings.timezone {
            l.timezone = tz.clone();
        }
        if let Some(hour) = settings.day_cutoff_hour {
            l.day_cutoff_hour = hour;
        }
        if let Some(mode) = &settings.day_mode {
            l.day_mode = mode.clone();
        }
        if let Some(on) = settings.auto_issue {
            l.auto_issue = on;
        }
        Ok(())
    })
    .await
}

/// Whether the company has at least one item mapping (row 14 of the access patterns).
async fn has_mapping(deps: &Deps, company_id: &str) -> Result<bool, AppError> {
    let page = deps
        .store
        .query(
            &Query::partition(format!("{}#MAP", crate::store::keys::company(company_id))).limit(1),
        )
        .await?;
    Ok(!page.items.is_empty())
}

/// A CSV location (`POST …/locations`): Lightspeed locations come from a sync, a site
/// whose sales arrive as files is created by hand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCsvLocation {
    /// 1–64 letters, digits, `-` or `_`; the value the files' location column holds.
    pub location_id: String,
    pub name: String,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// ISO 4217 code: amounts in the files are in it.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    /// Local hour when the business day starts (default 4).
    #[serde(default)]
    pub day_cutoff_hour: Option<u32>,
}

pub async fn create_csv(
    store: &dyn crate::store::ItemStore,
    company_id: &str,
    input: NewCsvLocation,
    now: &str,
) -> Result<Location, AppError> {
    if !crate::ids::is_valid_id(&input.location_id) {
        return Err(AppError::validation(
            "`location_id` must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 200 {
        return Err(AppError::validation("`name` must be 1 to 200 characters"));
    }
    if let Some(currency) = &input.currency {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(AppError::validation(format!(
                "`currency` must be an ISO 4217 code such as GBP, got `{currency}`"
            )));
        }
    }
    if input.timezone.is_some() || input.day_cutoff_hour.is_some() {
        validate(&DaySettings {
            timezone: input.timezone.clone(),
            day_cutoff_hour: input.day_cutoff_hour,
            day_mode: None,
            auto_issue: None,
            journal_per: None,
        })?;
    }
    let upstream = record::UpstreamLocation {
        location_id: input.location_id.clone(),
        name: input.name.trim().to_string(),
        business_name: None,
        country: input.country,
        timezone: input.timezone,
        currency: input.currency,
    };
    let mut location = record::new_location(
        company_id,
        crate::connection::PosProduct::Csv,
        &upstream,
        now,
    );
    // Nothing arrives on a schedule: each import queues the days it brings.
    location.auto_issue = false;
    if let Some(hour) = input.day_cutoff_hour {
        location.day_cutoff_hour = hour;
    }
    match store
        .put(location.to_item()?, crate::store::Condition::NotExists)
        .await
    {
        Ok(()) => Ok(location),
        Err(crate::store::StoreError::ConditionFailed) => Err(AppError::new(
            ErrorCode::LocationExists,
            format!(
                "location `{}` already exists in this company; choose another id",
                location.location_id
            ),
        )),
        Err(err) => Err(err.into()),
    }
}

/// Activates the location (one way) and asks for its 90-day migration (Lightspeed
/// locations). Activating an active location changes nothing and sends nothing.
pub async fn activate(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    request_uuid: &str,
    now: &str,
) -> Result<(Location, bool), AppError> {
    let current = record::get(deps.store.as_ref(), company_id, location_id).await?;
    if current.is_active() {
        return Ok((current, false));
    }
    if current.storage_unit_id.is_none() {
        return Err(AppError::new(
            ErrorCode::StorageUnitRequired,
            "link a storage unit before activating this location",
        ));
    }
    if !has_mapping(deps, company_id).await? {
        return Err(AppError::new(
            ErrorCode::MappingRequired,
            "map at least one item before activating; unmapped sales cannot deduct stock",
        ));
    }
    let mut newly = false;
    let location = record::update(deps.store.as_ref(), company_id, location_id, now, |l| {
        if l.activated_at.is_none() {
            if l.storage_unit_id.is_none() {
                return Err(AppError::new(
                    ErrorCode::StorageUnitRequired,
                    "the storage unit was unlinked meanwhile",
                ));
            }
            l.activated_at = Some(now.to_string());
            newly = true;
        }
        Ok(())
    })
    .await?;
    // A CSV location's history arrives with its imports: there is nothing to migrate.
    if newly && location.product.is_lightspeed() {
        let at = chrono::DateTime::parse_from_rfc3339(now)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|_| chrono::Utc::now());
        // The job records the request; a failure here leaves the location active and the
        // migration startable from the admin API.
        if let Err(err) = crate::migration::start::start(
            deps.store.as_ref(),
            &deps.migration_days(),
            company_id,
            location_id,
            false,
            request_uuid,
            at,
        )
        .await
        {
            tracing::error!(error = %err, location_id, "migration not started at activation");
            return Err(err);
        }
    }
    Ok((location, newly))
}

/// The storage unit as shown beside a location, if linked and still there.
pub async fn linked_storage_unit(
    deps: &Deps,
    location: &Location,
) -> Result<Option<StorageUnit>, AppError> {
    match &location.storage_unit_id {
        None => Ok(None),
        Some(id) => {
            match records::get::<StorageUnit>(deps.store.as_ref(), &location.company_id, id).await {
                Ok(unit) => Ok(Some(unit)),
                Err(err) if err.code == StorageUnit::NOT_FOUND => Ok(None),
                Err(err) => Err(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = DaySettings {
            timezone: Some("America/New_York".into()),
            day_cutoff_hour: Some(5),
            ..Default::default()
        };
        assert!(validate(&ok).is_ok());
        assert!(validate(&DaySettings::default()).is_err());
        assert!(validate(&DaySettings {
            timezone: Some("Mars/Olympus".into()),
            ..Default::default()
        })
        .is_err());
        assert!(validate(&DaySettings {
            day_cutoff_hour: Some(24),
            ..Default::default()
        })
        .is_err());
        assert!(validate(&DaySettings {
            day_mode: Some("lunar".into()),
            ..Default::default()
        })
        .is_err());
        assert!(validate(&DaySettings {
            day_mode: Some("utc".into()),
            ..Default::default()
        })
        .is_ok());
    }
}
