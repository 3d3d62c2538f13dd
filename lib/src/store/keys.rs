//! Every key of the single table, built in one place. The layout and the access pattern
//! each key serves are in `ACCESS_PATTERNS.md` beside this file; change both together.

use super::Key;

pub fn company(company_id: &str) -> String {
    format!("CO#{company_id}")
}

pub const STORAGE_UNIT_PREFIX: &str = "SU#";
pub const INGREDIENT_PREFIX: &str = "ING#";

/// A catalogue object: its company's partition, its kind's sort prefix and its id.
pub fn catalog(company_id: &str, sort_prefix: &str, id: &str) -> Key {
    Key::new(company(company_id), format!("{sort_prefix}{id}"))
}

pub fn storage_unit(company_id: &str, storage_unit_id: &str) -> Key {
    catalog(company_id, STORAGE_UNIT_PREFIX, storage_unit_id)
}

pub fn ingredient(company_id: &str, ingredient_id: &str) -> Key {
    catalog(company_id, INGREDIENT_PREFIX, ingredient_id)
}

pub const LOCATION_PREFIX: &str = "LOC#";

pub fn location(company_id: &str, location_id: &str) -> Key {
    Key::new(
        company(company_id),
        format!("{LOCATION_PREFIX}{location_id}"),
    )
}

/// Partition of one location's transfer logs; sort key orders them by business date.
pub fn transfer_logs(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#TLOG")
}

pub fn transfer_log(
    company_id: &str,
    location_id: &str,
    business_date: &str,
    started_at: &str,
    log_id: &str,
) -> Key {
    Key::new(
        transfer_logs(company_id, location_id),
        format!("{business_date}#{started_at}#{log_id}"),
    )
}

/// Sparse GSI1 partition holding only the failed transfer logs of a location.
pub fn failed_transfer_logs(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#TLOG_FAILED")
}

/// GSI2 partition finding everything one request (correlation id) produced.
pub fn request(request_uuid: &str) -> String {
    format!("REQ#{request_uuid}")
}

/// Worker inbox record: at-least-once delivery made exactly-once per business key.
pub fn inbox(queue: &str, dedupe_key: &str) -> Key {
    Key::new(format!("MSG#{queue}#{dedupe_key}"), "INBOX")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_objects_share_the_company_partition_with_distinct_prefixes() {
        let su = storage_unit("acme", "1");
        let ing = ingredient("acme", "1");
        assert_eq!(su.pk, ing.pk);
        assert_eq!(su.sk, "SU#1");
        assert_eq!(ing.sk, "ING#1");
        assert_ne!(storage_unit("acme", "1").pk, storage_unit("other", "1").pk);
    }

    #[test]
    fn transfer_logs_sort_by_business_date() {
        let a = transfer_log("c", "l", "2026-01-02", "2026-01-03T04:00:00Z", "x");
        let b = transfer_log("c", "l", "2026-01-10", "2026-01-03T04:00:00Z", "a");
        assert!(a.sk < b.sk);
        assert_eq!(a.pk, b.pk);
    }
}
