//! Every list is paginated with `?limit=` and an opaque `?cursor=` (base64url JSON of the
//! store's last key). A cursor is checked against the partition being listed, so a forged
//! one cannot reach another company's items.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::Value;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::store::{attr, Item};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Serialize)]
pub struct PageBody<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A `?limit=` value: a whole number from 1 to [`MAX_LIMIT`] (else what it must be).
pub fn limit(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {MAX_LIMIT}")),
    }
}

/// `200` with one page of `items` and the cursor of the next page, if there is one.
pub fn reply<T: Serialize>(items: Vec<T>, next_cursor: Option<String>) -> Response<Body> {
    tillbridge::api::envelope::json(200, &PageBody { items, next_cursor })
}

/// `200` with one page of `items`, the next page starting after `last_key` (the store's
/// last evaluated key), if there is one.
pub fn reply_after<T: Serialize>(items: Vec<T>, last_key: Option<&Item>) -> Response<Body> {
    reply(items, encode_cursor(last_key))
}

pub fn encode_cursor(last_key: Option<&Item>) -> Option<String> {
    last_key.map(|key| URL_SAFE_NO_PAD.encode(Value::Object(key.clone()).to_string()))
}

/// Decodes a cursor and checks it belongs to `partition` (and, for index queries, that its
/// index partition attribute matches too).
pub fn decode_cursor(
    raw: Option<&str>,
    partition_attr: &str,
    partition: &str,
) -> Result<Option<Item>, AppError> {
    let Some(text) = raw else { return Ok(None) };
    let invalid = || {
        AppError::new(
            ErrorCode::InvalidCursor,
            "`cursor` is not one this list returned; start again without it",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(invalid());
    };
    let all_strings = map.values().all(Value::is_string);
    let has_keys = map.contains_key(attr::PK) && map.contains_key(attr::SK);
    if !all_strings
        || !has_keys
        || map.len() > 4
        || map.get(partition_attr).and_then(Value::as_str) != Some(partition)
    {
        return Err(invalid());
    }
    Ok(Some(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(pk: &str) -> Item {
        let Value::Object(map) = json!({"pk": pk, "sk": "SU#1"}) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn cursor_round_trips_for_its_own_partition() {
        let cursor = encode_cursor(Some(&key("CO#a"))).unwrap();
        assert_eq!(
            decode_cursor(Some(&cursor), "pk", "CO#a").unwrap(),
            Some(key("CO#a"))
        );
    }

    #[test]
    fn forged_or_foreign_cursors_are_refused() {
        let foreign = encode_cursor(Some(&key("CO#b"))).unwrap();
        for bad in [foreign.as_str(), "%%%", "bm90IGpzb24"] {
            assert_eq!(
                decode_cursor(Some(bad), "pk", "CO#a").unwrap_err().code,
                ErrorCode::InvalidCursor
            );
        }
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(limit("100").unwrap(), 100);
        for bad in ["0", "101", "-1", "x"] {
            assert!(limit(bad).is_err());
        }
    }
}
