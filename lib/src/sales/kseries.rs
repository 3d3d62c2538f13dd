//! K-Series Financial API V2 sales → canonical sales (pure). Money arrives as decimal
//! strings; refunds may carry negative or positive amounts (undocumented), so their sign is
//! normalised; `payments` may be missing when not included.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::canonical::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};
use super::fetch::{get_page, FetchedDay};
use crate::lightspeed::client::Connection;
use crate::lightspeed::lenient::{List, Obj, Scalar};
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
fn decimal(value: &Scalar, field: &str, sale: &str) -> Result<Decimal, WireError> {
    let problem = |problem: String| WireError {
        sale: sale.to_string(),
        problem,
    };
    match value {
        Scalar::Null => Ok(Decimal::ZERO),
        Scalar::Text(s) => parse_decimal(s.trim()).map_err(|e| problem(format!("`{field}`: {e}"))),
        Scalar::Number(n) => {
            parse_decimal(&n.to_string()).map_err(|e| problem(format!("`{field}`: {e}")))
        }
        other => Err(problem(format!(
            "`{field}` is {}, not a decimal",
            other.describe()
        ))),
    }
}

/// A page of `GET …/sales` (and of `…/sales-daily`), as the API sends it: only the fields
/// read here, each as forgiving of its shape as `Value` indexing (see [`crate::lightspeed::lenient`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WirePage {
    sales: List<Obj<WireSale>>,
    next_page_token: Scalar,
    next_start_of_day_as_iso8601: Scalar,
    data_complete: Scalar,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WireSale {
    account_fisc_id: Scalar,
    account_reference: Scalar,
    receipt_id: Scalar,
    time_closed: Scalar,
    cancelled: Scalar,
    #[serde(rename = "type")]
    kind: Scalar,
    source: Obj<WireSource>,
    sales_lines: List<Obj<WireLine>>,
    payments: List<Obj<WirePayment>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireSource {
    previous_account_id: Scalar,
    initial_account_id: Scalar,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireLine {
    id: Scalar,
    parent_line_id: Scalar,
    sku: Scalar,
    name: Scalar,
    name_override: Scalar,
    quantity: Scalar,
    total_net_amount_without_tax: Scalar,
    total_net_amount_with_tax: Scalar,
    tax_amount: Scalar,
    total_discount_amount: Scalar,
    service_charge: Scalar,
    tax_code: Scalar,
    accounting_group: Obj<WireAccountingGroup>,
    currency: Scalar,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireAccountingGroup {
    name: Scalar,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WirePayment {
    code: Scalar,
    description: Scalar,
    net_amount_with_tax: Scalar,
    tip: Scalar,
    rounding_amount: Scalar,
}

fn kind(sale: &WireSale) -> SaleKind {
    if sale.cancelled.as_bool() == Some(true) {
        return SaleKind::Void;
    }
    match sale.kind.as_str().unwrap_or("SALE") {
        "SALE" => SaleKind::Sale,
        "REFUND" => SaleKind::Refund,
        "VOID" | "CANCEL" => SaleKind::Void,
        other => SaleKind::Other(other.to_string()),
    }
}

/// One V2 sale object (as a JSON tree) → canonical sale.
pub fn to_canonical(sale: &Value) -> Result<CanonicalSale, WireError> {
    // Reading a tree cannot fail: every shape reads (see `lenient`).
    let Obj(wire) = Obj::<WireSale>::deserialize(sale).unwrap_or_default();
    wire_to_canonical(&wire)
}

fn wire_to_canonical(sale: &WireSale) -> Result<CanonicalSale, WireError> {
    let sale_id = sale
        .account_fisc_id
        .text()
        .or_else(|| sale.account_reference.text())
        .ok_or_else(|| WireError {
            sale: "?".into(),
            problem: "no accountFiscId or accountReference".into(),
        })?;
    let closed_at = sale
        .time_closed
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
        let Obj(source) = &sale.source;
        source
            .previous_account_id
            .text()
            .or_else(|| source.initial_account_id.text())
            .filter(|id| *id != sale_id)
    } else {
        None
    };
    let mut lines = Vec::with_capacity(sale.sales_lines.iter().len());
    for Obj(line) in sale.sales_lines.iter() {
        let field = |value: &Scalar, name: &str| decimal(value, name, &sale_id);
        let name = line
            .name_override
            .compact_text()
            .or_else(|| line.name.compact_text())
            .unwrap_or_default();
        lines.push(CanonicalLine {
            line_id: line.id.compact_text().unwrap_or_default(),
            parent_line_id: line.parent_line_id.compact_text(),
            // The Financial API gives no item id on lines: matching uses SKU, then name.
            item: LineItemRef {
                item_id: None,
                sku: line.sku.compact_text(),
                name,
            },
            quantity: Quantity(signed(field(&line.quantity, "quantity")?)),
            net: Money(signed(field(
                &line.total_net_amount_without_tax,
                "totalNetAmountWithoutTax",
            )?)),
            gross: Money(signed(field(
                &line.total_net_amount_with_tax,
                "totalNetAmountWithTax",
            )?)),
            tax: Money(signed(field(&line.tax_amount, "taxAmount")?)),
            discount: Money(signed(field(
                &line.total_discount_amount,
                "totalDiscountAmount",
            )?)),
            service_charge: Money(signed(field(&line.service_charge, "serviceCharge")?)),
            tax_code: line.tax_code.compact_text(),
            accounting_group: line.accounting_group.0.name.compact_text(),
        });
    }
    let mut payments = Vec::new();
    for Obj(payment) in sale.payments.iter() {
        let field = |value: &Scalar, name: &str| decimal(value, name, &sale_id);
        payments.push(CanonicalPayment {
            method: payment.code.text().unwrap_or_else(|| "UNKNOWN".into()),
            description: payment.description.text(),
            amount: Money(signed(field(
                &payment.net_amount_with_tax,
                "netAmountWithTax",
            )?)),
            tip: Money(signed(field(&payment.tip, "tip")?)),
            rounding: Money(field(&payment.rounding_amount, "roundingAmount")?),
            paid_at: None,
        });
    }
    Ok(CanonicalSale {
        sale_id,
        receipt: sale.receipt_id.text(),
        kind,
        closed_at,
        original_sale_id,
        currency: sale
            .sales_lines
            .iter()
            .next()
            .and_then(|Obj(line)| line.currency.as_str())
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
        let Obj(page) =
            get_page::<Obj<WirePage>>(client, connection, &path, &query, &mut day.requests).await?;
        day.pages += 1;
        let Some(sales) = page.sales.0 else {
            return Err(LightspeedError::Retryable {
                status: None,
                retry_after: None,
                message: format!("GET {path}: the page has no `sales` array"),
            });
        };
        for Obj(sale) in &sales {
            let canonical = wire_to_canonical(sale).map_err(|err| LightspeedError::Api {
                status: None,
                message: err.to_string(),
            })?;
            // The API filters on the window already; this keeps a loose server honest.
            if window.contains(canonical.closed_at) {
                day.sales.push(canonical);
            }
        }
        match page.next_page_token.as_str().filter(|t| !t.is_empty()) {
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
    let Obj(page) =
        get_page::<Obj<WirePage>>(client, connection, &path, &query, &mut day.requests).await?;
    day.pages = 1;
    let Some(sales) = page.sales.0 else {
        return Err(LightspeedError::Retryable {
            status: None,
            retry_after: None,
            message: format!("GET {path}: the answer has no `sales` array"),
        });
    };
    for Obj(sale) in &sales {
        day.sales
            .push(wire_to_canonical(sale).map_err(|err| LightspeedError::Api {
                status: None,
                message: err.to_string(),
            })?);
    }
    let next_start = page
        .next_start_of_day_as_iso8601
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(DailySales {
        day,
        next_start,
        complete: page.data_complete.as_bool() == Some(true),
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
