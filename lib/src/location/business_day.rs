//! A location's business day, as a pure function of its IANA time zone and day-cutoff hour.
//! Business date D covers [D at cutoff, D+1 at cutoff) in local time, so a sale closed at
//! 01:30 belongs to the previous day with the default 04:00 cutoff. DST-safe: a cutoff that
//! falls in a spring-forward gap starts at the first instant after the gap; one that occurs
//! twice in a fall-back overlap starts at the first occurrence. `utc` mode keeps the plain
//! UTC calendar day of the baseline product.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

pub const DEFAULT_CUTOFF_HOUR: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayMode {
    /// Local time zone with a cutoff hour (0–23).
    Local { tz: Tz, cutoff_hour: u32 },
    /// Plain UTC calendar days.
    Utc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
    pub fn hours(&self) -> i64 {
        (self.end - self.start).num_hours()
    }
}

/// The UTC instant at which local `date` + `cutoff_hour` begins in `tz`.
fn local_start(tz: Tz, date: NaiveDate, cutoff_hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(cutoff_hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    let naive = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: walk forward to the first local time that exists (gaps are < 24 h).
            let mut probe = naive;
            for _ in 0..(24 * 60) {
                let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else {
                    break;
                };
                probe = next;
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&naive)
        }
    }
}

fn start(mode: DayMode, date: NaiveDate) -> DateTime<Utc> {
    match mode {
        DayMode::Utc => Utc.from_utc_datetime(&NaiveDateTime::new(date, NaiveTime::MIN)),
        DayMode::Local { tz, cutoff_hour } => local_start(tz, date, cutoff_hour),
    }
}

/// The UTC window of business date `date`.
pub fn window(mode: DayMode, date: NaiveDate) -> Window {
    let next = date.succ_opt().unwrap_or(date);
    Window {
        start: start(mode, date),
        end: start(mode, next),
    }
}

/// The business date an instant belongs to.
pub fn business_date(mode: DayMode, instant: DateTime<Utc>) -> NaiveDate {
    let local_date = match mode {
        DayMode::Utc => instant.date_naive(),
        // Checked: at the ends of the representable range the local time may not exist.
        DayMode::Local { tz, .. } => {
            let offset = tz.offset_from_utc_datetime(&instant.naive_utc()).fix();
            instant
                .naive_utc()
                .checked_add_offset(offset)
                .map(|local| local.date())
                .unwrap_or_else(|| instant.date_naive())
        }
    };
    // The local calendar date or the one before it, whichever window holds the instant.
    for candidate in [
        local_date,
        local_date.pred_opt().unwrap_or(local_date),
        local_date.succ_opt().unwrap_or(local_date),
    ] {
        if window(mode, candidate).contains(instant) {
            return candidate;
        }
    }
    local_date
}

/// Business dates whose window ended in (`from`, `to`]: what an hourly run enqueues.
pub fn closed_between(mode: DayMode, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
    let mut dates = Vec::new();
    let mut date = business_date(mode, from)
        .pred_opt()
        .unwrap_or_else(|| business_date(mode, from));
    while window(mode, date).end <= to {
        let end = window(mode, date).end;
        if end > from {
            dates.push(date);
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    dates
}

/// Dates, instants and day modes as tests write them.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }
    pub fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }
    /// A zone's days with the default cutoff.
    pub fn local(tz: Tz) -> DayMode {
        DayMode::Local {
            tz,
            cutoff_hour: DEFAULT_CUTOFF_HOUR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{d, local, t};
    use super::*;

    /// The window from `start` to `end`.
    fn from_to(start: &str, end: &str) -> Window {
        Window {
            start: t(start),
            end: t(end),
        }
    }

    /// The business day `date` starts at `start` and lasts `hours` (so its end is known too).
    fn assert_day(mode: DayMode, date: &str, start: &str, hours: i64) {
        let day = window(mode, d(date));
        assert_eq!(day.start, t(start), "{date}");
        assert_eq!(day.end, t(start) + Duration::hours(hours), "{date}");
        assert_eq!(day.hours(), hours, "{date}");
    }

    #[test]
    fn london_normal_day_and_both_dst_changes_of_2026() {
        let london = local(chrono_tz::Europe::London);
        // Winter (GMT): 04:00 local = 04:00 UTC.
        assert_day(london, "2026-01-15", "2026-01-15T04:00:00Z", 24);
        // Clocks go forward on Sunday 29 March 2026 at 01:00 UTC: the day of Sat 28 is 23 hours.
        assert_day(london, "2026-03-28", "2026-03-28T04:00:00Z", 23);
        // Clocks go back on Sunday 25 October 2026 at 01:00 UTC: the day of Sat 24 is 25 hours.
        assert_day(london, "2026-10-24", "2026-10-24T03:00:00Z", 25);
    }

    #[test]
    fn new_york_both_dst_changes_of_2026() {
        let ny = local(chrono_tz::America::New_York);
        // DST starts Sunday 8 March 2026 02:00 EST → 03:00 EDT.
        assert_day(ny, "2026-03-07", "2026-03-07T09:00:00Z", 23);
        // DST ends Sunday 1 November 2026 02:00 EDT → 01:00 EST.
        assert_day(ny, "2026-10-31", "2026-10-31T08:00:00Z", 25);
    }

    #[test]
    fn a_cutoff_inside_the_gap_or_the_overlap() {
        // Berlin springs forward 29 March 2026 02:00 → 03:00; a 02:00 cutoff does not exist.
        let berlin = DayMode::Local {
            tz: chrono_tz::Europe::Berlin,
            cutoff_hour: 2,
        };
        assert_eq!(
            window(berlin, d("2026-03-29")).start,
            t("2026-03-29T01:00:00Z"),
            "03:00 CEST, first instant after the gap"
        );
        // Berlin falls back 25 October 2026 03:00 → 02:00; 02:00 happens twice: take the first.
        assert_eq!(
            window(berlin, d("2026-10-25")).start,
            t("2026-10-25T00:00:00Z"),
            "02:00 CEST"
        );
    }

    #[test]
    fn zones_far_from_utc() {
        // Auckland (UTC+13 in summer): the business day of 15 Jan starts 14 Jan 15:00 UTC.
        let auckland = local(chrono_tz::Pacific::Auckland);
        assert_eq!(
            window(auckland, d("2026-01-15")).start,
            t("2026-01-14T15:00:00Z")
        );
        // Auckland's DST ends 5 April 2026 03:00 NZDT → 02:00 NZST: the day of 4 April is 25 h.
        assert_eq!(window(auckland, d("2026-04-04")).hours(), 25);
        // Kiritimati is UTC+14 without DST.
        let kiritimati = local(chrono_tz::Pacific::Kiritimati);
        assert_eq!(
            window(kiritimati, d("2026-06-01")),
            from_to("2026-05-31T14:00:00Z", "2026-06-01T14:00:00Z")
        );
        // Honolulu is UTC−10.
        let honolulu = local(chrono_tz::Pacific::Honolulu);
        assert_eq!(
            window(honolulu, d("2026-06-01")).start,
            t("2026-06-01T14:00:00Z")
        );
    }

    #[test]
    fn utc_mode_is_the_calendar_day() {
        assert_eq!(
            window(DayMode::Utc, d("2026-03-29")),
            from_to("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z")
        );
    }

    #[test]
    fn sales_after_midnight_belong_to_the_previous_business_day() {
        let london = local(chrono_tz::Europe::London);
        assert_eq!(
            business_date(london, t("2026-07-11T00:30:00Z")),
            d("2026-07-10"),
            "01:30 BST"
        );
        assert_eq!(
            business_date(london, t("2026-07-11T03:00:00Z")),
            d("2026-07-11"),
            "04:00 BST"
        );
        assert_eq!(
            business_date(london, t("2026-07-11T02:59:59Z")),
            d("2026-07-10")
        );
    }

    #[test]
    fn consecutive_windows_tile_time_without_gaps_or_overlaps() {
        for tz in [
            chrono_tz::Europe::London,
            chrono_tz::America::New_York,
            chrono_tz::Pacific::Auckland,
            chrono_tz::Australia::Lord_Howe,
        ] {
            for cutoff_hour in [0, 2, 4, 23] {
                let mode = DayMode::Local { tz, cutoff_hour };
                let mut date = d("2025-12-25");
                while date < d("2027-01-05") {
                    let next = date.succ_opt().unwrap();
                    assert_eq!(
                        window(mode, date).end,
                        window(mode, next).start,
                        "{tz} {cutoff_hour} {date}"
                    );
                    let w = window(mode, date);
                    assert!(w.start < w.end);
                    assert_eq!(business_date(mode, w.start), date);
                    assert_eq!(business_date(mode, w.end - Duration::seconds(1)), date);
                    date = next;
                }
            }
        }
    }

    #[test]
    fn the_hour_after_a_cutoff_closes_exactly_that_day() {
        let london = local(chrono_tz::Europe::London);
        assert_eq!(
            closed_between(london, t("2026-07-11T02:05:00Z"), t("2026-07-11T03:05:00Z")),
            vec![d("2026-07-10")]
        );
        assert!(
            closed_between(london, t("2026-07-11T03:05:00Z"), t("2026-07-11T04:05:00Z")).is_empty()
        );
        // Across the spring-forward night the day still closes once.
        let closed: Vec<_> = (0..48)
            .flat_map(|h| {
                let from = t("2026-03-28T00:05:00Z") + Duration::hours(h);
                closed_between(london, from, from + Duration::hours(1))
            })
            .collect();
        assert_eq!(closed, vec![d("2026-03-27"), d("2026-03-28")]);
    }
}
