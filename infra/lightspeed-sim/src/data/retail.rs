//! The X-Series retail store: outlets, registers, taxes, payment types, products with custom
//! codes, and sales including layby, on-account, voided sales and returns.
//!
//! A sale is a list of revisions (e.g. LAYBY then LAYBY_CLOSED days later). A revision becomes
//! visible when the clock passes it and only then receives its global `version`, so versions
//! always grow in the order clients can observe them.

use crate::money::round;
use crate::rng::{label, mix, Rng};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::generate::local_to_utc;

#[derive(Debug, Clone)]
pub struct XOutlet {
    pub id: String,
    pub name: String,
    pub tz: Tz,
}

#[derive(Debug, Clone)]
pub struct XRegister {
    pub id: String,
    pub name: String,
    pub outlet_id: String,
}

#[derive(Debug, Clone)]
pub struct XTax {
    pub id: String,
    pub name: String,
    /// Fraction, e.g. 0.15.
    pub rate: Decimal,
}

#[derive(Debug, Clone)]
pub struct XPaymentType {
    pub id: String,
    pub name: String,
    /// Legacy numeric type id (sent as a string in 1.0 payloads).
    pub type_id: u32,
}

#[derive(Debug, Clone)]
pub struct XProduct {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub sku: String,
    /// (type, code); types are lower-case as in Lightspeed's example (`custom`, `ean`, ...).
    pub product_codes: Vec<(String, String)>,
    pub supplier_code: String,
    pub active: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub has_variants: bool,
    pub variant_parent_id: Option<String>,
    pub family_id: String,
    pub price_excluding_tax: Decimal,
    pub price_including_tax: Decimal,
    pub supply_price: Decimal,
    pub tax_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct XLine {
    pub id: String,
    pub product_id: String,
    pub tax_id: String,
    pub quantity: Decimal,
    /// Tax-exclusive unit price.
    pub price: Decimal,
    pub tax: Decimal,
    pub cost: Decimal,
    pub is_return: bool,
}

#[derive(Debug, Clone)]
pub struct XPayment {
    pub id: String,
    pub payment_type: XPaymentType,
    pub register_id: String,
    pub amount: Decimal,
    pub date: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct XRevision {
    pub at: DateTime<Utc>,
    pub status: &'static str,
    pub payments: Vec<XPayment>,
    pub version: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct XSale {
    pub id: String,
    pub outlet_id: String,
    pub register_id: String,
    pub user_id: String,
    pub customer_id: Option<String>,
    pub invoice_sequence: u64,
    pub short_code: String,
    pub note: String,
    pub return_for: Option<String>,
    pub sale_date: DateTime<Utc>,
    pub lines: Vec<XLine>,
    pub revisions: Vec<XRevision>,
}

impl XSale {
    /// The latest revision visible at `now` that already has a version.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&XRevision> {
        self.revisions
            .iter()
            .rev()
            .find(|r| r.at <= now && r.version.is_some())
    }

    /// When the sale's goods left the shelf, as seen at `now` (None while they have not, or
    /// after a void returned them). Per the reference's status table an on-account sale
    /// reduces inventory when it is made, paid or not; a layby when it closes; any other
    /// sale when it closes.
    pub fn stock_moved_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let current = self.current(now)?;
        match current.status {
            "ONACCOUNT" | "ONACCOUNT_CLOSED" => Some(self.sale_date),
            status if state_of(status).0 == "closed" => Some(current.at),
            _ => None,
        }
    }

    pub fn total_price(&self) -> Decimal {
        self.lines.iter().map(|l| l.quantity * l.price).sum()
    }

    pub fn total_tax(&self) -> Decimal {
        self.lines.iter().map(|l| l.quantity * l.tax).sum()
    }
}

/// Maps a legacy status to (`state`, attributes).
pub fn state_of(status: &str) -> (&'static str, Vec<&'static str>) {
    match status {
        "SAVED" => ("parked", vec![]),
        "OPEN" => ("pending", vec![]),
        "ONACCOUNT" => ("pending", vec!["onaccount"]),
        "LAYBY" => ("pending", vec!["layby"]),
        "ONACCOUNT_CLOSED" => ("closed", vec!["onaccount"]),
        "LAYBY_CLOSED" => ("closed", vec!["layby"]),
        "VOIDED" => ("voided", vec![]),
        _ => ("closed", vec![]),
    }
}

/// The whole store.
#[derive(Debug, Clone)]
pub struct XStore {
    pub retailer_id: String,
    pub domain_prefix: String,
    pub currency: &'static str,
    pub user_id: String,
    pub outlets: Vec<XOutlet>,
    pub registers: Vec<XRegister>,
    pub taxes: Vec<XTax>,
    pub payment_types: Vec<XPaymentType>,
    pub products: Vec<XProduct>,
    pub sales: Vec<XSale>,
    pub next_version: u64,
}

const PRODUCTS: &[(&str, i64)] = &[
    ("Linen Tea Towel", 1800),
    ("Ceramic Mug", 2400),
    ("Enamel Jug", 4500),
    ("Beeswax Candle", 2200),
    ("Wool Throw", 14900),
    ("Cotton Tote", 1500),
    ("Glass Carafe", 3900),
    ("Oak Serving Board", 6500),
    ("Copper Measuring Cups", 3400),
    ("Stoneware Bowl", 2800),
    ("Bamboo Utensil Set", 1900),
    ("Cast Iron Skillet", 8900),
    ("French Press", 5900),
    ("Loose Leaf Tea 100g", 1400),
    ("Ground Coffee 250g", 1800),
    ("Honey 500g", 2100),
    ("Olive Oil 500ml", 2600),
    ("Sea Salt Flakes", 900),
    ("Hand Soap", 1600),
    ("Hand Cream", 2400),
    ("Notebook A5", 1200),
    ("Fountain Pen", 4900),
    ("Desk Lamp", 11900),
    ("Plant Pot Small", 1700),
    ("Plant Pot Large", 4200),
    ("Watering Can", 3600),
    ("Garden Gloves", 2200),
    ("Picnic Blanket", 7900),
    ("Thermos Flask", 4400),
    ("Lunch Box", 2900),
    ("Kids Apron", 1900),
    ("Chef Apron", 3900),
    ("Oven Mitt", 1400),
    ("Pasta Maker", 12900),
    ("Spice Jar Set", 3200),
    ("Wine Glasses (2)", 3800),
    ("Cocktail Shaker", 3300),
    ("Napkin Set", 2600),
    ("Table Runner", 4400),
    ("Cushion Cover", 3500),
    ("Door Mat", 4900),
    ("Storage Basket", 5400),
    ("Scented Diffuser", 3900),
    ("Bath Towel", 4600),
    ("Bath Mat", 3800),
    ("Soap Dish", 1200),
    ("Gift Card Sleeve", 300),
    ("Greeting Card", 700),
    ("Wrapping Paper", 600),
    ("Candle Snuffer", 1800),
    ("Salad Servers", 2700),
    ("Butter Dish", 2500),
    ("Egg Cups (4)", 1900),
    ("Tea Pot", 5900),
    ("Milk Frother", 4900),
    ("Coffee Grinder", 8900),
];

fn step_id(rng: &mut Rng) -> String {
    rng.uuid()
}

impl XStore {
    /// Generates the store: sales from `first` up to 14 days past `now` (later revisions become
    /// visible as the clock advances).
    pub fn generate(seed: u64, domain_prefix: &str, days: u32, now: DateTime<Utc>) -> Self {
        let tz = chrono_tz::Pacific::Auckland;
        let mut rng = Rng::new(mix(&[seed, label("x-store")]));
        let outlets = vec![
            XOutlet {
                id: step_id(&mut rng),
                name: "Ponsonby Road".into(),
                tz,
            },
            XOutlet {
                id: step_id(&mut rng),
                name: "Britomart".into(),
                tz,
            },
        ];
        let registers = vec![
            XRegister {
                id: step_id(&mut rng),
                name: "Main Register".into(),
                outlet_id: outlets[0].id.clone(),
            },
            XRegister {
                id: step_id(&mut rng),
                name: "Counter 2".into(),
                outlet_id: outlets[0].id.clone(),
            },
            XRegister {
                id: step_id(&mut rng),
                name: "Britomart Register".into(),
                outlet_id: outlets[1].id.clone(),
            },
        ];
        let taxes = vec![
            XTax {
                id: step_id(&mut rng),
                name: "GST".into(),
                rate: Decimal::new(15, 2),
            },
            XTax {
                id: step_id(&mut rng),
                name: "No Tax".into(),
                rate: Decimal::ZERO,
            },
        ];
        let payment_types = vec![
            XPaymentType {
                id: step_id(&mut rng),
                name: "Cash".into(),
                type_id: 1,
            },
            XPaymentType {
                id: step_id(&mut rng),
                name: "Credit Card".into(),
                type_id: 3,
            },
            XPaymentType {
                id: step_id(&mut rng),
                name: "EFTPOS".into(),
                type_id: 7,
            },
            XPaymentType {
                id: step_id(&mut rng),
                name: "Gift Card".into(),
                type_id: 8,
            },
        ];
        let first = now.with_timezone(&tz).date_naive() - Duration::days(days as i64);
        let created = local_to_utc(
            &tz,
            first - Duration::days(30),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
        );
        let mut products = Vec::new();
        for (i, (name, cents)) in PRODUCTS.iter().enumerate() {
            let incl = Decimal::new(*cents, 2);
            let tax = if name.starts_with("Gift Card") {
                &taxes[1]
            } else {
                &taxes[0]
            };
            let excl = round(incl / (Decimal::ONE + tax.rate), 5);
            let mut codes = Vec::new();
            if i % 10 != 3 {
                codes.push(("custom".to_string(), format!("HG-{:04}", 1000 + i * 7)));
            }
            if i % 2 == 0 {
                codes.push((
                    "ean".to_string(),
                    format!("94{:011}", 1_234_500 + i as u64 * 13),
                ));
            }
            codes.push(("auto-generated".to_string(), format!("{}", 10_000 + i)));
            let id = step_id(&mut rng);
            products.push(XProduct {
                family_id: id.clone(),
                id,
                name: (*name).to_string(),
                handle: name
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
                sku: format!("{}", 10_000 + i),
                product_codes: codes,
                supplier_code: format!("SUP-{:03}", i),
                active: i % 17 != 5,
                deleted_at: if i % 23 == 7 {
                    Some(created + Duration::days(2))
                } else {
                    None
                },
                has_variants: false,
                variant_parent_id: None,
                price_excluding_tax: excl,
                price_including_tax: incl,
                supply_price: round(excl * Decimal::new(45, 2), 2),
                tax_id: tax.id.clone(),
                created_at: created,
                updated_at: created,
                version: None,
            });
        }
        // One product family with size variants.
        let parent_id = step_id(&mut rng);
        for (i, size) in ["S", "M", "L"].iter().enumerate() {
            let incl = Decimal::new(5900, 2);
            products.push(XProduct {
                id: if i == 0 {
                    parent_id.clone()
                } else {
                    step_id(&mut rng)
                },
                name: format!("Linen Shirt / {size}"),
                handle: "linenshirt".into(),
                sku: format!("{}", 10_100 + i),
                product_codes: vec![("custom".into(), format!("HG-SHIRT-{size}"))],
                supplier_code: "SUP-SHIRT".into(),
                active: true,
                deleted_at: None,
                has_variants: i == 0,
                variant_parent_id: if i == 0 {
                    None
                } else {
                    Some(parent_id.clone())
                },
                family_id: parent_id.clone(),
                price_excluding_tax: round(incl / Decimal::new(115, 2), 5),
                price_including_tax: incl,
                supply_price: Decimal::new(2200, 2),
                tax_id: taxes[0].id.clone(),
                created_at: created,
                updated_at: created,
                version: None,
            });
        }
        let sellable: Vec<usize> = (0..products.len())
            .filter(|i| products[*i].deleted_at.is_none() && products[*i].active)
            .collect();
        let user_id = step_id(&mut rng);
        let customers: Vec<String> = (0..12).map(|_| step_id(&mut rng)).collect();
        let mut sales: Vec<XSale> = Vec::new();
        let last = now.with_timezone(&tz).date_naive() + Duration::days(14);
        let mut seq = 1000u64;
        let mut d = first;
        while d <= last {
            let mut drng = Rng::new(mix(&[seed, label("x-day"), d.num_days_from_ce() as u64]));
            let weekday = [700u64, 750, 850, 1000, 1300, 1500, 1200]
                [d.weekday().num_days_from_monday() as usize];
            let count = 30 * weekday / 1000 + drng.below(8);
            let mut times: Vec<DateTime<Utc>> = (0..count)
                .map(|_| {
                    let secs = drng.range(9 * 3600, 18 * 3600) as u32;
                    let t =
                        NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap_or_default();
                    local_to_utc(&tz, d, t)
                })
                .collect();
            times.sort();
            let day_start = sales.len();
            for t in times {
                seq += 1;
                let reg = &registers[drng.below(3) as usize];
                let return_candidates: Vec<usize> = (day_start.saturating_sub(150)..sales.len())
                    .filter(|i| {
                        sales[*i].return_for.is_none()
                            && sales[*i].revisions.len() == 1
                            && sales[*i].revisions[0].status == "CLOSED"
                    })
                    .collect();
                let roll = drng.below(1000);
                let mut sale = if roll < 40 && !return_candidates.is_empty() {
                    let orig = &sales
                        [return_candidates[drng.below(return_candidates.len() as u64) as usize]];
                    let first_line = orig.lines[0].clone();
                    let lines = vec![XLine {
                        id: step_id(&mut drng),
                        quantity: -first_line.quantity,
                        is_return: true,
                        ..first_line
                    }];
                    XSale {
                        id: step_id(&mut drng),
                        outlet_id: reg.outlet_id.clone(),
                        register_id: reg.id.clone(),
                        user_id: user_id.clone(),
                        customer_id: orig.customer_id.clone(),
                        invoice_sequence: seq,
                        short_code: String::new(),
                        note: "Return".into(),
                        return_for: Some(orig.id.clone()),
                        sale_date: t,
                        lines,
                        revisions: Vec::new(),
                    }
                } else {
                    let n = drng.range(1, 4);
                    let lines = (0..n)
                        .map(|_| {
                            let p = &products[sellable[drng.below(sellable.len() as u64) as usize]];
                            XLine {
                                id: step_id(&mut drng),
                                product_id: p.id.clone(),
                                tax_id: p.tax_id.clone(),
                                quantity: Decimal::from(drng.weighted(&[0, 80, 15, 5])),
                                price: p.price_excluding_tax,
                                tax: p.price_including_tax - p.price_excluding_tax,
                                cost: p.supply_price,
                                is_return: false,
                            }
                        })
                        .collect();
                    XSale {
                        id: step_id(&mut drng),
                        outlet_id: reg.outlet_id.clone(),
                        register_id: reg.id.clone(),
                        user_id: user_id.clone(),
                        customer_id: if drng.chance(300) {
                            Some(customers[drng.below(12) as usize].clone())
                        } else {
                            None
                        },
                        invoice_sequence: seq,
                        short_code: String::new(),
                        note: String::new(),
                        return_for: None,
                        sale_date: t,
                        lines,
                        revisions: Vec::new(),
                    }
                };
                sale.short_code = hex::encode(drng.next_u64().to_be_bytes())[..6].to_string();
                let total = round(sale.total_price() + sale.total_tax(), 2);
                let pt = |rng: &mut Rng| payment_types[rng.weighted(&[25, 45, 30, 0])].clone();
                let payment = |rng: &mut Rng,
                               amount: Decimal,
                               at: DateTime<Utc>,
                               typ: XPaymentType| XPayment {
                    id: step_id(rng),
                    payment_type: typ,
                    register_id: reg.id.clone(),
                    amount,
                    date: at,
                };
                let kind = if sale.return_for.is_some() {
                    0
                } else {
                    drng.below(1000)
                };
                sale.revisions = match kind {
                    900..=929 => {
                        let deposit = round(total * Decimal::new(30, 2), 2);
                        let later = t + Duration::days(drng.range(3, 10));
                        let typ = pt(&mut drng);
                        let p1 = payment(&mut drng, deposit, t, typ.clone());
                        let p2 = payment(&mut drng, total - deposit, later, typ);
                        vec![
                            XRevision {
                                at: t,
                                status: "LAYBY",
                                payments: vec![p1.clone()],
                                version: None,
                            },
                            XRevision {
                                at: later,
                                status: "LAYBY_CLOSED",
                                payments: vec![p1, p2],
                                version: None,
                            },
                        ]
                    }
                    930..=959 => {
                        let later = t + Duration::days(drng.range(5, 20));
                        let typ = pt(&mut drng);
                        let p = payment(&mut drng, total, later, typ);
                        vec![
                            XRevision {
                                at: t,
                                status: "ONACCOUNT",
                                payments: vec![],
                                version: None,
                            },
                            XRevision {
                                at: later,
                                status: "ONACCOUNT_CLOSED",
                                payments: vec![p],
                                version: None,
                            },
                        ]
                    }
                    960..=979 => {
                        let typ = pt(&mut drng);
                        let p = payment(&mut drng, total, t, typ);
                        vec![
                            XRevision {
                                at: t,
                                status: "CLOSED",
                                payments: vec![p],
                                version: None,
                            },
                            XRevision {
                                at: t + Duration::minutes(drng.range(10, 120)),
                                status: "VOIDED",
                                payments: vec![],
                                version: None,
                            },
                        ]
                    }
                    _ => {
                        let typ = pt(&mut drng);
                        let p = payment(&mut drng, total, t, typ);
                        vec![XRevision {
                            at: t,
                            status: "CLOSED",
                            payments: vec![p],
                            version: None,
                        }]
                    }
                };
                if sale.customer_id.is_none()
                    && sale.revisions.len() == 2
                    && sale.revisions[1].status != "VOIDED"
                {
                    sale.customer_id = Some(customers[drng.below(12) as usize].clone());
                }
                sales.push(sale);
            }
            d += Duration::days(1);
        }
        let mut store = XStore {
            retailer_id: rng.uuid(),
            domain_prefix: domain_prefix.to_string(),
            currency: "NZD",
            user_id,
            outlets,
            registers,
            taxes,
            payment_types,
            products,
            sales,
            next_version: 2_100_000_000 + (seed % 1000) * 1000,
        };
        store.assign_versions(now, seed);
        store
    }

    fn bump(&mut self, rng: &mut Rng) -> u64 {
        self.next_version += 1 + rng.below(37);
        self.next_version
    }

    /// Gives a version to every revision and product that became visible by `now`, in time
    /// order; returns the (sale index, revision index) pairs that just became visible.
    pub fn assign_versions(&mut self, now: DateTime<Utc>, seed: u64) -> Vec<(usize, usize)> {
        let mut rng = Rng::new(mix(&[seed, label("x-version"), self.next_version]));
        for i in 0..self.products.len() {
            if self.products[i].version.is_none() && self.products[i].created_at <= now {
                let v = self.bump(&mut rng);
                self.products[i].version = Some(v);
            }
        }
        let mut pending: Vec<(DateTime<Utc>, usize, usize)> = Vec::new();
        for (si, s) in self.sales.iter().enumerate() {
            for (ri, r) in s.revisions.iter().enumerate() {
                if r.version.is_none() && r.at <= now {
                    pending.push((r.at, si, ri));
                }
            }
        }
        pending.sort();
        let mut out = Vec::new();
        for (_, si, ri) in pending {
            let v = self.bump(&mut rng);
            self.sales[si].revisions[ri].version = Some(v);
            out.push((si, ri));
        }
        out
    }

    /// Voids a closed sale now (new revision, payments deleted). Returns the sale index.
    pub fn void_sale(&mut self, id: &str, now: DateTime<Utc>, seed: u64) -> Option<usize> {
        let si = self.sales.iter().position(|s| s.id == id)?;
        let current = self.sales[si].current(now)?.status;
        if current == "VOIDED" {
            return Some(si);
        }
        let mut rng = Rng::new(mix(&[seed, label("x-void"), self.next_version]));
        let v = self.bump(&mut rng);
        let s = &mut self.sales[si];
        // Drop revisions scheduled after now: the void is terminal.
        s.revisions.retain(|r| r.at <= now && r.version.is_some());
        s.revisions.push(XRevision {
            at: now,
            status: "VOIDED",
            payments: vec![],
            version: Some(v),
        });
        Some(si)
    }

    /// Pays an open on-account sale now: `amount` (default: what it still owes) by the
    /// payment type named `method` (default: the first, cash). Fully paid, it becomes
    /// `ONACCOUNT_CLOSED`; revisions scheduled after now are dropped, as a till would.
    /// Returns the sale index, or why it cannot be paid.
    pub fn pay_on_account(
        &mut self,
        id: &str,
        amount: Option<Decimal>,
        method: Option<&str>,
        now: DateTime<Utc>,
        seed: u64,
    ) -> Result<usize, &'static str> {
        let si = self
            .sales
            .iter()
            .position(|s| s.id == id)
            .ok_or("unknown sale")?;
        let sale = &self.sales[si];
        let current = sale.current(now).ok_or("sale not visible")?;
        if current.status != "ONACCOUNT" {
            return Err("not an open on-account sale");
        }
        let total = round(sale.total_price() + sale.total_tax(), 2);
        let paid: Decimal = current.payments.iter().map(|p| p.amount).sum();
        let owed = total - paid;
        let amount = amount.unwrap_or(owed);
        if amount <= Decimal::ZERO || amount > owed {
            return Err("the amount must be above zero and at most what is owed");
        }
        let payment_type = match method {
            Some(name) => self
                .payment_types
                .iter()
                .find(|t| t.name == name)
                .ok_or("unknown payment type")?,
            None => self.payment_types.first().ok_or("no payment types")?,
        }
        .clone();
        let mut payments = current.payments.clone();
        let register_id = sale.register_id.clone();
        let mut rng = Rng::new(mix(&[seed, label("x-pay"), self.next_version]));
        payments.push(XPayment {
            id: step_id(&mut rng),
            payment_type,
            register_id,
            amount,
            date: now,
        });
        let v = self.bump(&mut rng);
        let s = &mut self.sales[si];
        s.revisions.retain(|r| r.at <= now && r.version.is_some());
        s.revisions.push(XRevision {
            at: now,
            status: if amount == owed {
                "ONACCOUNT_CLOSED"
            } else {
                "ONACCOUNT"
            },
            payments,
            version: Some(v),
        });
        Ok(si)
    }

    /// Applies a product change now and gives it a new version.
    pub fn touch_product(&mut self, idx: usize, now: DateTime<Utc>, seed: u64) {
        let mut rng = Rng::new(mix(&[seed, label("x-product"), self.next_version]));
        let v = self.bump(&mut rng);
        if let Some(p) = self.products.get_mut(idx) {
            p.updated_at = now;
            p.version = Some(v);
        }
    }

    /// First business date with sales.
    pub fn first_date(days: u32, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&chrono_tz::Pacific::Auckland)
            .date_naive()
            - Duration::days(days as i64)
    }
}
