//! Deterministic K-Series sales for one location and one business date.
//!
//! Each location-day is a pure function of (seed, location, date, volume), so days can be built
//! lazily, in any order, and always come out byte-identical. Refunds are decided on the original's
//! day (with a lag of 0–3 days) so that no sale is refunded twice.

use super::catalog::{category_label, KCatalog};
use super::{Category, KBusiness, KItem, KLine, KLocation, KPayment, KSale, SaleType};
use crate::money::round;
use crate::rng::{label, mix, Rng};
use base64::Engine;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// First date of the id epoch; account numbers embed the day index since then.
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default()
}

pub fn day_index(date: NaiveDate) -> i64 {
    (date - epoch()).num_days()
}

/// Sequence ranges inside a day: base sales, refunds, late sales added through the control API.
pub const REFUND_SEQ: i64 = 60_000;
pub const LATE_SEQ: i64 = 80_000;
/// Upper bound on base sales per location-day (keeps sequence ranges disjoint).
pub const MAX_BASE_SALES: i64 = 59_999;

/// Converts a local wall time to UTC; a time inside a DST gap moves forward by an hour.
pub fn local_to_utc(tz: &Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let ndt = date.and_time(time);
    match tz.from_local_datetime(&ndt).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => match tz
            .from_local_datetime(&(ndt + Duration::hours(1)))
            .earliest()
        {
            Some(t) => t.with_timezone(&Utc),
            None => Utc.from_utc_datetime(&ndt),
        },
    }
}

/// The window [date cutoff, date+1 cutoff) of a business date in local time (DST-safe).
pub fn business_window(
    tz: &Tz,
    date: NaiveDate,
    cutoff_hour: u32,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let t = NaiveTime::from_hms_opt(cutoff_hour.min(23), 0, 0).unwrap_or_default();
    let next = date.succ_opt().unwrap_or(date);
    (local_to_utc(tz, date, t), local_to_utc(tz, next, t))
}

/// Weights of 30-minute buckets from 11:00 to 03:00 local: lunch and dinner peaks, a late tail.
const BUCKETS: [u64; 32] = [
    3, 6, 14, 18, 16, 10, 5, 4, 3, 3, 4, 6, 10, 15, 18, 17, 14, 10, 7, 5, 4, 3, 3, 2, 2, 2, 1, 1,
    1, 1, 0, 0,
];

/// Sales multiplier per weekday (Mon..Sun), per mille.
const WEEKDAY: [u64; 7] = [700, 750, 850, 1000, 1350, 1500, 1100];

fn b64_uuid(rng: &mut Rng) -> String {
    base64::engine::general_purpose::STANDARD.encode(rng.bytes16())
}

/// Context shared by every sale of one location-day.
pub struct DayCtx<'a> {
    pub loc: &'a KLocation,
    pub business: &'a KBusiness,
    pub date: NaiveDate,
    pub seed: u64,
    by_category: Vec<(Category, Vec<&'a KItem>)>,
}

impl<'a> DayCtx<'a> {
    pub fn new(loc: &'a KLocation, business: &'a KBusiness, date: NaiveDate, seed: u64) -> Self {
        let mut by_category: Vec<(Category, Vec<&'a KItem>)> = Vec::new();
        for it in &business.items {
            match by_category.iter_mut().find(|(c, _)| *c == it.category) {
                Some((_, v)) => v.push(it),
                None => by_category.push((it.category, vec![it])),
            }
        }
        DayCtx {
            loc,
            business,
            date,
            seed,
            by_category,
        }
    }

    fn items(&self, cat: Category) -> &[&'a KItem] {
        self.by_category
            .iter()
            .find(|(c, _)| *c == cat)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    fn pick(&self, rng: &mut Rng, cat: Category) -> Option<&'a KItem> {
        let v = self.items(cat);
        if v.is_empty() {
            None
        } else {
            Some(v[rng.below(v.len() as u64) as usize])
        }
    }

    fn num(&self, seq: i64) -> i64 {
        day_index(self.date) * 100_000 + seq
    }
}

/// A line before amounts are computed.
struct Draft<'a> {
    item: &'a KItem,
    quantity: Decimal,
    unit_price: Decimal,
    parent: Option<usize>,
}

fn draft(item: &KItem, quantity: Decimal, parent: Option<usize>) -> Draft<'_> {
    let unit_price = item.price;
    Draft {
        item,
        quantity,
        unit_price,
        parent,
    }
}

fn drinks<'a>(ctx: &DayCtx<'a>, rng: &mut Rng, out: &mut Vec<Draft<'a>>) {
    let cats = [
        Category::Soft,
        Category::Hot,
        Category::Beer,
        Category::Wine,
        Category::Spirit,
    ];
    let n = rng.weighted(&[2, 6, 3, 1]);
    for _ in 0..n {
        let cat = cats[rng.weighted(&[30, 15, 30, 15, 10])];
        if let Some(it) = ctx.pick(rng, cat) {
            let q = if rng.chance(150) { 2 } else { 1 };
            let idx = out.len();
            out.push(draft(it, Decimal::from(q), None));
            if cat == Category::Spirit && rng.chance(200) {
                if let Some(m) = ctx
                    .items(Category::Modifier)
                    .iter()
                    .find(|m| m.name == "Double Spirit")
                {
                    out.push(draft(m, Decimal::from(q), Some(idx)));
                }
            }
            if cat == Category::Hot && rng.chance(250) {
                let mods = ctx.items(Category::Modifier);
                if let Some(m) = mods.iter().find(|m| {
                    m.name
                        == if rng.chance(500) {
                            "Oat Milk"
                        } else {
                            "Extra Shot"
                        }
                }) {
                    out.push(draft(m, Decimal::from(q), Some(idx)));
                }
            }
        }
    }
}

fn cover_lines<'a>(ctx: &DayCtx<'a>, rng: &mut Rng, out: &mut Vec<Draft<'a>>) {
    if rng.chance(300) {
        if let Some(it) = ctx.pick(rng, Category::Starter) {
            out.push(draft(it, Decimal::ONE, None));
        }
    }
    if rng.chance(80) {
        // A combo: the parent carries the price, the parts are child lines at 0.00.
        if let Some(combo) = ctx.pick(rng, Category::Combo) {
            let idx = out.len();
            out.push(draft(combo, Decimal::ONE, None));
            for cat in [Category::Main, Category::Side, Category::Soft] {
                if let Some(part) = ctx.pick(rng, cat) {
                    let mut d = draft(part, Decimal::ONE, Some(idx));
                    d.unit_price = Decimal::ZERO;
                    out.push(d);
                }
            }
        }
    } else if rng.chance(900) {
        if let Some(main) = ctx.pick(rng, Category::Main) {
            let idx = out.len();
            out.push(draft(main, Decimal::ONE, None));
            let mods = ctx.items(Category::Modifier);
            let food_mods: Vec<_> = mods
                .iter()
                .filter(|m| !matches!(m.name.as_str(), "Extra Shot" | "Oat Milk" | "Double Spirit"))
                .collect();
            let n = rng.weighted(&[65, 25, 10]);
            for _ in 0..n {
                if !food_mods.is_empty() {
                    let m = food_mods[rng.below(food_mods.len() as u64) as usize];
                    out.push(draft(m, Decimal::ONE, Some(idx)));
                }
            }
        }
    }
    if rng.chance(400) {
        if let Some(it) = ctx.pick(rng, Category::Side) {
            out.push(draft(it, Decimal::ONE, None));
        }
    }
    if rng.chance(30) {
        if let Some(it) = ctx.pick(rng, Category::Weighed) {
            // Weighed items: quantity in 100 g units with three decimals.
            let q = Decimal::new(rng.range(1500, 4500), 3);
            out.push(draft(it, q, None));
        }
    }
    if rng.chance(350) {
        if let Some(it) = ctx.pick(rng, Category::Dessert) {
            out.push(draft(it, Decimal::ONE, None));
        }
    }
    drinks(ctx, rng, out);
}

const VOID_REASONS: [&str; 7] = [
    "Broken",
    "Cooking",
    "Other",
    "Taste",
    "Unhappy Client",
    "User Mistake",
    "Waited too long",
];

fn kind_of(roll: u64) -> SaleType {
    match roll {
        0..=14 => SaleType::Cancel,
        15..=24 => SaleType::Void,
        _ => SaleType::Sale,
    }
}

/// The account type `build_sale` will give a sequence number (first draw of its stream).
pub fn sale_kind(seed: u64, loc_id: i64, date: NaiveDate, seq: i64, salt: u64) -> SaleType {
    let mut rng = Rng::new(mix(&[
        seed,
        loc_id as u64,
        day_index(date) as u64,
        seq as u64,
        salt,
    ]));
    kind_of(rng.below(1000))
}

/// Builds one sale closed at `closed`; `seq` fixes its identifiers.
pub fn build_sale(ctx: &DayCtx, seq: i64, closed: DateTime<Utc>, salt: u64) -> KSale {
    let loc = ctx.loc;
    let mut rng = Rng::new(mix(&[
        ctx.seed,
        loc.id as u64,
        day_index(ctx.date) as u64,
        seq as u64,
        salt,
    ]));
    let n = ctx.num(seq);
    let kind = kind_of(rng.below(1000));
    let dine_in = rng.chance(850);
    let covers = if dine_in {
        [1, 2, 2, 2, 3, 4, 4, 5, 6, 8][rng.below(10) as usize]
    } else {
        1
    };
    let mut drafts = Vec::new();
    if dine_in {
        for _ in 0..covers {
            cover_lines(ctx, &mut rng, &mut drafts);
        }
    } else {
        let cats = [
            Category::Takeaway,
            Category::HotTakeaway,
            Category::Soft,
            Category::Main,
        ];
        for _ in 0..rng.range(1, 3) {
            let cat = cats[rng.weighted(&[40, 35, 15, 10])];
            if let Some(it) = ctx.pick(&mut rng, cat) {
                drafts.push(draft(it, Decimal::ONE, None));
            }
        }
    }
    if drafts.is_empty() {
        if let Some(it) = ctx.pick(&mut rng, Category::Hot) {
            drafts.push(draft(it, Decimal::ONE, None));
        }
    }
    let staff = loc.staff[rng.below(loc.staff.len() as u64) as usize].clone();
    let device = loc.devices[rng.below(loc.devices.len() as u64) as usize].clone();
    let open_minutes = if dine_in {
        rng.range(25, 110)
    } else {
        rng.range(1, 6)
    };
    let opened =
        closed - Duration::minutes(open_minutes) - Duration::milliseconds(rng.range(0, 59_999));
    let line_disc_idx = if rng.chance(60) {
        Some(rng.below(drafts.len() as u64) as usize)
    } else {
        None
    };
    let account_disc = rng.chance(40);
    let sc_pct = if dine_in && covers >= 5 {
        loc.service_charge_pct
    } else {
        Decimal::ZERO
    };
    let void_reason = if kind == SaleType::Void {
        Some(VOID_REASONS[rng.below(7) as usize])
    } else {
        None
    };

    let mut lines: Vec<KLine> = Vec::with_capacity(drafts.len());
    for (li, d) in drafts.iter().enumerate() {
        let tax = ctx
            .business
            .tax_rates
            .get(d.item.tax)
            .cloned()
            .unwrap_or_else(|| ctx.business.tax_rates[0].clone());
        let gross = round(d.quantity * d.unit_price, 2);
        let (discount_amount, discount) = if line_disc_idx == Some(li) && gross > Decimal::ZERO {
            (
                round(gross * Decimal::new(10, 2), 2),
                Some(("10PCT", "10% Discount")),
            )
        } else {
            (Decimal::ZERO, None)
        };
        let account_discount_amount = if account_disc {
            round((gross - discount_amount) * Decimal::new(20, 2), 2)
        } else {
            Decimal::ZERO
        };
        let with_tax = gross - discount_amount - account_discount_amount;
        let exact_net = with_tax / tax.multiplier();
        let exact_tax = with_tax - exact_net;
        let service_charge = round(with_tax * sc_pct / Decimal::from(100), 2);
        let time_of_sale = opened
            + Duration::seconds(
                ((closed - opened).num_seconds() * (li as i64 + 1)) / (drafts.len() as i64 + 2),
            );
        let discount = discount.or(if account_disc {
            Some(("STAFF20", "Staff 20%"))
        } else {
            None
        });
        lines.push(KLine {
            id: format!("S{}.{}", loc.code, n * 100 + li as i64),
            parent_line_id: d
                .parent
                .map(|p| format!("S{}.{}", loc.code, n * 100 + p as i64)),
            sku: d.item.sku.clone(),
            name: d.item.name.clone(),
            quantity: d.quantity,
            unit_price: d.unit_price,
            unit_cost: d.item.cost,
            with_tax,
            without_tax: round(exact_net, 2),
            tax_amount: round(exact_tax, 4),
            tax_line_amount: round(exact_tax, 6),
            tax,
            discount_amount,
            discount,
            account_discount_amount,
            service_charge,
            service_charge_rate: sc_pct,
            group: d.item.group.clone(),
            category: category_label(d.item.category),
            time_of_sale,
            staff: staff.clone(),
            void_reason,
        });
    }
    let due: Decimal = lines.iter().map(|l| l.with_tax + l.service_charge).sum();
    let payments = if kind == SaleType::Sale {
        pay(ctx, &mut rng, n, due, closed, &device, &staff, dine_in)
    } else {
        Vec::new()
    };
    let table = if dine_in {
        let t = rng.range(1, 40);
        let room = if t > 30 { "Terrace" } else { "Dining Room" };
        Some((t.to_string(), format!("{room}, Table {t}")))
    } else {
        None
    };
    let fisc = format!("A{}.{}", loc.code, n);
    KSale {
        account_reference: b64_uuid(&mut rng),
        receipt_id: format!("R{}.{}", loc.code, n),
        initial_account_id: fisc.clone(),
        previous_account_id: None,
        fisc_id: fisc,
        time_opened: opened,
        time_closed: closed,
        cancelled: kind == SaleType::Cancel,
        kind,
        table,
        covers,
        dine_in,
        owner: staff,
        device,
        void_reason,
        lines,
        payments,
    }
}

fn cash_round(amount: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::new(1, 2) {
        return amount;
    }
    round(amount / step, 0) * step
}

#[allow(clippy::too_many_arguments)]
fn pay(
    ctx: &DayCtx,
    rng: &mut Rng,
    n: i64,
    due: Decimal,
    at: DateTime<Utc>,
    device: &(i64, String),
    staff: &(i64, String),
    dine_in: bool,
) -> Vec<KPayment> {
    let methods = &ctx.business.payment_methods;
    let weights: Vec<u64> = methods
        .iter()
        .map(|m| match m.code {
            "CASH" => 18,
            "CARD" => 60,
            "EFTPOS" => 45,
            "AMEX" => 10,
            _ => 5,
        })
        .collect();
    let parts: Vec<Decimal> = if due >= Decimal::from(20) && rng.chance(120) {
        let first = round(due * Decimal::new(rng.range(30, 70), 2), 2);
        vec![first, due - first]
    } else {
        vec![due]
    };
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(pi, part)| {
            let method = methods[rng.weighted(&weights)].clone();
            let is_cash = method.code == "CASH";
            let tendered = if is_cash {
                cash_round(part, ctx.loc.cash_rounding)
            } else {
                part
            };
            let tip = if !is_cash && dine_in && rng.chance(350) {
                round(part * Decimal::new(rng.range(5, 15), 2), 2)
            } else {
                Decimal::ZERO
            };
            KPayment {
                fisc_id: format!("T{}.{}", ctx.loc.code, n * 10 + pi as i64),
                uuid: b64_uuid(rng),
                method,
                amount: tendered,
                tip,
                surcharge: Decimal::ZERO,
                rounding: tendered - part,
                time: at - Duration::milliseconds(((count - pi) as i64) * 1500 + 69),
                device: device.clone(),
                staff: staff.clone(),
                authorization: if is_cash {
                    None
                } else {
                    Some(format!("{:06}", rng.below(1_000_000)))
                },
            }
        })
        .collect()
}

/// Close times of a location-day's base sales (sorted) and, per sale, the refund lag in days
/// if it will be refunded. Cheap: no sale is built.
pub fn day_plan(
    cat: &KCatalog,
    seed: u64,
    volume: u32,
    loc_idx: usize,
    date: NaiveDate,
) -> Vec<(DateTime<Utc>, Option<i64>)> {
    let Some(loc) = cat.locations.get(loc_idx) else {
        return Vec::new();
    };
    let di = day_index(date) as u64;
    let mut rng = Rng::new(mix(&[seed, loc.id as u64, di, label("base")]));
    let weekday = WEEKDAY[date.weekday().num_days_from_monday() as usize];
    let noise = rng.range(850, 1150) as u64;
    let count = (loc.base_sales as u64 * weekday * noise * volume.max(1) as u64 / 1_000_000)
        .min(MAX_BASE_SALES as u64);
    let open = NaiveTime::from_hms_opt(11, 0, 0).unwrap_or_default();
    let mut times: Vec<DateTime<Utc>> = (0..count)
        .map(|_| {
            let b = rng.weighted(&BUCKETS) as i64;
            let secs = b * 1800 + rng.range(0, 1799);
            let local = date.and_time(open) + Duration::seconds(secs);
            local_to_utc(&loc.tz, local.date(), local.time())
                + Duration::milliseconds(rng.range(0, 999))
        })
        .collect();
    times.sort();
    times
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let seq = i as i64 + 1;
            let refunded = sale_kind(seed, loc.id, date, seq, 0) == SaleType::Sale && {
                let mut r = Rng::new(mix(&[seed, loc.id as u64, di, seq as u64, label("lag")]));
                r.chance(15)
            };
            let lag = if refunded {
                let mut r = Rng::new(mix(&[
                    seed,
                    loc.id as u64,
                    di,
                    seq as u64,
                    label("lag-days"),
                ]));
                Some(r.weighted(&[4, 3, 2, 1]) as i64)
            } else {
                None
            };
            (t, lag)
        })
        .collect()
}

/// Base sales of a location-day (no refunds), with the refund lag of each, sorted by close time.
pub fn base_sales(
    cat: &KCatalog,
    seed: u64,
    volume: u32,
    loc_idx: usize,
    date: NaiveDate,
) -> Vec<(KSale, Option<i64>)> {
    let Some(loc) = cat.locations.get(loc_idx) else {
        return Vec::new();
    };
    let Some(business) = cat.businesses.get(loc.business) else {
        return Vec::new();
    };
    let ctx = DayCtx::new(loc, business, date, seed);
    day_plan(cat, seed, volume, loc_idx, date)
        .into_iter()
        .enumerate()
        .map(|(i, (t, lag))| (build_sale(&ctx, i as i64 + 1, t, 0), lag))
        .collect()
}

/// Refund of `orig` closed at `closed`: the whole sale or one top-level line with its children.
pub fn refund_of(ctx: &DayCtx, orig: &KSale, seq: i64, closed: DateTime<Utc>) -> KSale {
    let mut rng = Rng::new(mix(&[
        ctx.seed,
        ctx.loc.id as u64,
        day_index(ctx.date) as u64,
        seq as u64,
        label("refund"),
    ]));
    let n = ctx.num(seq);
    let top: Vec<&KLine> = orig
        .lines
        .iter()
        .filter(|l| l.parent_line_id.is_none())
        .collect();
    let whole = top.len() <= 1 || rng.chance(500);
    let chosen = if whole {
        None
    } else {
        Some(top[rng.below(top.len() as u64) as usize].id.clone())
    };
    let keep = |l: &KLine| match &chosen {
        None => true,
        Some(id) => &l.id == id || l.parent_line_id.as_deref() == Some(id.as_str()),
    };
    let mut map = std::collections::HashMap::new();
    let picked: Vec<&KLine> = orig.lines.iter().filter(|l| keep(l)).collect();
    for (li, l) in picked.iter().enumerate() {
        map.insert(
            l.id.clone(),
            format!("S{}.{}", ctx.loc.code, n * 100 + li as i64),
        );
    }
    let lines: Vec<KLine> = picked
        .iter()
        .map(|l| KLine {
            id: map.get(&l.id).cloned().unwrap_or_default(),
            parent_line_id: l.parent_line_id.as_ref().and_then(|p| map.get(p).cloned()),
            quantity: -l.quantity,
            with_tax: -l.with_tax,
            without_tax: -l.without_tax,
            tax_amount: -l.tax_amount,
            tax_line_amount: -l.tax_line_amount,
            discount_amount: -l.discount_amount,
            account_discount_amount: -l.account_discount_amount,
            service_charge: -l.service_charge,
            time_of_sale: closed - Duration::seconds(30),
            ..(*l).clone()
        })
        .collect();
    let due: Decimal = lines.iter().map(|l| l.with_tax + l.service_charge).sum();
    let mut payments = Vec::new();
    if let Some(p) = orig.payments.first() {
        let is_cash = p.method.code == "CASH";
        let tendered = if is_cash {
            cash_round(due, ctx.loc.cash_rounding)
        } else {
            due
        };
        payments.push(KPayment {
            fisc_id: format!("T{}.{}", ctx.loc.code, n * 10),
            uuid: b64_uuid(&mut rng),
            amount: tendered,
            tip: Decimal::ZERO,
            surcharge: Decimal::ZERO,
            rounding: tendered - due,
            time: closed - Duration::milliseconds(800),
            authorization: None,
            ..p.clone()
        });
    }
    let fisc = format!("A{}.{}", ctx.loc.code, n);
    KSale {
        account_reference: b64_uuid(&mut rng),
        fisc_id: fisc,
        receipt_id: format!("R{}.{}", ctx.loc.code, n),
        initial_account_id: orig.initial_account_id.clone(),
        previous_account_id: Some(orig.fisc_id.clone()),
        time_opened: closed - Duration::minutes(2),
        time_closed: closed,
        cancelled: false,
        kind: SaleType::Refund,
        table: None,
        covers: 0,
        dine_in: false,
        owner: orig.owner.clone(),
        device: orig.device.clone(),
        void_reason: None,
        lines,
        payments,
    }
}

/// All sales of a location-day: base sales plus refunds of sales from this day and up to three
/// days before (never before `first_date`), sorted by close time.
pub fn generate_day(
    cat: &KCatalog,
    seed: u64,
    volume: u32,
    loc_idx: usize,
    date: NaiveDate,
    first_date: NaiveDate,
) -> Vec<KSale> {
    if date < first_date {
        return Vec::new();
    }
    let Some(loc) = cat.locations.get(loc_idx) else {
        return Vec::new();
    };
    let Some(business) = cat.businesses.get(loc.business) else {
        return Vec::new();
    };
    let ctx = DayCtx::new(loc, business, date, seed);
    let today = base_sales(cat, seed, volume, loc_idx, date);
    let mut rng = Rng::new(mix(&[
        seed,
        loc.id as u64,
        day_index(date) as u64,
        label("refund-times"),
    ]));
    let mut refunds = Vec::new();
    let (_, day_end) = business_window(&loc.tz, date, 4);
    for lag in 0..=3i64 {
        let odate = date - Duration::days(lag);
        if odate < first_date {
            break;
        }
        let originals: Vec<KSale> = if lag == 0 {
            today
                .iter()
                .filter(|(_, l)| *l == Some(0))
                .map(|(s, _)| s.clone())
                .collect()
        } else {
            let octx = DayCtx::new(loc, business, odate, seed);
            day_plan(cat, seed, volume, loc_idx, odate)
                .into_iter()
                .enumerate()
                .filter(|(_, (_, l))| *l == Some(lag))
                .map(|(i, (t, _))| build_sale(&octx, i as i64 + 1, t, 0))
                .collect()
        };
        for orig in &originals {
            let closed = if lag == 0 {
                let t = orig.time_closed + Duration::minutes(rng.range(5, 90));
                if t >= day_end - Duration::minutes(1) {
                    orig.time_closed + Duration::seconds(90)
                } else {
                    t
                }
            } else {
                let start = local_to_utc(
                    &loc.tz,
                    date,
                    NaiveTime::from_hms_opt(11, 30, 0).unwrap_or_default(),
                );
                start + Duration::seconds(rng.range(0, 10 * 3600))
            };
            let seq = REFUND_SEQ + refunds.len() as i64 + 1;
            refunds.push(refund_of(&ctx, orig, seq, closed));
        }
    }
    let mut all: Vec<KSale> = today.into_iter().map(|(s, _)| s).chain(refunds).collect();
    all.sort_by(|a, b| {
        a.time_closed
            .cmp(&b.time_closed)
            .then_with(|| a.fisc_id.cmp(&b.fisc_id))
    });
    all
}

/// A sale that arrives late (offline till) for a past day; identifiers come from the late range.
pub fn late_sale(
    cat: &KCatalog,
    seed: u64,
    loc_idx: usize,
    date: NaiveDate,
    index: i64,
    closed: Option<DateTime<Utc>>,
) -> Option<KSale> {
    let loc = cat.locations.get(loc_idx)?;
    let business = cat.businesses.get(loc.business)?;
    let ctx = DayCtx::new(loc, business, date, seed);
    let mut rng = Rng::new(mix(&[
        seed,
        loc.id as u64,
        day_index(date) as u64,
        index as u64,
        label("late"),
    ]));
    let closed = closed.unwrap_or_else(|| {
        let start = local_to_utc(
            &loc.tz,
            date,
            NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default(),
        );
        start + Duration::seconds(rng.range(0, 10 * 3600))
    });
    let mut s = build_sale(&ctx, LATE_SEQ + index, closed, label("late"));
    if s.kind != SaleType::Sale {
        // Late sales are always normal paid sales.
        s = build_sale(&ctx, LATE_SEQ + index, closed, label("late2"));
    }
    Some(s)
}

/// Recomputes a line's amounts after a quantity edit (same price, discounts dropped).
pub fn reprice_line(l: &mut KLine, quantity: Decimal) {
    let with_tax = round(quantity * l.unit_price, 2);
    let exact_net = with_tax / l.tax.multiplier();
    let exact_tax = with_tax - exact_net;
    l.quantity = quantity;
    l.with_tax = with_tax;
    l.without_tax = round(exact_net, 2);
    l.tax_amount = round(exact_tax, 4);
    l.tax_line_amount = round(exact_tax, 6);
    l.discount_amount = Decimal::ZERO;
    l.account_discount_amount = Decimal::ZERO;
    l.discount = None;
    l.service_charge = round(with_tax * l.service_charge_rate / Decimal::from(100), 2);
}
