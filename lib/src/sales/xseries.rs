//! X-Series sales → canonical sales (pure), and the paging of the sales feed
//! (`xseries_mirror` reads it).
//!
//! Two wire shapes are read: API 2.0 sales (`line_items`, `payments`, `status` + `state`, what
//! `/api/2.0/sales` serves) and the API 1.0 `register_sale` (`register_sale_products`,
//! `register_sale_payments`, legacy status only, zone-less timestamps; what `sale.update`
//! webhooks deliver). Money arrives as JSON numbers and is read through its exact text, never
//! as a float. Completed (`closed`) sales count, dated when they were paid in full; an
//! on-account sale counts from when it was made, paid or not, because its goods left then
//! (reference §2.2), and what is still owed is taken by the [`ON_ACCOUNT`] method, which
//! finance maps to its receivable. A layby or other pending sale is `Other` until it closes,
//! and a voided sale is a `Void`.

use crate::lightspeed::json::{compact_text, text};
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::canonical::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};
use crate::location::business_day::Window;
use crate::mapping::matching::LineItemRef;
use crate::money::{parse_decimal, Money, Quantity};

/// The sales change feed: paged by the global `version`, no date filter (reference §2.2).
pub const SALES_PATH: &str = "/api/2.0/sales";
/// The payment method that takes what an on-account sale still owes (mapped to the
/// receivable in the account mapping).
pub const ON_ACCOUNT: &str = "On account";
/// The documented 0.x maximum; 2.0 accepts more, but nothing documents how much.
pub const PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("X-Series sale {sale}: {problem}")]
pub struct WireError {
    pub sale: String,
    pub problem: String,
}

/// A JSON number (or decimal string) read exactly; absent or null is `None`. Numbers go
/// through their shortest round-trip text, which is the text Lightspeed sent for values of up
/// to 15 significant digits; very small ones print as `1e-5`, hence the scientific fallback.
fn decimal(value: &Value, field: &str, sale: &str) -> Result<Option<Decimal>, WireError> {
    let raw = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(WireError {
                sale: sale.to_string(),
                problem: format!("`{field}` is {other}, not a number"),
            })
        }
    };
    parse_decimal(&raw)
        .or_else(|e| match value {
            Value::Number(_) => Decimal::from_scientific(&raw).map_err(|_| e),
            _ => Err(e),
        })
        .map(Some)
        .map_err(|e| WireError {
            sale: sale.to_string(),
            problem: format!("`{field}`: {e}"),
        })
}

/// The first of `fields` that is present.
fn first_decimal(obj: &Value, fields: &[&str], sale: &str) -> Result<Option<Decimal>, WireError> {
    for field in fields {
        if let Some(d) = decimal(&obj[*field], field, sale)? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// RFC 3339 (`2016-09-19T20:28:03+00:00`, API 2.0) or the legacy zone-less
/// `2013-11-14 20:41:01`, which Lightspeed writes in UTC.
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let raw = value.as_str()?.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| t.and_utc())
}

/// `state` when the payload has it (2.0), else derived from the legacy `status`
/// (reference §2.2 table: every `*CLOSED` is closed).
fn state(sale: &Value, status: &str) -> String {
    if let Some(state) = sale["state"].as_str().filter(|s| !s.is_empty()) {
        return state.to_ascii_lowercase();
    }
    match status {
        "VOIDED" => "voided",
        "SAVED" => "parked",
        s if s == "CLOSED" || s.ends_with("_CLOSED") => "closed",
        _ => "pending",
    }
    .to_string()
}

fn lines_of(sale: &Value) -> &[Value] {
    sale["line_items"]
        .as_array()
        .or_else(|| sale["register_sale_products"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Payments still standing (the date-versioned contract marks removed ones `deleted_at`).
fn payments_of(sale: &Value) -> impl Iterator<Item = &Value> {
    sale["payments"]
        .as_array()
        .or_else(|| sale["register_sale_payments"].as_array())
        .into_iter()
        .flatten()
        .filter(|p| p["deleted_at"].is_null())
}

/// When a payment was taken (2.0 `payment_date`, 1.0 `date`).
fn payment_time(payment: &Value) -> Option<DateTime<Utc>> {
    timestamp(&payment["payment_date"]).or_else(|| timestamp(&payment["date"]))
}

fn is_return(line: &Value) -> Option<bool> {
    line["is_return"].as_bool()
}

/// An on-account sale (legacy `ONACCOUNT…` status or the 2.0 `onaccount` attribute), open
/// or closed.
fn on_account(sale: &Value, status: &str) -> bool {
    status.starts_with("ONACCOUNT")
        || sale["attributes"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("onaccount")))
}

fn kind(sale: &Value, status: &str) -> SaleKind {
    let state = state(sale, status);
    if state == "voided" || !sale["deleted_at"].is_null() {
        return SaleKind::Void;
    }
    // Goods on account have left the shelf even while unpaid.
    if state != "closed" && !(state == "pending" && on_account(sale, status)) {
        return SaleKind::Other(if status.is_empty() {
            state
        } else {
            status.to_string()
        });
    }
    let lines = lines_of(sale);
    let all_returns = !lines.is_empty() && lines.iter().all(|l| is_return(l) == Some(true));
    if text(&sale["return_for"]).is_some() || all_returns {
        SaleKind::Refund
    } else {
        SaleKind::Sale
    }
}

/// When the sale's stock left: for an on-account sale when it was made (`sale_date`); for
/// another closed sale its last payment (a layby closes with its final payment, days after
/// `sale_date`; `updated_at` moves on any later edit); otherwise, and for unpaid closed
/// sales, when it last changed.
fn completed_at(sale: &Value, kind: &SaleKind, on_account: bool) -> Option<DateTime<Utc>> {
    if on_account && matches!(kind, SaleKind::Sale | SaleKind::Refund) {
        if let Some(made) = timestamp(&sale["sale_date"]) {
            return Some(made);
        }
    }
    let last_payment = || payments_of(sale).filter_map(payment_time).max();
    matches!(kind, SaleKind::Sale | SaleKind::Refund)
        .then(last_payment)
        .flatten()
        .or_else(|| timestamp(&sale["updated_at"]))
        .or_else(|| timestamp(&sale["sale_date"]))
}

/// A refund's amounts are negative in canonical form whatever the wire's sign.
fn negative(d: Decimal) -> Decimal {
    -d.abs()
}

/// One sale line in canonical form; every figure checked (they come from outside).
fn canonical_line(
    line: &Value,
    sale_id: &str,
    kind: &SaleKind,
) -> Result<CanonicalLine, WireError> {
    let get = |fields: &[&str]| first_decimal(line, fields, sale_id);
    let quantity = get(&["quantity"])?.unwrap_or(Decimal::ZERO);
    let out_of_range = |what: &str| WireError {
        sale: sale_id.to_string(),
        problem: format!("{what} is beyond the exact decimal range"),
    };
    // Line totals when sent, else unit × quantity.
    let total = |totals: &[&str], unit: &str| -> Result<Decimal, WireError> {
        match get(totals)? {
            Some(t) => Ok(t),
            None => get(&[unit])?
                .unwrap_or(Decimal::ZERO)
                .checked_mul(quantity)
                .ok_or_else(|| out_of_range(&format!("`{unit}` × `quantity`"))),
        }
    };
    let net = total(&["total_price", "price_total"], "price")?;
    let tax = total(&["total_tax", "tax_total"], "tax")?;
    let discount = total(&["total_discount", "discount_total"], "discount")?;
    let gross = net
        .checked_add(tax)
        .ok_or_else(|| out_of_range("net + tax"))?;
    // Return lines are negative in canonical form; without the flag (1.0 payloads) the
    // refund as a whole decides.
    let flip = is_return(line).unwrap_or(*kind == SaleKind::Refund);
    let sign = |d: Decimal| if flip { negative(d) } else { d };
    Ok(CanonicalLine {
        line_id: compact_text(&line["id"]).unwrap_or_default(),
        parent_line_id: None,
        // 2.0 lines carry only `product_id` (the synced item id matching uses first);
        // 1.0 lines also carry `sku` and `name`.
        item: LineItemRef {
            item_id: compact_text(&line["product_id"]),
            sku: compact_text(&line["sku"]),
            name: compact_text(&line["name"]).unwrap_or_default(),
        },
        quantity: Quantity(sign(quantity)),
        net: Money(sign(net)),
        gross: Money(sign(gross)),
        tax: Money(sign(tax)),
        discount: Money(sign(discount)),
        service_charge: Money::ZERO,
        tax_code: compact_text(&line["tax_id"]),
        accounting_group: None,
    })
}

fn canonical_payment(
    payment: &Value,
    sale_id: &str,
    kind: &SaleKind,
) -> Result<CanonicalPayment, WireError> {
    let amount = decimal(&payment["amount"], "amount", sale_id)?.unwrap_or(Decimal::ZERO);
    Ok(CanonicalPayment {
        method: text(&payment["type"]["name"])
            .or_else(|| text(&payment["name"]))
            .or_else(|| text(&payment["label"]))
            .unwrap_or_else(|| "UNKNOWN".into()),
        description: text(&payment["retailer_payment_type_id"])
            .or_else(|| text(&payment["type"]["config_id"])),
        amount: Money(if *kind == SaleKind::Refund {
            negative(amount)
        } else {
            amount
        }),
        tip: Money::ZERO,
        rounding: Money::ZERO,
        paid_at: payment_time(payment),
    })
}

/// What an on-account sale still owes (its lines' gross less its payments), as a payment
/// by [`ON_ACCOUNT`]; nothing once it is paid.
fn still_owed(
    sale_id: &str,
    lines: &[CanonicalLine],
    payments: &[CanonicalPayment],
) -> Result<Option<CanonicalPayment>, WireError> {
    let out_of_range = || WireError {
        sale: sale_id.to_string(),
        problem: "the sale's total is beyond the exact decimal range".into(),
    };
    let gross = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.gross.0))
        .ok_or_else(out_of_range)?;
    let paid = payments
        .iter()
        .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(p.amount.0))
        .ok_or_else(out_of_range)?;
    // Lines carry up to 5 decimals and payments cents: what is owed is counted in cents, so
    // a sale paid in full owes nothing.
    let owed = gross
        .checked_sub(paid)
        .ok_or_else(out_of_range)?
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Ok((owed > Decimal::ZERO).then(|| CanonicalPayment {
        method: ON_ACCOUNT.into(),
        description: None,
        amount: Money(owed),
        tip: Money::ZERO,
        rounding: Money::ZERO,
        paid_at: None,
    }))
}

/// One sale (2.0 or 1.0 shape) in canonical form; refunds negative whatever the wire sign.
pub fn to_canonical(sale: &Value) -> Result<CanonicalSale, WireError> {
    let sale_id = text(&sale["id"]).ok_or_else(|| WireError {
        sale: "?".into(),
        problem: "no `id`".into(),
    })?;
    let status = sale["status"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let kind = kind(sale, &status);
    let on_account = on_account(sale, &status);
    let closed_at = completed_at(sale, &kind, on_account).ok_or_else(|| WireError {
        sale: sale_id.clone(),
        problem: "no parsable `payment_date`, `updated_at` or `sale_date`".into(),
    })?;
    let lines = lines_of(sale)
        .iter()
        .map(|line| canonical_line(line, &sale_id, &kind))
        .collect::<Result<Vec<_>, _>>()?;
    let mut payments = payments_of(sale)
        .map(|payment| canonical_payment(payment, &sale_id, &kind))
        .collect::<Result<Vec<_>, _>>()?;
    if on_account && kind == SaleKind::Sale {
        payments.extend(still_owed(&sale_id, &lines, &payments)?);
    }
    Ok(CanonicalSale {
        original_sale_id: if kind == SaleKind::Refund {
            text(&sale["return_for"]).filter(|id| *id != sale_id)
        } else {
            None
        },
        receipt: text(&sale["receipt_number"]).or_else(|| text(&sale["invoice_number"])),
        currency: text(&sale["currency"]),
        sale_id,
        kind,
        closed_at,
        lines,
        payments,
        register_id: text(&sale["register_id"]),
    })
}

/// Every instant at which a sale may have stood in an outlet's days: when it was made and
/// when each payment was taken (its stock left at one of them, its later payments settled
/// at the others). What a void must revisit, whatever the mirror holds of the sale by then.
pub fn standing_times(sale: &Value) -> Vec<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = std::iter::once(timestamp(&sale["sale_date"]))
        .chain(payments_of(sale).map(payment_time))
        .flatten()
        .collect();
    times.sort();
    times.dedup();
    times
}

/// The query for the page after `after`.
pub fn page_query(after: u64) -> Vec<(&'static str, String)> {
    vec![
        ("after", after.to_string()),
        ("page_size", PAGE_SIZE.to_string()),
    ]
}

/// The cursor for the next page, or `None` when this page ends the feed (empty `data`, or a
/// `version.max` that does not move forward, which would loop).
pub fn next_after(page: &Value, after: u64) -> Option<u64> {
    let has_data = page["data"].as_array().is_some_and(|d| !d.is_empty());
    page["version"]["max"]
        .as_u64()
        .filter(|max| has_data && *max > after)
}

/// The sales of one page that belong to `outlet_id` and were completed in `window` (the feed
/// can filter by neither).
pub fn day_sales(
    page: &Value,
    outlet_id: &str,
    window: &Window,
) -> Result<Vec<CanonicalSale>, WireError> {
    let mut out = Vec::new();
    for sale in page["data"].as_array().into_iter().flatten() {
        if sale["outlet_id"].as_str() != Some(outlet_id) {
            continue;
        }
        let sale = to_canonical(sale)?;
        if window.contains(sale.closed_at) {
            out.push(sale);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales::canonical::fixtures::assert_refund_of_one;
    use serde_json::json;

    fn closed_sale() -> Value {
        json!({
            "id": "s1", "outlet_id": "o1", "invoice_number": "1570", "receipt_number": "1570",
            "status": "CLOSED", "state": "closed", "return_for": null,
            "sale_date": "2026-02-20T01:00:00+00:00", "updated_at": "2026-02-20T01:00:00+00:00",
            "line_items": [
                {"id": "l1", "product_id": "p1", "tax_id": "gst", "quantity": 2, "is_return": false,
                 "price": 15.65217, "total_price": 31.30434, "tax": 2.34783, "total_tax": 4.69566, "total_discount": 0},
                {"id": "l2", "product_id": "p2", "tax_id": "gst", "quantity": 1, "is_return": false,
                 "price": 0.00001, "total_price": 0.00001, "tax": 0, "total_tax": 0}
            ],
            "payments": [{"id": "y1", "name": "Cash", "amount": 36, "payment_date": "2026-02-20T01:00:00+00:00",
                          "type": {"config_id": "pt1", "name": "Cash"}, "deleted_at": null}]
        })
    }

    /// `closed_sale` made at 01:00 on the 20th, as an on-account sale at `status`, with the
    /// payments given (`(amount, date)`).
    fn on_account_sale(status: &str, payments: &[(i64, &str)]) -> Value {
        let mut sale = closed_sale();
        sale["status"] = json!(status);
        sale["state"] = json!(if status.ends_with("CLOSED") {
            "closed"
        } else {
            "pending"
        });
        sale["attributes"] = json!(["onaccount"]);
        sale["updated_at"] = json!("2026-02-27T09:00:00+00:00");
        sale["payments"] = json!(payments
            .iter()
            .map(
                |(amount, date)| json!({"id": date, "amount": amount, "payment_date": date,
                "type": {"config_id": "pt1", "name": "Cash"}, "deleted_at": null})
            )
            .collect::<Vec<_>>());
        sale
    }

    #[test]
    fn a_sale_stood_when_it_was_made_and_at_each_payment() {
        let sale = on_account_sale(
            "VOIDED",
            &[
                (10, "2026-02-22T10:00:00+00:00"),
                (5, "2026-02-25T08:00:00+00:00"),
                (1, "2026-02-22T10:00:00+00:00"),
            ],
        );
        let times: Vec<String> = standing_times(&sale)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect();
        assert_eq!(
            times,
            [
                "2026-02-20T01:00:00+00:00",
                "2026-02-22T10:00:00+00:00",
                "2026-02-25T08:00:00+00:00"
            ]
        );
        // Nothing parsable: nothing to revisit.
        assert!(standing_times(&json!({"id": "s1", "sale_date": "soon"})).is_empty());
    }

    #[test]
    fn on_account_sales_consume_when_made_and_owe_through_the_receivable() {
        // Open, nothing paid: the goods left on the 20th; the whole gross is owed.
        let open = to_canonical(&on_account_sale("ONACCOUNT", &[])).unwrap();
        assert_eq!(open.kind, SaleKind::Sale);
        assert_eq!(open.closed_at.to_rfc3339(), "2026-02-20T01:00:00+00:00");
        assert_eq!(open.payments.len(), 1);
        assert_eq!(open.payments[0].method, ON_ACCOUNT);
        // 31.30434 + 4.69566 + 0.00001 = 36.00001, owed in cents.
        assert_eq!(open.payments[0].amount, Money("36.00".parse().unwrap()));

        // Part paid: the rest is owed.
        let part = to_canonical(&on_account_sale(
            "ONACCOUNT",
            &[(10, "2026-02-22T10:00:00+00:00")],
        ))
        .unwrap();
        let owed: Vec<_> = part
            .payments
            .iter()
            .map(|p| (p.method.as_str(), p.amount))
            .collect();
        assert_eq!(
            owed,
            [
                ("Cash", Money("10".parse().unwrap())),
                (ON_ACCOUNT, Money("26.00".parse().unwrap()))
            ]
        );
        // Each payment says when it was made; what is owed has not been paid.
        assert_eq!(
            part.payments[0].paid_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-02-22T10:00:00+00:00")
        );
        assert_eq!(part.payments[1].paid_at, None);
        assert_eq!(
            part.later_payment_times(),
            ["2026-02-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap()]
        );

        // Closed a week later: still dated when made, nothing owed.
        let closed = to_canonical(&on_account_sale(
            "ONACCOUNT_CLOSED",
            &[(36, "2026-02-27T08:00:00+00:00")],
        ))
        .unwrap();
        assert_eq!(closed.kind, SaleKind::Sale);
        assert_eq!(closed.closed_at.to_rfc3339(), "2026-02-20T01:00:00+00:00");
        assert!(closed.payments.iter().all(|p| p.method != ON_ACCOUNT));

        // The 2.0 attribute alone (no legacy status) says the same.
        let mut attribute_only = on_account_sale("ONACCOUNT", &[]);
        attribute_only["status"] = json!("");
        assert_eq!(to_canonical(&attribute_only).unwrap(), open);
    }

    #[test]
    fn closed_sale_maps_exactly_from_json_numbers() {
        let sale = to_canonical(&closed_sale()).unwrap();
        assert_eq!(sale.kind, SaleKind::Sale);
        assert_eq!(sale.receipt.as_deref(), Some("1570"));
        assert_eq!(sale.closed_at.to_rfc3339(), "2026-02-20T01:00:00+00:00");
        let line = &sale.lines[0];
        assert_eq!(line.item.item_id.as_deref(), Some("p1"));
        assert_eq!(line.quantity, "2".parse().unwrap());
        assert_eq!(line.net, "31.30434".parse().unwrap());
        assert_eq!(line.tax, "4.69566".parse().unwrap());
        assert_eq!(line.gross, "36".parse().unwrap());
        assert_eq!(sale.lines[1].net, "0.00001".parse().unwrap());
        assert_eq!(sale.payments[0].method, "Cash");
        assert_eq!(sale.payments[0].amount, "36".parse().unwrap());
    }

    #[test]
    fn returns_are_negative_and_linked_whatever_the_wire_sign() {
        for sign in [1, -1] {
            let mut sale = closed_sale();
            sale["id"] = json!("r1");
            sale["return_for"] = json!("s1");
            sale["line_items"] = json!([{"id": "l9", "product_id": "p1", "quantity": sign,
                "is_return": true, "price": 15.65217, "total_price": sign * 15, "total_tax": sign * 2}]);
            sale["payments"][0]["amount"] = json!(sign * 17);
            let sale = to_canonical(&sale).unwrap();
            assert_refund_of_one(&sale, "s1", "-17");
        }
    }

    #[test]
    fn voids_pending_sales_and_bad_money() {
        let mut sale = closed_sale();
        sale["status"] = json!("VOIDED");
        sale["state"] = json!("voided");
        sale["payments"] = json!([]);
        sale["updated_at"] = json!("2026-02-21T03:00:00+00:00");
        let void = to_canonical(&sale).unwrap();
        assert_eq!(void.kind, SaleKind::Void);
        assert_eq!(void.closed_at.to_rfc3339(), "2026-02-21T03:00:00+00:00");
        sale["status"] = json!("LAYBY");
        sale["state"] = json!("pending");
        assert_eq!(
            to_canonical(&sale).unwrap().kind,
            SaleKind::Other("LAYBY".into())
        );
        sale["line_items"][0]["total_tax"] = json!("lots");
        assert!(to_canonical(&sale)
            .unwrap_err()
            .problem
            .contains("total_tax"));
        assert!(to_canonical(&json!({"status": "CLOSED"})).is_err());
    }

    #[test]
    fn a_layby_completes_with_its_last_payment() {
        let mut sale = closed_sale();
        sale["status"] = json!("LAYBY_CLOSED");
        sale["payments"] = json!([
            {"name": "Cash", "amount": 10.8, "payment_date": "2026-02-20T01:00:00+00:00"},
            {"name": "Cash", "amount": 25.2, "payment_date": "2026-02-27T04:00:00+00:00"},
            {"name": "Cash", "amount": 99, "payment_date": "2026-03-01T04:00:00+00:00", "deleted_at": "2026-03-01T05:00:00+00:00"}
        ]);
        let sale = to_canonical(&sale).unwrap();
        assert_eq!(sale.kind, SaleKind::Sale);
        assert_eq!(sale.closed_at.to_rfc3339(), "2026-02-27T04:00:00+00:00");
        assert_eq!(sale.payments.len(), 2);
    }

    #[test]
    fn legacy_register_sale_payloads_map_too() {
        let sale = json!({
            "id": "r2", "status": "CLOSED", "invoice_number": "45", "return_for": "s1",
            "sale_date": "2026-02-20 01:00:00", "updated_at": "2026-02-20 01:00:00",
            "register_sale_products": [{"id": "l1", "product_id": "p1", "sku": "10001", "name": "Mug",
                "quantity": -1, "price": 20, "tax": 3, "price_total": -20, "tax_total": -3, "tax_id": "gst"}],
            "register_sale_payments": [{"name": "Cash", "amount": -23, "payment_date": "2026-02-20 01:02:03"}]
        });
        let sale = to_canonical(&sale).unwrap();
        assert_eq!(sale.kind, SaleKind::Refund);
        assert_eq!(sale.receipt.as_deref(), Some("45"));
        assert_eq!(sale.closed_at.to_rfc3339(), "2026-02-20T01:02:03+00:00");
        assert_eq!(sale.lines[0].item.sku.as_deref(), Some("10001"));
        assert_eq!(sale.lines[0].gross, "-23".parse().unwrap());
        assert_eq!(sale.payments[0].amount, "-23".parse().unwrap());
    }

    #[test]
    fn paging_stops_on_an_empty_or_stuck_page_and_filters_outlet_and_window() {
        let page = json!({"data": [closed_sale()], "version": {"min": 5, "max": 9}});
        assert_eq!(next_after(&page, 0), Some(9));
        assert_eq!(next_after(&page, 9), None);
        assert_eq!(
            next_after(
                &json!({"data": [], "version": {"min": null, "max": null}}),
                9
            ),
            None
        );
        let window = |start: &str, end: &str| Window {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        };
        let day = window("2026-02-19T11:00:00Z", "2026-02-20T11:00:00Z");
        assert_eq!(day_sales(&page, "o1", &day).unwrap().len(), 1);
        assert!(day_sales(&page, "o2", &day).unwrap().is_empty());
        let next = window("2026-02-20T11:00:00Z", "2026-02-21T11:00:00Z");
        assert!(day_sales(&page, "o1", &next).unwrap().is_empty());
    }
}
