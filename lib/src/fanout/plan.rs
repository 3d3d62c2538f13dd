//! The pure part of the fan-out: which transfer requests one run makes. No clock, no AWS;
//! the run's instant comes from the scheduled event so a retried or late invocation plans
//! exactly what the on-time one would have.

use chrono::{DateTime, Days, Duration, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

use crate::location::business_day::{closed_between, DayMode};
use crate::transfer::TransferRequest;

/// Namespace of the fan-out's request uuids (UUID v5), distinct from every other id kind.
const FANOUT_REQUEST_NAMESPACE: Uuid = Uuid::from_u128(0x8e3a_51c2_0f6d_4b7a_a1e4_6c2d_9b07_f3a5);

/// One location in the fan-out index, reduced to what planning needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutTarget {
    pub company_id: String,
    pub location_id: String,
    pub mode: DayMode,
}

/// What one run asks of one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationPlan {
    pub company_id: String,
    pub location_id: String,
    /// Business dates whose window ended inside the run's window (usually none or one).
    pub closed: Vec<NaiveDate>,
    /// Per closed date D: D, then D-1..D-N as re-checks.
    pub requests: Vec<TransferRequest>,
}

/// The request id for transferring `date` because `trigger` closed. It is the same for every
/// invocation that plans this pair (duplicate deliveries of the schedule, retries, a wider
/// catch-up window), so the transfer engine's per-(request, attempt) log absorbs repeats;
/// and it differs per trigger, so each day's re-check of an older date really runs.
pub fn request_uuid(
    company_id: &str,
    location_id: &str,
    date: NaiveDate,
    trigger: NaiveDate,
) -> String {
    Uuid::new_v5(
        &FANOUT_REQUEST_NAMESPACE,
        format!("daily-fanout\u{1f}{company_id}\u{1f}{location_id}\u{1f}{date}\u{1f}{trigger}")
            .as_bytes(),
    )
    .to_string()
}

/// The plan of one location for the run at `now` covering closings in (`now - look_back`, `now`].
pub fn plan_location(
    target: &FanoutTarget,
    now: DateTime<Utc>,
    look_back: Duration,
    recheck_days: u32,
) -> LocationPlan {
    let closed = if look_back > Duration::zero() {
        closed_between(target.mode, now - look_back, now)
    } else {
        Vec::new()
    };
    let requested_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let request = |date: NaiveDate, trigger: NaiveDate| TransferRequest {
        request_uuid: request_uuid(&target.company_id, &target.location_id, date, trigger),
        company_id: target.company_id.clone(),
        location_id: target.location_id.clone(),
        business_date: Some(date.format("%Y-%m-%d").to_string()),
        attempt: 1,
        // The closed day itself is a first transfer; older days only post what changed.
        force_refresh: date != trigger,
        requested_at: requested_at.clone(),
    };
    let mut requests = Vec::new();
    for &trigger in &closed {
        requests.push(request(trigger, trigger));
        for back in 1..=u64::from(recheck_days) {
            if let Some(date) = trigger.checked_sub_days(Days::new(back)) {
                requests.push(request(date, trigger));
            }
        }
    }
    LocationPlan {
        company_id: target.company_id.clone(),
        location_id: target.location_id.clone(),
        closed,
        requests,
    }
}

/// Every transfer request of a run, location by location in the given order.
pub fn plan(
    targets: &[FanoutTarget],
    now: DateTime<Utc>,
    look_back: Duration,
    recheck_days: u32,
) -> Vec<TransferRequest> {
    targets
        .iter()
        .flat_map(|t| plan_location(t, now, look_back, recheck_days).requests)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::business_day::fixtures::{d, local, t};

    fn target(location_id: &str, tz: chrono_tz::Tz) -> FanoutTarget {
        FanoutTarget {
            company_id: "acme".into(),
            location_id: location_id.into(),
            mode: local(tz),
        }
    }
    fn hour() -> Duration {
        Duration::hours(1)
    }
    /// (date, force_refresh) of each request, in order.
    fn dates(requests: &[TransferRequest]) -> Vec<(String, bool)> {
        requests
            .iter()
            .map(|r| (r.business_date.clone().unwrap(), r.force_refresh))
            .collect()
    }
    fn closed_at(target: &FanoutTarget, now: &str) -> Vec<NaiveDate> {
        plan_location(target, t(now), hour(), 3).closed
    }
    /// The hourly run at `now` closes `day` and nothing else.
    fn assert_closes(target: &FanoutTarget, now: &str, day: &str) {
        assert_eq!(closed_at(target, now), vec![d(day)], "run at {now}");
    }
    /// The one-hour plan at `now`, with three re-checks.
    fn hourly_plan(target: &FanoutTarget, now: &str) -> Vec<TransferRequest> {
        plan(std::slice::from_ref(target), t(now), hour(), 3)
    }

    #[test]
    fn a_closed_day_is_transferred_and_the_three_before_it_rechecked() {
        let london = target("soho", chrono_tz::Europe::London);
        // 04:00 BST = 03:00 UTC: the 05-past run closes the day before.
        let plan = plan_location(&london, t("2026-07-11T03:05:00Z"), hour(), 3);
        assert_eq!(plan.closed, vec![d("2026-07-10")]);
        assert_eq!(
            dates(&plan.requests),
            vec![
                ("2026-07-10".into(), false),
                ("2026-07-09".into(), true),
                ("2026-07-08".into(), true),
                ("2026-07-07".into(), true),
            ]
        );
        for request in &plan.requests {
            assert_eq!(
                (
                    request.company_id.as_str(),
                    request.location_id.as_str(),
                    request.attempt
                ),
                ("acme", "soho", 1)
            );
            assert_eq!(request.requested_at, "2026-07-11T03:05:00.000Z");
            assert!(crate::ids::is_valid_id(&request.request_uuid));
            assert!(request.check_ids().is_ok());
            assert!(request.business_date().is_ok());
        }
    }

    #[test]
    fn rechecks_cross_month_and_year_ends_and_can_be_turned_off() {
        let utc = FanoutTarget {
            company_id: "acme".into(),
            location_id: "hq".into(),
            mode: DayMode::Utc,
        };
        let plan = hourly_plan(&utc, "2026-03-01T00:05:00Z");
        assert_eq!(
            dates(&plan),
            vec![
                ("2026-02-28".into(), false),
                ("2026-02-27".into(), true),
                ("2026-02-26".into(), true),
                ("2026-02-25".into(), true),
            ]
        );
        let plan = plan_location(&utc, t("2026-01-01T00:30:00Z"), hour(), 1).requests;
        assert_eq!(
            dates(&plan),
            vec![("2025-12-31".into(), false), ("2025-12-30".into(), true)]
        );
        let plan = plan_location(&utc, t("2026-01-01T00:30:00Z"), hour(), 0).requests;
        assert_eq!(dates(&plan), vec![("2025-12-31".into(), false)]);
    }

    #[test]
    fn an_hour_in_which_no_day_closed_plans_nothing() {
        let london = target("soho", chrono_tz::Europe::London);
        assert!(hourly_plan(&london, "2026-07-11T04:05:00Z").is_empty());
        assert!(hourly_plan(&london, "2026-07-11T12:05:00Z").is_empty());
        // A cutoff exactly at the window's start is the previous run's (the window is (from, to]).
        assert!(closed_at(&london, "2026-07-11T04:00:00Z").is_empty());
        assert_closes(&london, "2026-07-11T03:00:00Z", "2026-07-10");
        // A zero or negative window covers nothing.
        assert!(plan(&[london], t("2026-07-11T03:05:00Z"), Duration::zero(), 3).is_empty());
    }

    #[test]
    fn london_spring_forward_2026_03_29() {
        let london = target("soho", chrono_tz::Europe::London);
        // Sat 27 Mar closes at 04:00 GMT = 04:00 UTC.
        assert_closes(&london, "2026-03-28T04:05:00Z", "2026-03-27");
        // Clocks go forward at 01:00 UTC on Sun 29: Sat 28 (23 h) closes at 04:00 BST = 03:00 UTC.
        assert!(closed_at(&london, "2026-03-29T02:05:00Z").is_empty());
        assert_closes(&london, "2026-03-29T03:05:00Z", "2026-03-28");
        assert!(closed_at(&london, "2026-03-29T04:05:00Z").is_empty());
        // Sun 29 is a normal BST day.
        assert_closes(&london, "2026-03-30T03:05:00Z", "2026-03-29");
    }

    #[test]
    fn london_fall_back_2026_10_25() {
        let london = target("soho", chrono_tz::Europe::London);
        // Fri 23 Oct closes at 04:00 BST = 03:00 UTC.
        assert_closes(&london, "2026-10-24T03:05:00Z", "2026-10-23");
        // Clocks go back at 01:00 UTC on Sun 25: Sat 24 (25 h) closes at 04:00 GMT = 04:00 UTC.
        assert!(closed_at(&london, "2026-10-25T03:05:00Z").is_empty());
        assert_closes(&london, "2026-10-25T04:05:00Z", "2026-10-24");
        assert_closes(&london, "2026-10-26T04:05:00Z", "2026-10-25");
    }

    #[test]
    fn auckland_both_dst_changes_of_2026() {
        let auckland = target("ponsonby", chrono_tz::Pacific::Auckland);
        // Summer (NZDT, UTC+13): Fri 3 Apr closes on 4 Apr at 04:00 NZDT = 3 Apr 15:00 UTC.
        assert_closes(&auckland, "2026-04-03T15:05:00Z", "2026-04-03");
        // DST ends 5 Apr 03:00 NZDT → 02:00 NZST: Sat 4 Apr (25 h) closes at 04:00 NZST = 16:00 UTC.
        assert!(closed_at(&auckland, "2026-04-04T15:05:00Z").is_empty());
        assert_closes(&auckland, "2026-04-04T16:05:00Z", "2026-04-04");
        // DST starts 27 Sep 02:00 NZST → 03:00 NZDT: Sat 26 Sep (23 h) closes at 04:00 NZDT = 15:00 UTC.
        assert_closes(&auckland, "2026-09-25T16:05:00Z", "2026-09-25");
        assert!(closed_at(&auckland, "2026-09-26T16:05:00Z").is_empty());
        assert_closes(&auckland, "2026-09-26T15:05:00Z", "2026-09-26");
    }

    #[test]
    fn a_half_hour_zone_is_caught_by_the_next_run() {
        // Fri 10 Jul closes on 11 Jul at 04:00 IST = 10 Jul 22:30 UTC, inside (22:05, 23:05].
        let mumbai = target("bandra", chrono_tz::Asia::Kolkata);
        assert_closes(&mumbai, "2026-07-10T23:05:00Z", "2026-07-10");
        assert!(closed_at(&mumbai, "2026-07-10T22:05:00Z").is_empty());
    }

    #[test]
    fn hourly_runs_close_every_day_exactly_once_across_dst_changes() {
        for tz in [
            chrono_tz::Europe::London,
            chrono_tz::Pacific::Auckland,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Kolkata,
        ] {
            let location = target("x", tz);
            for (start, days) in [("2026-03-20T00:05:00Z", 20), ("2026-09-20T00:05:00Z", 40)] {
                let fresh: Vec<NaiveDate> = (0..24 * days)
                    .flat_map(|h| {
                        plan_location(&location, t(start) + Duration::hours(h), hour(), 3).requests
                    })
                    .filter(|r| !r.force_refresh)
                    .map(|r| r.business_date().unwrap())
                    .collect();
                assert!(fresh.len() >= days as usize - 1, "{tz}");
                for pair in fresh.windows(2) {
                    assert_eq!(pair[0].succ_opt(), Some(pair[1]), "{tz}: {fresh:?}");
                }
            }
        }
    }

    #[test]
    fn a_wider_window_catches_up_with_the_same_request_ids() {
        let london = target("soho", chrono_tz::Europe::London);
        let on_time = hourly_plan(&london, "2026-07-11T03:05:00Z");
        // A run a day and a half late covering 40 h sees two closings.
        let late = plan_location(&london, t("2026-07-12T15:05:00Z"), Duration::hours(40), 3);
        assert_eq!(late.closed, vec![d("2026-07-10"), d("2026-07-11")]);
        assert_eq!(late.requests.len(), 8);
        let ids = |requests: &[TransferRequest]| {
            requests
                .iter()
                .map(|r| r.request_uuid.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&late.requests[..4]), ids(&on_time));
        assert_eq!(late.requests[0].requested_at, "2026-07-12T15:05:00.000Z");
    }

    #[test]
    fn request_ids_are_stable_and_distinct_per_location_date_and_trigger() {
        let targets = [
            target("soho", chrono_tz::Europe::London),
            target("shoreditch", chrono_tz::Europe::London),
        ];
        let first = plan(&targets, t("2026-07-11T03:05:00Z"), hour(), 3);
        let again = plan(&targets, t("2026-07-11T03:05:00Z"), hour(), 3);
        assert_eq!(
            first, again,
            "a duplicate invocation plans the same requests"
        );
        let next_day = plan(&targets, t("2026-07-12T03:05:00Z"), hour(), 3);
        let mut all: Vec<&str> = first
            .iter()
            .chain(&next_day)
            .map(|r| r.request_uuid.as_str())
            .collect();
        assert_eq!(all.len(), 16);
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            16,
            "the re-check of 9 Jul on 11 and on 12 Jul are two runs"
        );
        assert_ne!(
            request_uuid("a", "b-c", d("2026-01-01"), d("2026-01-01")),
            request_uuid("a-b", "c", d("2026-01-01"), d("2026-01-01"))
        );
    }
}
