//! The payment methods and tax codes a POS connection uses, synced from Lightspeed
//! (K-Series finance endpoints per business location, X-Series payment types and taxes),
//! so the admin sees exactly what needs an account. Codes are the ones canonical sales
//! carry: K-Series payment `code` and `taxCode`, X-Series payment type name and tax id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mapping::{self, AccountMapping};
use crate::connection::source::{FinanceList, SyncScope};
use crate::connection::{integration, PosProduct};
use crate::error::{AppError, ErrorCode};
use crate::location::record;
use crate::sales::xseries::ON_ACCOUNT;
use crate::store::{from_item, to_item, Condition, ItemStore, Key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosCode {
    pub code: String,
    pub name: String,
    /// Tax rates only: the rate as the POS states it (K-Series a multiplier, X-Series a
    /// fraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// The locations that offer it.
    pub locations: Vec<String>,
}

/// What one sync found for a POS product of a company.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosCodes {
    pub company_id: String,
    pub product: String,
    pub payment_methods: Vec<PosCode>,
    pub tax_codes: Vec<PosCode>,
    pub synced_at: String,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn malformed(what: &str) -> AppError {
    AppError::new(
        ErrorCode::LightspeedApiError,
        format!("Lightspeed answered the {what} list in an unexpected shape"),
    )
}

/// Entries of a list: K-Series `_embedded.<list>`, X-Series `data`.
fn entries<'a>(body: &'a Value, list: &str, what: &str) -> Result<&'a Vec<Value>, AppError> {
    body.pointer(&format!("/_embedded/{list}"))
        .or_else(|| body.get("data"))
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(what))
}

/// `(code, name, rate)` of each entry (pure). Deleted X-Series entries are left out.
fn parse(
    body: &Value,
    list: FinanceList,
) -> Result<Vec<(String, String, Option<String>)>, AppError> {
    let (array, code, name, rate, what) = match list {
        FinanceList::KPaymentMethods { .. } => {
            ("paymentMethodList", "code", "name", None, "payment method")
        }
        FinanceList::KTaxRates { .. } => (
            "taxRateList",
            "code",
            "description",
            Some("rate"),
            "tax rate",
        ),
        FinanceList::XPaymentTypes => ("", "name", "name", None, "payment type"),
        FinanceList::XTaxes => ("", "id", "name", Some("rate"), "tax"),
    };
    let mut out = Vec::new();
    for entry in entries(body, array, what)? {
        if entry.get("deleted_at").is_some_and(|d| !d.is_null()) {
            continue;
        }
        let Some(code) = text(&entry[code]) else {
            return Err(malformed(what));
        };
        let name = text(&entry[name]).unwrap_or_else(|| code.clone());
        out.push((code, name, rate.and_then(|r| text(&entry[r]))));
    }
    Ok(out)
}

fn merge(
    into: &mut BTreeMap<String, PosCode>,
    found: Vec<(String, String, Option<String>)>,
    location: &str,
) {
    for (code, name, rate) in found {
        let entry = into.entry(code.clone()).or_insert_with(|| PosCode {
            code,
            name,
            rate,
            locations: Vec::new(),
        });
        if !entry.locations.iter().any(|l| l == location) {
            entry.locations.push(location.to_string());
        }
    }
}

/// Reads the product's payment methods and tax codes from Lightspeed and records them.
pub async fn sync(scope: SyncScope<'_>) -> Result<PosCodes, AppError> {
    let connection = integration::connection(scope.store, scope.company_id, scope.product).await?;
    let locations: Vec<String> = record::list_all(scope.store, scope.company_id)
        .await?
        .into_iter()
        .filter(|l| l.product == scope.product && !l.missing_upstream)
        .map(|l| l.location_id)
        .collect();
    let mut methods = BTreeMap::new();
    let mut taxes = BTreeMap::new();
    match scope.product {
        PosProduct::KSeries => {
            for location_id in &locations {
                let id = location_id.as_str();
                for (list, into) in [
                    (
                        FinanceList::KPaymentMethods { location_id: id },
                        &mut methods,
                    ),
                    (FinanceList::KTaxRates { location_id: id }, &mut taxes),
                ] {
                    let body = scope.source.finance(&connection, list).await?;
                    merge(into, parse(&body, list)?, id);
                }
            }
        }
        PosProduct::XSeries => {
            for (list, into) in [
                (FinanceList::XPaymentTypes, &mut methods),
                (FinanceList::XTaxes, &mut taxes),
            ] {
                let body = scope.source.finance(&connection, list).await?;
                // Retailer-wide: every outlet offers them.
                for location in &locations {
                    merge(into, parse(&body, list)?, location);
                }
            }
            // What on-account sales still owe is taken by a method of its own, mapped to the
            // receivable.
            let owed = || vec![(ON_ACCOUNT.to_string(), ON_ACCOUNT.to_string(), None)];
            for location in &locations {
                merge(&mut methods, owed(), location);
            }
        }
        // A CSV file names its own payment methods; there is no list to read.
        PosProduct::Csv => {}
    }
    let codes = PosCodes {
        company_id: scope.company_id.to_string(),
        product: scope.product.to_string(),
        payment_methods: methods.into_values().collect(),
        tax_codes: taxes.into_values().collect(),
        synced_at: scope.now.to_string(),
    };
    let item = to_item(&codes, &key(scope.company_id, scope.product))?;
    scope.store.put(item, Condition::None).await?;
    Ok(codes)
}

fn key(company_id: &str, product: PosProduct) -> Key {
    Key::new(mapping::partition(company_id), format!("POS#{product}"))
}

/// Pattern 26: what the last sync of each product found.
pub async fn synced(store: &dyn ItemStore, company_id: &str) -> Result<Vec<PosCodes>, AppError> {
    let mut out = Vec::new();
    for product in [PosProduct::KSeries, PosProduct::XSeries] {
        if let Some(item) = store.get(&key(company_id, product)).await? {
            out.push(from_item(item)?);
        }
    }
    Ok(out)
}

/// The synced codes no mapping covers (for the locations that offer them), by kind (pure).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unmapped {
    pub payment_methods: Vec<String>,
    pub tax_codes: Vec<String>,
}

pub fn unmapped(
    synced: &[PosCodes],
    company: Option<&AccountMapping>,
    overrides: &BTreeMap<String, AccountMapping>,
) -> Unmapped {
    let empty = AccountMapping::default();
    let company = company.unwrap_or(&empty);
    let covered = |code: &PosCode, table: fn(&AccountMapping) -> &BTreeMap<String, String>| {
        code.locations.iter().all(|location| {
            table(company).contains_key(&code.code)
                || overrides
                    .get(location)
                    .is_some_and(|o| table(o).contains_key(&code.code))
        })
    };
    let mut out = Unmapped::default();
    for codes in synced {
        for code in &codes.payment_methods {
            if !covered(code, |m| &m.payment_methods) {
                out.payment_methods.push(code.code.clone());
            }
        }
        for code in &codes.tax_codes {
            if !covered(code, |m| &m.tax_codes) {
                out.tax_codes.push(code.code.clone());
            }
        }
    }
    out.payment_methods.sort();
    out.payment_methods.dedup();
    out.tax_codes.sort();
    out.tax_codes.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kseries_and_xseries_lists_give_the_codes_sales_carry() {
        let k = json!({"_embedded": {"paymentMethodList": [
            {"name": "Cash", "code": "CASH", "accountingReference": "", "pmId": 1},
            {"name": "Card", "code": "CARD", "accountingReference": "", "pmId": 2}]}});
        let found = parse(&k, FinanceList::KPaymentMethods { location_id: "1" }).unwrap();
        assert_eq!(found[1], ("CARD".into(), "Card".into(), None));
        let taxes = json!({"_embedded": {"taxRateList": [
            {"code": "VAT20", "description": "VAT 20%", "rate": "1.2", "taxIncluded": true}]}});
        let found = parse(&taxes, FinanceList::KTaxRates { location_id: "1" }).unwrap();
        assert_eq!(
            found,
            vec![("VAT20".into(), "VAT 20%".into(), Some("1.2".into()))]
        );
        let x = json!({"data": [
            {"id": "t-1", "name": "NZ GST", "rate": 0.15, "deleted_at": null},
            {"id": "t-2", "name": "Old", "rate": 0.1, "deleted_at": "2020-01-01"}]});
        let found = parse(&x, FinanceList::XTaxes).unwrap();
        assert_eq!(
            found,
            vec![("t-1".into(), "NZ GST".into(), Some("0.15".into()))]
        );
        assert_eq!(
            parse(&json!({"oops": 1}), FinanceList::XPaymentTypes)
                .unwrap_err()
                .code,
            ErrorCode::LightspeedApiError
        );
    }

    #[test]
    fn a_code_is_unmapped_until_every_location_offering_it_has_an_account() {
        let codes = PosCodes {
            payment_methods: vec![
                PosCode {
                    code: "CASH".into(),
                    name: "Cash".into(),
                    rate: None,
                    locations: vec!["a".into(), "b".into()],
                },
                PosCode {
                    code: "AMEX".into(),
                    name: "Amex".into(),
                    rate: None,
                    locations: vec!["b".into()],
                },
            ],
            tax_codes: vec![PosCode {
                code: "VAT20".into(),
                name: "VAT".into(),
                rate: None,
                locations: vec!["a".into()],
            }],
            ..Default::default()
        };
        let company = AccountMapping {
            payment_methods: BTreeMap::from([("CASH".into(), "101501".into())]),
            ..Default::default()
        };
        let overrides = BTreeMap::from([(
            "b".to_string(),
            AccountMapping {
                payment_methods: BTreeMap::from([("AMEX".into(), "101401".into())]),
                ..Default::default()
            },
        )]);
        let found = unmapped(std::slice::from_ref(&codes), Some(&company), &overrides);
        assert_eq!(found.payment_methods, Vec::<String>::new());
        assert_eq!(found.tax_codes, vec!["VAT20".to_string()]);
        let found = unmapped(&[codes], Some(&company), &BTreeMap::new());
        assert_eq!(found.payment_methods, vec!["AMEX".to_string()]);
    }
}
