//! K-Series Financial V2 sale objects exactly as documented: money as decimal strings with fixed
//! scales, ids as strings, and the typing quirks (payment `deviceId` a string, line/sale
//! `deviceId` an integer, `nbCovers` a double).

use crate::config::RefundSign;
use crate::data::{KLine, KLocation, KPayment, KSale, SaleType};
use crate::money::fixed;
use crate::respond::iso_millis;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

fn sign(d: Decimal, flip: bool) -> Decimal {
    if flip {
        -d
    } else {
        d
    }
}

fn profile(s: &KSale) -> &'static str {
    if s.dine_in {
        "AAP"
    } else {
        "TAKEAWAY"
    }
}

fn line(l: &KLine, s: &KSale, loc: &KLocation, currency: &str, flip: bool) -> Value {
    let disc_type = if l.discount.is_some() {
        Value::from("DISCOUNT")
    } else {
        Value::Null
    };
    json!({
        "id": l.id,
        "parentLineId": l.parent_line_id,
        "sku": l.sku,
        "name": l.name,
        "nameOverride": null,
        "quantity": fixed(sign(l.quantity, flip), 3),
        "totalNetAmountWithTax": fixed(sign(l.with_tax, flip), 2),
        "totalNetAmountWithoutTax": fixed(sign(l.without_tax, flip), 2),
        "taxAmount": fixed(sign(l.tax_amount, flip), 4),
        "taxCode": l.tax.code,
        "taxRatePercentage": fixed(l.tax.percent, 2),
        "taxLines": [{
            "taxId": l.tax.id.to_string(),
            "taxCode": l.tax.code,
            "taxRate": l.tax.multiplier().normalize().to_string(),
            "taxAmount": fixed(sign(l.tax_line_amount, flip), 6),
            "taxIncluded": true,
        }],
        "menuListPrice": fixed(l.unit_price, 2),
        "unitCostPrice": fixed(l.unit_cost, 2),
        "serviceCharge": fixed(sign(l.service_charge, flip), 2),
        "serviceChargeType": if l.service_charge_rate.is_zero() { Value::Null } else { Value::from("APPORTIONED") },
        "serviceChargeRate": fixed(l.service_charge_rate, 2),
        "discountAmount": fixed(sign(l.discount_amount, flip), 2),
        "discountType": disc_type,
        "discountCode": l.discount.map(|d| d.0),
        "discountName": l.discount.map(|d| d.1),
        "accountDiscountAmount": fixed(sign(l.account_discount_amount, flip), 2),
        "totalDiscountAmount": fixed(sign(l.discount_amount + l.account_discount_amount, flip), 2),
        "accountingGroup": { "accountingGroupId": l.group.id, "name": l.group.name, "statisticGroup": l.category, "code": l.group.code },
        "statisticGroup": l.category,
        "categories": [{ "category": "default", "value": l.category }],
        "tags": [],
        "currency": currency,
        "revenueCenter": "Fixed POS",
        "revenueCenterId": loc.revenue_center_id,
        "timeOfSale": iso_millis(l.time_of_sale),
        "staffId": l.staff.0,
        "staffName": l.staff.1,
        "deviceId": s.device.0,
        "deviceName": s.device.1,
        "voidReason": l.void_reason,
        "accountProfileCode": profile(s),
    })
}

fn payment(p: &KPayment, loc: &KLocation, currency: &str, flip: bool) -> Value {
    json!({
        "code": p.method.code,
        "description": p.method.name,
        "paymentMethodId": p.method.id,
        "netAmountWithTax": fixed(sign(p.amount, flip), 2),
        "tip": fixed(sign(p.tip, flip), 2),
        "surcharge": fixed(sign(p.surcharge, flip), 2),
        "roundingAmount": fixed(sign(p.rounding, flip), 2),
        "currency": currency,
        "type": "NORMAL",
        "fiscId": p.fisc_id,
        "uuid": p.uuid,
        "fiscDate": iso_millis(p.time),
        "deviceId": p.device.0.to_string(),
        "deviceName": p.device.1,
        "staffId": p.staff.0,
        "staffName": p.staff.1,
        "authorization": p.authorization,
        "externalReference": null,
        "revenueCenter": "Fixed POS",
        "revenueCenterId": loc.revenue_center_id,
        "consumer": null,
    })
}

/// One V2 sale; `with_payments` follows the `include` switch; refunds are flipped positive when
/// the refund-sign switch says so.
pub fn sale(
    s: &KSale,
    loc: &KLocation,
    currency: &str,
    with_payments: bool,
    refund_sign: RefundSign,
) -> Value {
    let flip = s.kind == SaleType::Refund && refund_sign == RefundSign::Positive;
    let mut source = Map::new();
    source.insert(
        "initialAccountId".into(),
        Value::from(s.initial_account_id.clone()),
    );
    if let Some(p) = &s.previous_account_id {
        source.insert("previousAccountId".into(), Value::from(p.clone()));
    }
    let mut m = Map::new();
    m.insert(
        "accountReference".into(),
        Value::from(s.account_reference.clone()),
    );
    m.insert("accountFiscId".into(), Value::from(s.fisc_id.clone()));
    m.insert("receiptId".into(), Value::from(s.receipt_id.clone()));
    m.insert("source".into(), Value::Object(source));
    m.insert(
        "timeOfOpening".into(),
        Value::from(iso_millis(s.time_opened)),
    );
    m.insert("timeClosed".into(), Value::from(iso_millis(s.time_closed)));
    m.insert("cancelled".into(), Value::from(s.cancelled));
    m.insert("type".into(), Value::from(s.kind.wire()));
    m.insert("externalFiscalNumber".into(), Value::Null);
    m.insert("externalReferences".into(), json!([]));
    m.insert(
        "tableNumber".into(),
        s.table
            .as_ref()
            .map(|t| Value::from(t.0.clone()))
            .unwrap_or(Value::Null),
    );
    m.insert(
        "tableName".into(),
        s.table
            .as_ref()
            .map(|t| Value::from(t.1.clone()))
            .unwrap_or(Value::Null),
    );
    m.insert("accountProfileCode".into(), Value::from(profile(s)));
    m.insert("ownerId".into(), Value::from(s.owner.0));
    m.insert("ownerName".into(), Value::from(s.owner.1.clone()));
    m.insert("nbCovers".into(), Value::from(s.covers as f64));
    m.insert("dineIn".into(), Value::from(s.dine_in));
    m.insert("deviceId".into(), Value::from(s.device.0));
    m.insert("deviceName".into(), Value::from(s.device.1.clone()));
    m.insert(
        "voidReason".into(),
        s.void_reason.map(Value::from).unwrap_or(Value::Null),
    );
    m.insert(
        "salesLines".into(),
        Value::Array(
            s.lines
                .iter()
                .map(|l| line(l, s, loc, currency, flip))
                .collect(),
        ),
    );
    if with_payments {
        m.insert(
            "payments".into(),
            Value::Array(
                s.payments
                    .iter()
                    .map(|p| payment(p, loc, currency, flip))
                    .collect(),
            ),
        );
    }
    Value::Object(m)
}
