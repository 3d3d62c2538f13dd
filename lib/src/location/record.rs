//! The location record: one per POS location (K-Series business location, X-Series outlet),
//! with its storage-unit link, business-day settings, activation and auto-issue state.

use serde::{Deserialize, Serialize};

use super::business_day::{DayMode, DEFAULT_CUTOFF_HOUR};
use crate::connection::PosProduct;
use crate::error::{AppError, ErrorCode};
use crate::store::occ::{self, Plan};
use crate::store::{
    attr, from_item, keys, query_all_as, to_item, Condition, Item, ItemStore, Key, Query,
    StoreError, Write,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub company_id: String,
    /// The POS location id (K-Series `blID`, X-Series outlet id).
    pub location_id: String,
    pub product: PosProduct,
    pub name: String,
    pub business_name: Option<String>,
    pub country: Option<String>,
    /// IANA time zone, from Lightspeed unless an admin overrode it.
    pub timezone: String,
    pub currency: Option<String>,
    pub storage_unit_id: Option<String>,
    pub day_cutoff_hour: u32,
    /// `local` (time zone + cutoff) or `utc` (plain UTC days).
    pub day_mode: String,
    pub activated_at: Option<String>,
    pub auto_issue: bool,
    /// What one journal covers: the business day, or (X-Series) each register closure.
    #[serde(default)]
    pub journal_per: JournalPeriod,
    /// Kept, never deleted, when a sync no longer sees it upstream.
    pub missing_upstream: bool,
    pub last_synced_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// What one journal of a location covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalPeriod {
    /// One journal per business day (every POS).
    #[default]
    BusinessDay,
    /// One journal per X-Series register closure: the sales rung up on that register
    /// between its opening and its closing, posted when it closes.
    RegisterClosure,
}

impl Location {
    pub fn key(&self) -> Key {
        keys::location(&self.company_id, &self.location_id)
    }

    pub fn is_active(&self) -> bool {
        self.activated_at.is_some()
    }

    /// The business-day rule of this location; an unknown zone falls back to UTC days.
    pub fn day_mode(&self) -> DayMode {
        match (
            self.day_mode.as_str(),
            self.timezone.parse::<chrono_tz::Tz>(),
        ) {
            ("local", Ok(tz)) => DayMode::Local {
                tz,
                cutoff_hour: self.day_cutoff_hour,
            },
            _ => DayMode::Utc,
        }
    }

    /// The stored item, in the fan-out index while active with auto-issue on and in the
    /// POS-id index for webhooks.
    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = to_item(self, &self.key())?;
        if self.is_active() && self.auto_issue && !self.missing_upstream {
            item.insert(attr::GSI1PK.into(), crate::fanout::FANOUT_PARTITION.into());
            item.insert(
                attr::GSI1SK.into(),
                format!("{}#{}", self.company_id, self.location_id).into(),
            );
        }
        item.insert(
            attr::GSI2PK.into(),
            format!("POSLOC#{}#{}", self.product, self.location_id).into(),
        );
        item.insert(attr::GSI2SK.into(), keys::company(&self.company_id).into());
        Ok(item)
    }
}

/// What Lightspeed reports about a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamLocation {
    pub location_id: String,
    pub name: String,
    pub business_name: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub currency: Option<String>,
}

pub fn new_location(
    company_id: &str,
    product: PosProduct,
    upstream: &UpstreamLocation,
    now: &str,
) -> Location {
    Location {
        company_id: company_id.to_string(),
        location_id: upstream.location_id.clone(),
        product,
        name: upstream.name.clone(),
        business_name: upstream.business_name.clone(),
        country: upstream.country.clone(),
        timezone: upstream
            .timezone
            .clone()
            .unwrap_or_else(|| "UTC".to_string()),
        currency: upstream.currency.clone(),
        storage_unit_id: None,
        day_cutoff_hour: DEFAULT_CUTOFF_HOUR,
        day_mode: "local".to_string(),
        activated_at: None,
        auto_issue: true,
        journal_per: JournalPeriod::BusinessDay,
        missing_upstream: false,
        last_synced_at: now.to_string(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        version: 1,
    }
}

/// Applies upstream facts to a stored location; returns whether anything changed.
pub fn apply_upstream(location: &mut Location, upstream: &UpstreamLocation, now: &str) -> bool {
    let before = location.clone();
    location.name = upstream.name.clone();
    location.business_name = upstream
        .business_name
        .clone()
        .or(location.business_name.take());
    location.country = upstream.country.clone().or(location.country.take());
    if let Some(tz) = &upstream.timezone {
        location.timezone = tz.clone();
    }
    location.currency = upstream.currency.clone().or(location.currency.take());
    location.missing_upstream = false;
    let changed = *location != before;
    location.last_synced_at = now.to_string();
    changed
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<Location, AppError> {
    if !crate::ids::is_valid_id(location_id) {
        return Err(not_found(location_id));
    }
    match store.get(&keys::location(company_id, location_id)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(not_found(location_id)),
    }
}

fn not_found(location_id: &str) -> AppError {
    AppError::new(
        ErrorCode::LocationNotFound,
        format!("location `{location_id}` does not exist in this company; sync locations first"),
    )
}

/// Pattern 11: the partition holding a company's locations (cursors of the location list
/// must belong to it).
pub fn partition(company_id: &str) -> String {
    keys::company(company_id)
}

/// Pattern 11: every location of a company, in location id order.
pub async fn list_all(store: &dyn ItemStore, company_id: &str) -> Result<Vec<Location>, AppError> {
    let query = Query::partition(partition(company_id))
        .begins_with(keys::LOCATION_PREFIX)
        .limit(200);
    Ok(query_all_as(store, query).await?)
}

/// Read-modify-write with a version condition; `change` may refuse with an error.
pub async fn update<F>(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    now: &str,
    mut change: F,
) -> Result<Location, AppError>
where
    F: FnMut(&mut Location) -> Result<(), AppError>,
{
    occ::update(
        store,
        "the location",
        || get(store, company_id, location_id),
        |mut location: Location| {
            let previous = location.version;
            change(&mut location)?;
            location.version = previous + 1;
            location.updated_at = now.to_string();
            let write = Write::Put(location.to_item()?, Condition::VersionIs(previous));
            Ok(Plan::one(write, location))
        },
    )
    .await
}
