//! The K-Series sales store: location-days are generated on first use and cached; control-API
//! changes (late sales, edits) are applied to the cached day.

use super::catalog::{restaurant_group, KCatalog};
use super::generate::{business_window, day_index, epoch, generate_day, late_sale, reprice_line};
use super::{KItem, KSale, SaleType};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// Cached location-days.
type DayCache = HashMap<(usize, NaiveDate), Arc<Vec<KSale>>>;

/// Lazily generated K-Series data plus the mutable item overlay.
#[derive(Debug)]
pub struct KStore {
    /// The group as generated; sales always use these names and SKUs.
    pub catalog: Arc<KCatalog>,
    /// Items as the Items API shows them now (renames, archives, deletes applied).
    pub items: RwLock<Vec<Vec<KItem>>>,
    pub seed: u64,
    pub volume: u32,
    /// First business date with data, per location.
    pub first_dates: Vec<NaiveDate>,
    days: Mutex<DayCache>,
    late_counts: Mutex<HashMap<(usize, NaiveDate), i64>>,
}

/// A sale inside a cached day (no copy).
#[derive(Debug, Clone)]
pub struct SaleRef {
    day: Arc<Vec<KSale>>,
    idx: usize,
}

impl std::ops::Deref for SaleRef {
    type Target = KSale;
    fn deref(&self) -> &KSale {
        &self.day[self.idx]
    }
}

/// Why a control change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown location {0}")]
    UnknownLocation(i64),
    #[error("unknown sale {0}")]
    UnknownSale(String),
    #[error("unknown line {0}")]
    UnknownLine(String),
    #[error("unknown payment method {0}")]
    UnknownPaymentMethod(String),
    #[error("{0}")]
    Invalid(String),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl KStore {
    /// Data covers `days` business dates before the local date of `now`, and continues as the
    /// clock moves forward.
    pub fn new(seed: u64, volume: u32, days: u32, now: DateTime<Utc>) -> Self {
        let catalog = Arc::new(restaurant_group());
        let first_dates = catalog
            .locations
            .iter()
            .map(|l| now.with_timezone(&l.tz).date_naive() - Duration::days(days as i64))
            .collect();
        let items = catalog.businesses.iter().map(|b| b.items.clone()).collect();
        KStore {
            catalog,
            items: RwLock::new(items),
            seed,
            volume,
            first_dates,
            days: Mutex::new(HashMap::new()),
            late_counts: Mutex::new(HashMap::new()),
        }
    }

    pub fn location_index(&self, id: i64) -> Option<usize> {
        self.catalog.location(id).map(|(i, _)| i)
    }

    pub fn first_date(&self, loc: usize) -> NaiveDate {
        self.first_dates.get(loc).copied().unwrap_or_else(epoch)
    }

    /// All sales of a location's business date (generated once, then cached).
    pub fn day(&self, loc: usize, date: NaiveDate) -> Arc<Vec<KSale>> {
        let mut days = lock(&self.days);
        if let Some(d) = days.get(&(loc, date)) {
            return d.clone();
        }
        let v = Arc::new(generate_day(
            &self.catalog,
            self.seed,
            self.volume,
            loc,
            date,
            self.first_date(loc),
        ));
        days.insert((loc, date), v.clone());
        v
    }

    /// Business dates (cutoff 04:00 local) whose sales may close inside [from, to).
    pub fn dates_touching(
        &self,
        loc: usize,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<NaiveDate> {
        let Some(l) = self.catalog.locations.get(loc) else {
            return Vec::new();
        };
        let first = self.first_date(loc);
        let start = (from.with_timezone(&l.tz).date_naive() - Duration::days(1)).max(first);
        let end = to.with_timezone(&l.tz).date_naive() + Duration::days(1);
        let mut out = Vec::new();
        let mut d = start;
        while d <= end {
            out.push(d);
            d += Duration::days(1);
        }
        out
    }

    /// Sales closed in [from, to) and not after `now`, sorted by (timeClosed, accountFiscId).
    /// Returns cheap references into the cached days.
    pub fn sales_between(
        &self,
        loc: usize,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<SaleRef> {
        let mut out = Vec::new();
        for d in self.dates_touching(loc, from, to) {
            let day = self.day(loc, d);
            for (idx, s) in day.iter().enumerate() {
                if s.time_closed >= from && s.time_closed < to && s.time_closed <= now {
                    out.push(SaleRef {
                        day: day.clone(),
                        idx,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            a.time_closed
                .cmp(&b.time_closed)
                .then_with(|| a.fisc_id.cmp(&b.fisc_id))
        });
        out
    }

    /// Business date of an account id (`A{code}.{day*100000+seq}`).
    pub fn date_of_fisc(fisc: &str) -> Option<NaiveDate> {
        let n: i64 = fisc.split('.').nth(1)?.parse().ok()?;
        epoch().checked_add_signed(Duration::days(n / 100_000))
    }

    fn mutate_day<R>(
        &self,
        loc: usize,
        date: NaiveDate,
        f: impl FnOnce(&mut Vec<KSale>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let current = self.day(loc, date);
        let mut v = (*current).clone();
        let r = f(&mut v)?;
        v.sort_by(|a, b| {
            a.time_closed
                .cmp(&b.time_closed)
                .then_with(|| a.fisc_id.cmp(&b.fisc_id))
        });
        lock(&self.days).insert((loc, date), Arc::new(v));
        Ok(r)
    }

    /// Adds `count` late sales to a past business date; returns their account ids.
    pub fn add_late_sales(
        &self,
        loc: usize,
        date: NaiveDate,
        count: u32,
        closed: Option<DateTime<Utc>>,
    ) -> Result<Vec<KSale>, StoreError> {
        if date < self.first_date(loc) {
            return Err(StoreError::Invalid(
                "date is before the location's first business date".into(),
            ));
        }
        let start = {
            let mut lc = lock(&self.late_counts);
            let e = lc.entry((loc, date)).or_insert(0);
            let s = *e;
            *e += count as i64;
            s
        };
        let mut made = Vec::new();
        for i in 0..count as i64 {
            if let Some(s) = late_sale(&self.catalog, self.seed, loc, date, start + i + 1, closed) {
                made.push(s);
            }
        }
        let added = made.clone();
        self.mutate_day(loc, date, move |v| {
            v.extend(made);
            Ok(())
        })?;
        Ok(added)
    }

    /// Edits a closed sale in place: payment method and/or one line's quantity (the first payment
    /// absorbs the difference).
    pub fn edit_sale(
        &self,
        loc: usize,
        fisc: &str,
        payment_code: Option<&str>,
        line: Option<(&str, Decimal)>,
    ) -> Result<KSale, StoreError> {
        let date =
            Self::date_of_fisc(fisc).ok_or_else(|| StoreError::UnknownSale(fisc.to_string()))?;
        let l = self
            .catalog
            .locations
            .get(loc)
            .ok_or(StoreError::UnknownLocation(0))?;
        let method = match payment_code {
            Some(code) => Some(
                self.catalog.businesses[l.business]
                    .payment_methods
                    .iter()
                    .find(|m| m.code == code)
                    .cloned()
                    .ok_or_else(|| StoreError::UnknownPaymentMethod(code.to_string()))?,
            ),
            None => None,
        };
        self.mutate_day(loc, date, |v| {
            let s = v
                .iter_mut()
                .find(|s| s.fisc_id == fisc)
                .ok_or_else(|| StoreError::UnknownSale(fisc.to_string()))?;
            if let Some((line_id, q)) = line {
                let ln = s
                    .lines
                    .iter_mut()
                    .find(|x| x.id == line_id)
                    .ok_or_else(|| StoreError::UnknownLine(line_id.to_string()))?;
                let before = ln.with_tax + ln.service_charge;
                let q = if s.kind == SaleType::Refund {
                    -q.abs()
                } else {
                    q
                };
                reprice_line(ln, q);
                let delta = ln.with_tax + ln.service_charge - before;
                if let Some(p) = s.payments.first_mut() {
                    p.amount += delta;
                }
            }
            if let Some(m) = method {
                for p in s.payments.iter_mut() {
                    p.method = m.clone();
                    // A non-cash method has no cash rounding.
                    if m.code != "CASH" {
                        p.amount -= p.rounding;
                        p.rounding = Decimal::ZERO;
                    }
                }
            }
            Ok(s.clone())
        })
    }

    /// Window of a business date with a cutoff hour in the location's local time.
    pub fn window(
        &self,
        loc: usize,
        date: NaiveDate,
        cutoff_hour: u32,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let l = self.catalog.locations.get(loc)?;
        Some(business_window(&l.tz, date, cutoff_hour))
    }

    /// Day index helper re-exported for id parsing in callers.
    pub fn day_index(date: NaiveDate) -> i64 {
        day_index(date)
    }
}
