//! K-Series Financial V2 sale objects exactly as documented: money as decimal strings with fixed
//! scales, ids as strings, and the typing quirks (payment `deviceId` a string, line/sale
//! `deviceId` an integer, `nbCovers` a double). Serialised straight from typed structs: a
//! page of 100 sales is over a megabyte of JSON, and building it as `Value` trees first took
//! most of the time a transfer waits on a page.

use crate::config::RefundSign;
use crate::data::{KLine, KLocation, KPayment, KSale, SaleType};
use crate::money::fixed;
use crate::respond::iso_millis;
use rust_decimal::Decimal;
use serde::Serialize;

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

/// One V2 sale as it goes on the wire.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sale<'a> {
    account_reference: &'a str,
    account_fisc_id: &'a str,
    receipt_id: &'a str,
    source: Source<'a>,
    time_of_opening: String,
    time_closed: String,
    cancelled: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    external_fiscal_number: Option<()>,
    external_references: [(); 0],
    table_number: Option<&'a str>,
    table_name: Option<&'a str>,
    account_profile_code: &'static str,
    owner_id: i64,
    owner_name: &'a str,
    nb_covers: f64,
    dine_in: bool,
    device_id: i64,
    device_name: &'a str,
    void_reason: Option<&'static str>,
    sales_lines: Vec<Line<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payments: Option<Vec<Payment<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source<'a> {
    initial_account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_account_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: &'a str,
    parent_line_id: Option<&'a str>,
    sku: &'a str,
    name: &'a str,
    name_override: Option<()>,
    quantity: String,
    total_net_amount_with_tax: String,
    total_net_amount_without_tax: String,
    tax_amount: String,
    tax_code: &'static str,
    tax_rate_percentage: String,
    tax_lines: [TaxLine; 1],
    menu_list_price: String,
    unit_cost_price: String,
    service_charge: String,
    service_charge_type: Option<&'static str>,
    service_charge_rate: String,
    discount_amount: String,
    discount_type: Option<&'static str>,
    discount_code: Option<&'static str>,
    discount_name: Option<&'static str>,
    account_discount_amount: String,
    total_discount_amount: String,
    accounting_group: AccountingGroup,
    statistic_group: &'static str,
    categories: [Category; 1],
    tags: [(); 0],
    currency: &'a str,
    revenue_center: &'static str,
    revenue_center_id: i64,
    time_of_sale: String,
    staff_id: i64,
    staff_name: &'a str,
    device_id: i64,
    device_name: &'a str,
    void_reason: Option<&'static str>,
    account_profile_code: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaxLine {
    tax_id: String,
    tax_code: &'static str,
    tax_rate: String,
    tax_amount: String,
    tax_included: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountingGroup {
    accounting_group_id: i64,
    name: &'static str,
    statistic_group: &'static str,
    code: &'static str,
}

#[derive(Serialize)]
struct Category {
    category: &'static str,
    value: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payment<'a> {
    code: &'static str,
    description: &'static str,
    payment_method_id: i64,
    net_amount_with_tax: String,
    tip: String,
    surcharge: String,
    rounding_amount: String,
    currency: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    fisc_id: &'a str,
    uuid: &'a str,
    fisc_date: String,
    device_id: String,
    device_name: &'a str,
    staff_id: i64,
    staff_name: &'a str,
    authorization: Option<&'a str>,
    external_reference: Option<()>,
    revenue_center: &'static str,
    revenue_center_id: i64,
    consumer: Option<()>,
}

fn line<'a>(
    l: &'a KLine,
    s: &'a KSale,
    loc: &KLocation,
    currency: &'a str,
    flip: bool,
) -> Line<'a> {
    Line {
        id: &l.id,
        parent_line_id: l.parent_line_id.as_deref(),
        sku: &l.sku,
        name: &l.name,
        name_override: None,
        quantity: fixed(sign(l.quantity, flip), 3),
        total_net_amount_with_tax: fixed(sign(l.with_tax, flip), 2),
        total_net_amount_without_tax: fixed(sign(l.without_tax, flip), 2),
        tax_amount: fixed(sign(l.tax_amount, flip), 4),
        tax_code: l.tax.code,
        tax_rate_percentage: fixed(l.tax.percent, 2),
        tax_lines: [TaxLine {
            tax_id: l.tax.id.to_string(),
            tax_code: l.tax.code,
            tax_rate: l.tax.multiplier().normalize().to_string(),
            tax_amount: fixed(sign(l.tax_line_amount, flip), 6),
            tax_included: true,
        }],
        menu_list_price: fixed(l.unit_price, 2),
        unit_cost_price: fixed(l.unit_cost, 2),
        service_charge: fixed(sign(l.service_charge, flip), 2),
        service_charge_type: (!l.service_charge_rate.is_zero()).then_some("APPORTIONED"),
        service_charge_rate: fixed(l.service_charge_rate, 2),
        discount_amount: fixed(sign(l.discount_amount, flip), 2),
        discount_type: l.discount.map(|_| "DISCOUNT"),
        discount_code: l.discount.map(|d| d.0),
        discount_name: l.discount.map(|d| d.1),
        account_discount_amount: fixed(sign(l.account_discount_amount, flip), 2),
        total_discount_amount: fixed(sign(l.discount_amount + l.account_discount_amount, flip), 2),
        accounting_group: AccountingGroup {
            accounting_group_id: l.group.id,
            name: l.group.name,
            statistic_group: l.category,
            code: l.group.code,
        },
        statistic_group: l.category,
        categories: [Category {
            category: "default",
            value: l.category,
        }],
        tags: [],
        currency,
        revenue_center: "Fixed POS",
        revenue_center_id: loc.revenue_center_id,
        time_of_sale: iso_millis(l.time_of_sale),
        staff_id: l.staff.0,
        staff_name: &l.staff.1,
        device_id: s.device.0,
        device_name: &s.device.1,
        void_reason: l.void_reason,
        account_profile_code: profile(s),
    }
}

fn payment<'a>(p: &'a KPayment, loc: &KLocation, currency: &'a str, flip: bool) -> Payment<'a> {
    Payment {
        code: p.method.code,
        description: p.method.name,
        payment_method_id: p.method.id,
        net_amount_with_tax: fixed(sign(p.amount, flip), 2),
        tip: fixed(sign(p.tip, flip), 2),
        surcharge: fixed(sign(p.surcharge, flip), 2),
        rounding_amount: fixed(sign(p.rounding, flip), 2),
        currency,
        kind: "NORMAL",
        fisc_id: &p.fisc_id,
        uuid: &p.uuid,
        fisc_date: iso_millis(p.time),
        device_id: p.device.0.to_string(),
        device_name: &p.device.1,
        staff_id: p.staff.0,
        staff_name: &p.staff.1,
        authorization: p.authorization.as_deref(),
        external_reference: None,
        revenue_center: "Fixed POS",
        revenue_center_id: loc.revenue_center_id,
        consumer: None,
    }
}

/// One V2 sale; `with_payments` follows the `include` switch; refunds are flipped positive when
/// the refund-sign switch says so.
pub fn sale<'a>(
    s: &'a KSale,
    loc: &KLocation,
    currency: &'a str,
    with_payments: bool,
    refund_sign: RefundSign,
) -> Sale<'a> {
    let flip = s.kind == SaleType::Refund && refund_sign == RefundSign::Positive;
    Sale {
        account_reference: &s.account_reference,
        account_fisc_id: &s.fisc_id,
        receipt_id: &s.receipt_id,
        source: Source {
            initial_account_id: &s.initial_account_id,
            previous_account_id: s.previous_account_id.as_deref(),
        },
        time_of_opening: iso_millis(s.time_opened),
        time_closed: iso_millis(s.time_closed),
        cancelled: s.cancelled,
        kind: s.kind.wire(),
        external_fiscal_number: None,
        external_references: [],
        table_number: s.table.as_ref().map(|t| t.0.as_str()),
        table_name: s.table.as_ref().map(|t| t.1.as_str()),
        account_profile_code: profile(s),
        owner_id: s.owner.0,
        owner_name: &s.owner.1,
        nb_covers: f64::from(s.covers),
        dine_in: s.dine_in,
        device_id: s.device.0,
        device_name: &s.device.1,
        void_reason: s.void_reason,
        sales_lines: s
            .lines
            .iter()
            .map(|l| line(l, s, loc, currency, flip))
            .collect(),
        payments: with_payments.then(|| {
            s.payments
                .iter()
                .map(|p| payment(p, loc, currency, flip))
                .collect()
        }),
    }
}
