//! The size and character bounds every request input is held to before any store call,
//! checked once here so every route gets them (the OpenAPI document states the same):
//!
//! * a path parameter (other than `company_id`, which is 1–64 of `A-Z a-z 0-9 - _`) is
//!   1–[`ID_MAX`] characters of `A-Z a-z 0-9 - _ . : ~`;
//! * a query parameter is at most [`QUERY_MAX`] characters (`cursor`: [`CURSOR_MAX`]); one
//!   named `*_id` follows the path-parameter rule;
//! * in a JSON body, a string under a key named `id` or `*_id` is at most [`ID_MAX`]
//!   characters, any other string at most [`TEXT_MAX`]; objects and arrays nest at most
//!   [`DEPTH_MAX`] deep. Fields have tighter rules of their own (names: 200).
//!
//! Anything outside is `400 validation_failed`. Ids become parts of DynamoDB keys, whose
//! limits (2,048 bytes partition, 1,024 sort) these keep well clear of.

use serde_json::Value;
use tillbridge::error::AppError;

pub const ID_MAX: usize = 200;
pub const TEXT_MAX: usize = 1_000;
pub const QUERY_MAX: usize = 1_000;
pub const CURSOR_MAX: usize = 4_096;
pub const DEPTH_MAX: usize = 16;

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '~')
}

/// An identifier from a path or a query: 1–200 characters of `A-Za-z0-9-_.:~`.
pub fn is_valid_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= ID_MAX && value.chars().all(id_char)
}

pub fn path_param(name: &str, value: &str) -> Result<(), AppError> {
    if is_valid_id(value) {
        Ok(())
    } else {
        Err(AppError::validation(format!(
            "path parameter `{name}` must be 1 to {ID_MAX} characters of letters, digits, '-', '_', '.', ':' or '~'"
        )))
    }
}

pub fn query_param(name: &str, value: &str) -> Result<(), AppError> {
    let max = if name == "cursor" {
        CURSOR_MAX
    } else {
        QUERY_MAX
    };
    if name.ends_with("_id") && !is_valid_id(value) {
        return Err(AppError::validation(format!(
            "query parameter `{name}` must be 1 to {ID_MAX} characters of letters, digits, '-', '_', '.', ':' or '~'"
        )));
    }
    if value.chars().count() > max || name.chars().count() > QUERY_MAX {
        return Err(AppError::validation(format!(
            "query parameter `{}` is longer than {max} characters",
            name.chars().take(64).collect::<String>()
        )));
    }
    Ok(())
}

/// Checks every string of a JSON body against its bound; `path` names the place.
pub fn body(value: &Value) -> Result<(), AppError> {
    walk(value, "", None, 0)
}

fn walk(value: &Value, path: &str, key: Option<&str>, depth: usize) -> Result<(), AppError> {
    if depth > DEPTH_MAX {
        return Err(AppError::validation(format!(
            "the body nests deeper than {DEPTH_MAX} levels"
        )));
    }
    match value {
        Value::String(text) => {
            let is_id = key.is_some_and(|k| k == "id" || k.ends_with("_id"));
            let max = if is_id { ID_MAX } else { TEXT_MAX };
            if text.chars().count() > max {
                return Err(AppError::validation(format!(
                    "`{}` is longer than {max} characters",
                    if path.is_empty() { "/" } else { path }
                )));
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| walk(item, &format!("{path}/{i}"), key, depth + 1)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            if k.chars().count() > ID_MAX {
                return Err(AppError::validation(format!(
                    "a field name under `{}` is longer than {ID_MAX} characters",
                    if path.is_empty() { "/" } else { path }
                )));
            }
            walk(v, &format!("{path}/{k}"), Some(k), depth + 1)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_ids_are_bounded_and_charset_checked() {
        assert!(path_param("id", "0b6c-4e:2026-01-01:x_1.v~2").is_ok());
        for bad in [
            String::new(),
            "1".repeat(3_000),
            "a#b".into(),
            "a/b".into(),
            "a%20b".into(),
            "é".into(),
        ] {
            assert!(path_param("item_id", &bad).is_err(), "{bad}");
        }
        assert!(path_param("item_id", &"1".repeat(ID_MAX)).is_ok());
    }

    #[test]
    fn body_strings_are_bounded() {
        assert!(body(&json!({"name": "x".repeat(TEXT_MAX), "target_id": "t"})).is_ok());
        let err = body(&json!({"lines": [{"note": "x".repeat(TEXT_MAX + 1)}]})).unwrap_err();
        assert!(err.message.contains("/lines/0/note"), "{}", err.message);
        assert!(body(&json!({"target_id": "x".repeat(ID_MAX + 1)})).is_err());
        let mut deep = json!(1);
        for _ in 0..=DEPTH_MAX {
            deep = json!([deep]);
        }
        assert!(body(&deep).is_err());
    }

    #[test]
    fn query_values_are_bounded() {
        assert!(query_param("storage_unit_id", "su-1").is_ok());
        assert!(query_param("storage_unit_id", &"1".repeat(ID_MAX + 1)).is_err());
        assert!(query_param("storage_unit_id", "a#b").is_err());
        assert!(query_param("from", &"x".repeat(QUERY_MAX + 1)).is_err());
        assert!(query_param("cursor", &"x".repeat(CURSOR_MAX)).is_ok());
    }
}
