//! Identifier rules shared by every entity: ids are generated server side unless a
//! caller's `Idempotency-Key` makes them deterministic.

use uuid::Uuid;

/// Namespace for deterministic ids derived from a company and a client's idempotency key.
const IDEMPOTENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5d1c_4b0e_7a0f_4e58_9c39_1f0b_2a6e_7c11);

/// A new random id, or the same id every time for the same (company, kind, key), so a
/// retried create never makes a second object.
pub fn new_id(company_id: &str, kind: &str, idempotency_key: Option<&str>) -> String {
    match idempotency_key {
        Some(key) => Uuid::new_v5(
            &IDEMPOTENT_ID_NAMESPACE,
            format!("{company_id}\u{1f}{kind}\u{1f}{key}").as_bytes(),
        )
        .to_string(),
        None => crate::random::uuid().to_string(),
    }
}

/// Attribute holding the fingerprint of the request that created an object under an
/// `Idempotency-Key`.
pub const REQUEST_FINGERPRINT_ATTR: &str = "request_fingerprint";

/// SHA-256 of a request's parsed body (its typed input, serialised in field order), so
/// the same request with other spacing or key order has the same fingerprint.
pub fn request_fingerprint<T: serde::Serialize>(input: &T) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(text))
}

/// A replay under the same `Idempotency-Key` must carry the same request: another body is
/// refused rather than answered with the first result as if it had been applied.
pub fn check_replay(
    stored: &serde_json::Map<String, serde_json::Value>,
    fingerprint: &str,
) -> Result<(), crate::error::AppError> {
    match stored
        .get(REQUEST_FINGERPRINT_ATTR)
        .and_then(|v| v.as_str())
    {
        // Objects created before fingerprints were kept cannot be compared.
        None => Ok(()),
        Some(first) if first == fingerprint => Ok(()),
        Some(_) => Err(crate::error::AppError::new(
            crate::error::ErrorCode::IdempotencyKeyReused,
            "this `Idempotency-Key` was already used with a different request body; use a \
             new key for a different request",
        )),
    }
}

/// Company ids and other path ids: short, URL-safe, and never able to break a key layout.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A queue message's ids, which go into table keys: one malformed id makes the whole
/// message unusable (`invalid_message`, naming the field).
pub fn check_message_ids(fields: &[(&str, &str)]) -> Result<(), crate::error::AppError> {
    match fields.iter().find(|(_, value)| !is_valid_id(value)) {
        Some((field, _)) => Err(crate::error::AppError::new(
            crate::error::ErrorCode::InvalidMessage,
            format!("`{field}` must be 1-64 letters, digits, '-' or '_'"),
        )),
        None => Ok(()),
    }
}

/// A calendar date written exactly as `YYYY-MM-DD` (no single-digit parts, no February 30).
pub fn strict_date(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_gives_a_stable_id_per_company_and_kind() {
        let a = new_id("acme", "storage_unit", Some("k1"));
        assert_eq!(a, new_id("acme", "storage_unit", Some("k1")));
        assert_ne!(a, new_id("other", "storage_unit", Some("k1")));
        assert_ne!(a, new_id("acme", "ingredient", Some("k1")));
        assert_ne!(new_id("acme", "x", None), new_id("acme", "x", None));
    }

    #[test]
    fn ids_must_be_url_safe() {
        assert!(is_valid_id("acme-group_01"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a#b"));
        assert!(!is_valid_id("a/b"));
        assert!(!is_valid_id(&"x".repeat(65)));
    }
}
