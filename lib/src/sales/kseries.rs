//! K-Series Financial API V2 sales → canonical sales (pure). Money arrives as decimal
//! strings; refunds may carry negative or positive amounts (undocumented), so their sign is
//! normalised; `payments` may be missing when not included.

use crate::lightspeed::json::text;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::canonical::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};
use super::fetch::{get_page, FetchedDay};
use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};
use crate::location::business_day::Window;
use crate::mapping::matching::LineItemRef;
use crate::money::{parse_decimal, Money, Quantity};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("K-Series sale {sale}: {problem}")]
pub struct WireError {
    pub sale: String,
    pub problem: String,
}

/// A decimal string (or number) field; absent or null is zero.
fn decimal(value: &Value, field: &str, sale: &str) -> Result<Decimal, WireError> {
    match value {
        Value::Null => Ok(Decimal::ZERO),
        Value::String(s) => parse_decimal(s.trim()).map_err(|e| WireError {
            sale: sale.to_string(),
            problem: format!("`{field}`: {e}"),
        }),
        Value::Number(n) => parse_decimal(&n.to_string()).map_err(|e| WireError {
            sale: sale.to_string(),
            problem: format!("`{field}`: {e}"),
        }),
        other => Err(WireError {
            sale: sale.to_string(),
            problem: format!("`{field}` is {other}, not a decimal"),
        }),
    }
}

fn kind(sale: &Value) -> SaleKind {
    if sale["cancelled"].as_bool() == Some(true) {
        return SaleKind::Void;
    }
    match sale["type"].as_str().unwrap_or("SALE") {
        "SALE" => SaleKind::Sale,
        "REFUND" => SaleKind::Refund,
        "VOID" | "CANCEL" => SaleKind::Void,
        other => SaleKind::Other(other.to_string()),
    }
}

pub fn to_canonical(sale: &Value) -> Result<CanonicalSale, WireError> {
    let sale_id = text(&sale["accountFiscId"])
        .or_else(|| text(&sale["accountReference"]))
        .ok_or_else(|| WireError {
            sale: "?".into(),
            problem: "no accountFiscId or accountReference".into(),
        })?;
    let closed_at = sale["timeClosed"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| WireError {
            sale: sale_id.clone(),
            problem: "`timeClosed` is missing or not ISO-8601".into(),
        })?;
    let kind = kind(sale);
    // Refunds are negative in the canonical model, whichever sign the wire used.
    let signed = |d: Decimal| {
        if kind == SaleKind::Refund {
            -d.abs()
        } else {
            d
        }
    };
    let original_sale_id = if kind == SaleKind::Refund {
        text(&sale["source"]["previousAccountId"])
            .or_else(|| text(&sale["source"]["initialAccountId"]))
            .filter(|id| *id != sale_id)
    } else {
        None
    };
    let mut lines = Vec::new();
    for line in sale["salesLines"].as_array().into_iter().flatten() {
        let field = |name: &str| decimal(&line[name], name, &sale_id);
        let name = text(&line["nameOverride"])
            .or_else(|| text(&line["name"]))
            .unwrap_or_default();
        lines.push(CanonicalLine {
            line_id: text(&line["id"]).unwrap_or_default(),
            parent_line_id: text(&line["parentLineId"]),
            // The Financial API gives no item id on lines: matching uses SKU, then name.
            item: LineItemRef {
                item_id: None,
                sku: text(&line["sku"]),
                name,
            },
            quantity: Quantity(signed(field("quantity")?)),
            net: Money(signed(field("totalNetAmountWithoutTax")?)),
            gross: Money(signed(field("totalNetAmountWithTax")?)),
            tax: Money(signed(field("taxAmount")?)),
            discount: Money(signed(field("totalDiscountAmount")?)),
            service_charge: Money(signed(field("serviceCharge")?)),
            tax_code: text(&line["taxCode"]),
            accounting_group: text(&line["accountingGroup"]["name"]),
        });
    }
    let mut payments = Vec::new();
    for payment in sale["payments"].as_array().into_iter().flatten() {
        let field = |name: &str| decimal(&payment[name], name, &sale_id);
        payments.push(CanonicalPayment {
            method: text(&payment["code"]).unwrap_or_else(|| "UNKNOWN".into()),
            description: text(&payment["description"]),
            amount: Money(signed(field("netAmountWithTax")?)),
            tip: Money(signed(field("tip")?)),
            rounding: Money(field("roundingAmount")?),
            paid_at: None,
        });
    }
    Ok(CanonicalSale {
        sale_id,
        receipt: text(&sale["receiptId"]),
        kind,
        closed_at,
        original_sale_id,
        currency: sale["salesLines"][0]["currency"]
            .as_str()
            .map(str::to_string),
        lines,
        payments,
        register_id: None,
    })
}

/// K-Series allows at most 100 sales per page; fewer pages means fewer requests.
pub const PAGE_SIZE: u32 = 100;

/// Every sale of a business location closed in `window` (`from` inclusive, `to`
/// exclusive, on `timeClosed`), all pages, payments included.
pub async fn fetch_day(
    client: &LightspeedClient,
    connection: &Connection,
    business_location_id: &str,
    window: &Window,
) -> Result<FetchedDay, LightspeedError> {
    let path = format!("/f/v2/business-location/{business_location_id}/sales");
    let mut day = FetchedDay::default();
    let mut next: Option<String> = None;
    loop {
        let mut query = vec![
            (
                "from",
                window.start.to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            ("to", window.end.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ("pageSize", PAGE_SIZE.to_string()),
            ("include", "payments".to_string()),
        ];
        if let Some(token) = &next {
            query.push(("nextPageToken", token.clone()));
        }
        let body = get_page(client, connection, &path, &query, &mut day.requests).await?;
        day.pages += 1;
        let sales = body["sales"]
            .as_array()
            .ok_or_else(|| LightspeedError::Retryable {
                status: None,
                retry_after: None,
                message: format!("GET {path}: the page has no `sales` array"),
            })?;
        for sale in sales {
            let canonical = to_canonical(sale).map_err(|err| LightspeedError::Api {
                status: None,
                message: err.to_string(),
            })?;
            // The API filters on the window already; this keeps a loose server honest.
            if window.contains(canonical.closed_at) {
                day.sales.push(canonical);
            }
        }
        match body["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(token) if !sales.is_empty() => next = Some(token.to_string()),
            _ => return Ok(day),
        }
    }
}

/// Lightspeed's own view of one business day (`sales-daily`): its sales, where Lightspeed
/// says the next day starts (its day cutoff), and whether the day is complete.
pub struct DailySales {
    pub day: FetchedDay,
    pub next_start: Option<DateTime<Utc>>,
    pub complete: bool,
}

/// `GET /f/v2/business-location/{id}/sales-daily?date=` (one request, reference §1.9): what
/// reconciliation compares the cached copy with, read apart from the transfer's paging.
pub async fn fetch_daily(
    client: &LightspeedClient,
    connection: &Connection,
    business_location_id: &str,
    date: chrono::NaiveDate,
) -> Result<DailySales, LightspeedError> {
    let path = format!("/f/v2/business-location/{business_location_id}/sales-daily");
    let query = [
        ("date", date.to_string()),
        ("include", "payments".to_string()),
    ];
    let mut day = FetchedDay::default();
    let body = get_page(client, connection, &path, &query, &mut day.requests).await?;
    day.pages = 1;
    let sales = body["sales"]
        .as_array()
        .ok_or_else(|| LightspeedError::Retryable {
            status: None,
            retry_after: None,
            message: format!("GET {path}: the answer has no `sales` array"),
        })?;
    for sale in sales {
        day.sales
            .push(to_canonical(sale).map_err(|err| LightspeedError::Api {
                status: None,
                message: err.to_string(),
            })?);
    }
    let next_start = body["nextStartOfDayAsIso8601"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(DailySales {
        day,
        next_start,
        complete: body["dataComplete"].as_bool() == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales::canonical::fixtures::assert_refund_of_one;
    use serde_json::json;

    fn refund(sign: &str) -> Value {
        json!({
            "accountFiscId": "A2", "type": "REFUND", "cancelled": false, "timeClosed": "2026-03-01T20:00:00.000Z",
            "source": {"initialAccountId": "A1", "previousAccountId": "A1"},
            "salesLines": [{"id": "S1", "sku": "MN-001", "name": "Burger", "quantity": format!("{sign}1.000"),
                "totalNetAmountWithTax": format!("{sign}14.50"), "totalNetAmountWithoutTax": format!("{sign}12.08"),
                "taxAmount": format!("{sign}2.4167"), "totalDiscountAmount": "0.00", "serviceCharge": "0.00", "taxCode": "VAT20"}],
            "payments": [{"code": "CARD", "netAmountWithTax": format!("{sign}14.50"), "tip": "0.00", "roundingAmount": "0.00"}]
        })
    }

    #[test]
    fn refunds_are_negative_and_linked_whatever_the_wire_sign() {
        for sign in ["", "-"] {
            let sale = to_canonical(&refund(sign)).unwrap();
            assert_refund_of_one(&sale, "A1", "-14.50");
        }
    }

    #[test]
    fn cancelled_accounts_are_voids_and_bad_money_is_reported() {
        let mut sale = refund("");
        sale["type"] = json!("SALE");
        sale["cancelled"] = json!(true);
        assert_eq!(to_canonical(&sale).unwrap().kind, SaleKind::Void);
        sale["salesLines"][0]["taxAmount"] = json!("1e3");
        assert!(to_canonical(&sale)
            .unwrap_err()
            .problem
            .contains("taxAmount"));
        assert!(to_canonical(&json!({"type": "SALE"})).is_err());
    }
}
