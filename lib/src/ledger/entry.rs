//! One ledger entry and its keys. Entries are only ever added: a correction is a new entry
//! (a higher revision) that names the entries it reverses.

use serde::{Deserialize, Serialize};

use crate::api::openapi::schemas as doc;
use crate::money::{Money, Quantity};
use crate::store::{attr, keys, to_item, Item, Key, StoreError};

/// Which lines feed an entry: sales issue stock, refunds return it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Sales,
    Refunds,
}

impl Stream {
    pub fn code(self) -> &'static str {
        match self {
            Stream::Sales => "S",
            Stream::Refunds => "R",
        }
    }

    fn from_code(code: &str) -> Option<Stream> {
        match code {
            "S" => Some(Stream::Sales),
            "R" => Some(Stream::Refunds),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryType {
    /// Stock leaves the storage unit (positive quantity).
    Issue,
    /// Stock comes back (negative quantity): refunds, voids, downward corrections.
    Reversal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryReason {
    /// First posting of the day's sales.
    Sale,
    /// First posting of the day's refunds.
    Refund,
    /// A later revision: late sales, edits, voids, mapping changes.
    Correction,
}

/// ISSUE (stock out, positive quantity) or REVERSAL (stock back, negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    pub entry_id: String,
    pub company_id: String,
    pub storage_unit_id: String,
    pub location_id: String,
    #[schema(schema_with = doc::date)]
    pub business_date: String,
    pub ingredient_id: String,
    #[schema(inline)]
    pub stream: Stream,
    /// 0 for the first posting of this (day, ingredient, stream), then 1, 2, …
    pub revision: u32,
    #[schema(inline)]
    pub entry_type: EntryType,
    #[schema(inline)]
    pub reason: EntryReason,
    /// Signed quantity issued, in the ingredient's unit (6 decimals, half-even).
    pub quantity: Quantity,
    /// Weighted average cost at posting; a reversal uses the cost it reverses.
    pub unit_cost: Money,
    /// `quantity × unit_cost`, rounded half-even to the minor unit.
    pub value: Money,
    /// ISO 4217 code of `unit_cost` and `value`: the location's currency (costs are kept
    /// per currency, never converted). `None` only for a location of unknown currency
    /// whose ingredients were never received, valued at zero.
    #[serde(default)]
    #[schema(required)]
    pub currency: Option<String>,
    /// Sales lines that fed this entry (listed from the day's sales cache).
    pub source_lines: u32,
    /// Earlier entries this one corrects.
    #[serde(default)]
    #[schema(required)]
    pub reverses: Vec<String>,
    /// For refunds: the sales refunded, when the POS links them.
    #[serde(default)]
    #[schema(required)]
    pub original_sale_ids: Vec<String>,
    pub transfer_log_id: String,
    pub request_uuid: String,
    #[schema(schema_with = doc::time)]
    pub created_at: String,
}

/// Decimals of money values (the currencies served have a two-decimal minor unit).
pub const MONEY_DECIMALS: u32 = 2;
/// Decimals of ledger quantities and unit costs.
pub const QUANTITY_DECIMALS: u32 = 6;

pub fn partition(company_id: &str, storage_unit_id: &str) -> String {
    format!("SU#{company_id}#{storage_unit_id}#LEDGER")
}

/// Sort-key prefix of one location-day in a storage unit's ledger.
pub fn day_prefix(business_date: &str, location_id: &str) -> String {
    format!("{business_date}#{location_id}#")
}

/// The GSI1 partition of an ingredient's ledger across storage units.
pub fn ingredient_partition(company_id: &str, ingredient_id: &str) -> String {
    format!("{}#ING#{ingredient_id}#LEDGER", keys::company(company_id))
}

/// The GSI2 partition of the entries one transfer attempt wrote.
pub fn transfer_log_partition(log_id: &str) -> String {
    format!("TLOG#{log_id}")
}

/// The deterministic id of an entry; [`key_of_id`] turns it back into its key.
pub fn entry_id(
    storage_unit_id: &str,
    location_id: &str,
    business_date: &str,
    ingredient_id: &str,
    stream: Stream,
    revision: u32,
) -> String {
    format!(
        "{storage_unit_id}:{location_id}:{business_date}:{ingredient_id}:{}{revision}",
        stream.code()
    )
}

fn sort_key(
    business_date: &str,
    location_id: &str,
    ingredient_id: &str,
    stream: Stream,
    revision: u32,
) -> String {
    format!(
        "{}{ingredient_id}#{}#{revision:04}",
        day_prefix(business_date, location_id),
        stream.code()
    )
}

/// The key of an entry id, or `None` when the text is not one.
pub fn key_of_id(company_id: &str, entry_id: &str) -> Option<Key> {
    let parts: Vec<&str> = entry_id.split(':').collect();
    let [su, loc, date, ingredient, tail] = parts.as_slice() else {
        return None;
    };
    let stream = Stream::from_code(tail.get(..1)?)?;
    let revision: u32 = tail.get(1..)?.parse().ok()?;
    let ok = [su, loc, ingredient]
        .iter()
        .all(|id| crate::ids::is_valid_id(id))
        && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok();
    ok.then(|| {
        Key::new(
            partition(company_id, su),
            sort_key(date, loc, ingredient, stream, revision),
        )
    })
}

impl LedgerEntry {
    pub fn key(&self) -> Key {
        Key::new(
            partition(&self.company_id, &self.storage_unit_id),
            sort_key(
                &self.business_date,
                &self.location_id,
                &self.ingredient_id,
                self.stream,
                self.revision,
            ),
        )
    }

    /// The group an entry belongs to within its location-day: ingredient and stream.
    pub fn group(&self) -> String {
        group(&self.ingredient_id, self.stream)
    }

    /// The stored item, in the per-ingredient (GSI1) and per-transfer-log (GSI2) indexes.
    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = to_item(self, &self.key())?;
        item.insert(
            attr::GSI1PK.into(),
            ingredient_partition(&self.company_id, &self.ingredient_id).into(),
        );
        item.insert(
            attr::GSI1SK.into(),
            format!(
                "{}#{}#{}#{}#{:04}",
                self.business_date,
                self.location_id,
                self.storage_unit_id,
                self.stream.code(),
                self.revision
            )
            .into(),
        );
        item.insert(
            attr::GSI2PK.into(),
            transfer_log_partition(&self.transfer_log_id).into(),
        );
        item.insert(
            attr::GSI2SK.into(),
            format!(
                "{}#{}#{:04}",
                self.ingredient_id,
                self.stream.code(),
                self.revision
            )
            .into(),
        );
        Ok(item)
    }
}

/// `{ingredient}#{stream}`: the unit in which postings are compared and revised.
pub fn group(ingredient_id: &str, stream: Stream) -> String {
    format!("{ingredient_id}#{}", stream.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_to_keys() {
        let id = entry_id("su1", "loc-9", "2026-03-01", "flour", Stream::Refunds, 12);
        assert_eq!(id, "su1:loc-9:2026-03-01:flour:R12");
        let key = key_of_id("acme", &id).unwrap();
        assert_eq!(key.pk, "SU#acme#su1#LEDGER");
        assert_eq!(key.sk, "2026-03-01#loc-9#flour#R#0012");
        for bad in [
            "",
            "a:b:c",
            "su:l:2026-13-01:f:S1",
            "su:l:2026-03-01:f:X1",
            "su:l:2026-03-01:f:S",
            "s#u:l:2026-03-01:f:S1",
        ] {
            assert!(key_of_id("acme", bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_day_of_one_location_is_one_key_range() {
        let a = sort_key("2026-03-01", "l1", "b", Stream::Sales, 0);
        let b = sort_key("2026-03-01", "l1", "a", Stream::Refunds, 3);
        let prefix = day_prefix("2026-03-01", "l1");
        assert!(a.starts_with(&prefix) && b.starts_with(&prefix));
        assert!(!sort_key("2026-03-01", "l10", "a", Stream::Sales, 0).starts_with(&prefix));
    }
}
