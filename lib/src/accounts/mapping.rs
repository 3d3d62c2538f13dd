//! Where a company books its POS days: accounts per payment method, tax code and
//! accounting group, the fixed accounts (discount, service charge, tips, rounding,
//! refunds), the ERP company and journal, and what to do with a foreign currency. One
//! company document, and per location an override whose entries win.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode};
use crate::journal::AccountMap;
use crate::money::{bounds, check_bounds, Money};
use crate::store::occ::{self, Plan};
use crate::store::{from_item, get_as, query_all, Condition, ItemStore, Key, Query, Write};

/// The general journal Odoo's generic chart has; used when the mapping names none.
pub const DEFAULT_JOURNAL: &str = "MISC";

/// What a location in another currency than its ERP company does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignCurrency {
    /// The day is refused with `currency_mismatch` (nothing is posted as if it were the
    /// company's currency).
    #[default]
    Refuse,
    /// Lines carry the location's currency (`amount_currency`) at the ERP's rate for the date.
    Convert,
}

/// One mapping document: the company's (every account it needs) or a location's override
/// (only what differs). Account values are the ERP's account codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountMapping {
    #[serde(default)]
    pub payment_methods: BTreeMap<String, String>,
    #[serde(default)]
    pub tax_codes: BTreeMap<String, String>,
    #[serde(default)]
    pub accounting_groups: BTreeMap<String, String>,
    #[serde(default)]
    pub default_revenue: Option<String>,
    #[serde(default)]
    pub discount: Option<String>,
    #[serde(default)]
    pub service_charge: Option<String>,
    #[serde(default)]
    pub tips: Option<String>,
    #[serde(default)]
    pub rounding: Option<String>,
    #[serde(default)]
    pub refunds: Option<String>,
    /// The ERP company (Odoo `res.company` id) the days post to; the ERP user's default
    /// company when absent.
    #[serde(default)]
    pub erp_company_id: Option<i64>,
    /// Journal code (default `MISC`).
    #[serde(default)]
    pub journal: Option<String>,
    /// The largest rounding line posted without a `rounding_above_threshold` alert.
    #[serde(default)]
    pub rounding_threshold: Option<Money>,
    #[serde(default)]
    pub foreign_currency: Option<ForeignCurrency>,
}

/// A stored mapping document with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMapping {
    pub company_id: String,
    /// `None` for the company document, else the location it overrides.
    pub location_id: Option<String>,
    #[serde(flatten)]
    pub mapping: AccountMapping,
    pub updated_at: String,
    #[serde(default)]
    pub version: u64,
}

/// Everything posting one location's day needs, company and override merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingSetup {
    pub accounts: AccountMap,
    pub journal: String,
    pub erp_company_id: Option<i64>,
    pub rounding_threshold: Money,
    pub foreign_currency: ForeignCurrency,
}

/// The default rounding threshold: one whole unit of the currency.
const DEFAULT_THRESHOLD: Money = Money(rust_decimal::Decimal::ONE);

/// Longest account code, journal code or mapped name accepted.
const MAX_TEXT: usize = 64;
/// Most entries in one table (payment methods, tax codes or groups).
const MAX_ENTRIES: usize = 500;

impl AccountMapping {
    /// Bounds and shapes every document must respect; the company document must also name
    /// the fixed accounts (`complete`).
    pub fn validate(&self, complete: bool) -> Result<(), AppError> {
        let tables = [
            ("payment_methods", &self.payment_methods),
            ("tax_codes", &self.tax_codes),
            ("accounting_groups", &self.accounting_groups),
        ];
        for (field, table) in tables {
            if table.len() > MAX_ENTRIES {
                return Err(AppError::validation(format!(
                    "`{field}` has more than {MAX_ENTRIES} entries"
                )));
            }
            for (name, account) in table {
                check_text(&format!("{field} key"), name)?;
                check_text(&format!("{field}.{name}"), account)?;
            }
        }
        for (field, value) in self.fixed_accounts() {
            match value {
                Some(value) => check_text(field, value)?,
                None if complete && field != "refunds" && field != "default_revenue" => {
                    return Err(AppError::validation(format!(
                        "the company mapping needs `{field}` (an account code)"
                    )))
                }
                None => {}
            }
        }
        if let Some(journal) = &self.journal {
            check_text("journal", journal)?;
        }
        if let Some(threshold) = self.rounding_threshold {
            if threshold.is_negative() {
                return Err(AppError::validation(
                    "`rounding_threshold` must not be negative",
                ));
            }
            check_bounds(
                "rounding_threshold",
                threshold.value(),
                bounds::MONEY_MAX,
                bounds::SCALE_MAX,
            )?;
        }
        if self.erp_company_id.is_some_and(|id| id <= 0) {
            return Err(AppError::validation(
                "`erp_company_id` must be a positive id",
            ));
        }
        Ok(())
    }

    fn fixed_accounts(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("discount", &self.discount),
            ("service_charge", &self.service_charge),
            ("tips", &self.tips),
            ("rounding", &self.rounding),
            ("refunds", &self.refunds),
            ("default_revenue", &self.default_revenue),
        ]
    }
}

fn check_text(field: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty()
        || value.chars().count() > MAX_TEXT
        || value.chars().any(char::is_control)
    {
        return Err(AppError::validation(format!(
            "`{field}` must be 1 to {MAX_TEXT} printable characters"
        )));
    }
    Ok(())
}

/// The company document with a location's override laid over it (pure).
pub fn resolve(company: &AccountMapping, location: Option<&AccountMapping>) -> PostingSetup {
    let empty = AccountMapping::default();
    let over = location.unwrap_or(&empty);
    let merged = |base: &BTreeMap<String, String>, top: &BTreeMap<String, String>| {
        let mut out = base.clone();
        out.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    };
    let pick = |top: &Option<String>, base: &Option<String>| {
        top.clone().or_else(|| base.clone()).unwrap_or_default()
    };
    PostingSetup {
        accounts: AccountMap {
            revenue: merged(&company.accounting_groups, &over.accounting_groups),
            default_revenue: over
                .default_revenue
                .clone()
                .or_else(|| company.default_revenue.clone()),
            tax: merged(&company.tax_codes, &over.tax_codes),
            payment: merged(&company.payment_methods, &over.payment_methods),
            discount: pick(&over.discount, &company.discount),
            service_charge: pick(&over.service_charge, &company.service_charge),
            tips: pick(&over.tips, &company.tips),
            rounding: pick(&over.rounding, &company.rounding),
            refunds: over.refunds.clone().or_else(|| company.refunds.clone()),
        },
        journal: over
            .journal
            .clone()
            .or_else(|| company.journal.clone())
            .unwrap_or_else(|| DEFAULT_JOURNAL.to_string()),
        erp_company_id: over.erp_company_id.or(company.erp_company_id),
        rounding_threshold: over
            .rounding_threshold
            .or(company.rounding_threshold)
            .unwrap_or(DEFAULT_THRESHOLD),
        foreign_currency: over
            .foreign_currency
            .or(company.foreign_currency)
            .unwrap_or_default(),
    }
}

/// Pattern 26: the partition holding a company's account mappings.
pub fn partition(company_id: &str) -> String {
    format!("CO#{company_id}#ACCT")
}

fn key(company_id: &str, location_id: Option<&str>) -> Key {
    let sk = match location_id {
        None => "COMPANY".to_string(),
        Some(location) => format!("LOC#{location}"),
    };
    Key::new(partition(company_id), sk)
}

/// Pattern 26: the company document or a location's override, if saved.
pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: Option<&str>,
) -> Result<Option<StoredMapping>, AppError> {
    Ok(get_as(store, &key(company_id, location_id)).await?)
}

/// The company document, or `account_mapping_missing` naming what to do.
pub async fn require_company(
    store: &dyn ItemStore,
    company_id: &str,
) -> Result<StoredMapping, AppError> {
    get(store, company_id, None).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::AccountMappingMissing,
            "this company has no account mapping; PUT /account-mappings first",
        )
    })
}

/// Pattern 26: replaces a document (validated first), under the version read.
pub async fn put(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: Option<&str>,
    mapping: AccountMapping,
    now: &str,
) -> Result<StoredMapping, AppError> {
    mapping.validate(location_id.is_none())?;
    let key = key(company_id, location_id);
    occ::update(
        store,
        "the account mapping",
        || get(store, company_id, location_id),
        |current: Option<StoredMapping>| {
            let version = current.as_ref().map_or(0, |c| c.version);
            let record = StoredMapping {
                company_id: company_id.to_string(),
                location_id: location_id.map(str::to_string),
                mapping: mapping.clone(),
                updated_at: now.to_string(),
                version: version + 1,
            };
            let item = crate::store::to_item(&record, &key)?;
            Ok(Plan::one(
                Write::Put(item, Condition::replacing(version)),
                record,
            ))
        },
    )
    .await
}

/// Pattern 26: removes a location's override (absent is not an error).
pub async fn delete_override(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<(), AppError> {
    store
        .delete(&key(company_id, Some(location_id)), Condition::None)
        .await?;
    Ok(())
}

/// Pattern 26: every location override of a company, by location.
pub async fn overrides(
    store: &dyn ItemStore,
    company_id: &str,
) -> Result<BTreeMap<String, AccountMapping>, AppError> {
    let query = Query::partition(partition(company_id))
        .begins_with("LOC#")
        .limit(200);
    let mut out = BTreeMap::new();
    for item in query_all(store, query).await? {
        let stored: StoredMapping = from_item(item)?;
        if let Some(location) = stored.location_id {
            out.insert(location, stored.mapping);
        }
    }
    Ok(out)
}

/// The posting setup of a location: the company document (required) and its override.
pub async fn setup_for(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
) -> Result<PostingSetup, AppError> {
    let company = require_company(store, company_id).await?;
    let over = get(store, company_id, Some(location_id)).await?;
    Ok(resolve(&company.mapping, over.as_ref().map(|o| &o.mapping)))
}

/// Account mappings as tests write them.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A company document naming every fixed account, with cash as its one payment method.
    pub fn company() -> AccountMapping {
        AccountMapping {
            payment_methods: BTreeMap::from([("CASH".into(), "101501".into())]),
            tax_codes: BTreeMap::from([("VAT20".into(), "251000".into())]),
            accounting_groups: BTreeMap::from([("Food".into(), "400000".into())]),
            discount: Some("400900".into()),
            service_charge: Some("400100".into()),
            tips: Some("201000".into()),
            rounding: Some("642000".into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::company;
    use super::*;

    #[test]
    fn a_location_override_wins_entry_by_entry() {
        let over = AccountMapping {
            payment_methods: BTreeMap::from([("CARD".into(), "101401".into())]),
            tax_codes: BTreeMap::from([("VAT20".into(), "251100".into())]),
            journal: Some("POSS".into()),
            erp_company_id: Some(2),
            ..Default::default()
        };
        let setup = resolve(&company(), Some(&over));
        assert_eq!(setup.accounts.payment.len(), 2);
        assert_eq!(setup.accounts.payment["CASH"], "101501");
        assert_eq!(setup.accounts.tax["VAT20"], "251100");
        assert_eq!(setup.accounts.discount, "400900");
        assert_eq!(setup.journal, "POSS");
        assert_eq!(setup.erp_company_id, Some(2));
        assert_eq!(setup.foreign_currency, ForeignCurrency::Refuse);
        let plain = resolve(&company(), None);
        assert_eq!(plain.journal, DEFAULT_JOURNAL);
        assert_eq!(plain.rounding_threshold, DEFAULT_THRESHOLD);
    }

    #[test]
    fn the_company_document_must_name_its_fixed_accounts() {
        assert!(company().validate(true).is_ok());
        let mut missing = company();
        missing.tips = None;
        let err = missing.validate(true).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert!(err.message.contains("`tips`"), "{}", err.message);
        assert!(
            missing.validate(false).is_ok(),
            "an override may leave it out"
        );
        let mut blank = company();
        blank.payment_methods.insert("CARD".into(), " ".into());
        assert!(blank.validate(true).is_err());
        let mut negative = company();
        negative.rounding_threshold = Some(Money(rust_decimal::Decimal::new(-1, 2)));
        assert!(negative.validate(true).is_err());
    }
}
