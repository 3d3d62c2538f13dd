//! Reading fields of Lightspeed's JSON, shared by every wire mapping.

use compact_str::CompactString;
use serde_json::Value;

/// A string field trimmed, or a number as its text; blank, absent or other shapes are `None`.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// [`text`] as a [`CompactString`]: no allocation for the short ids, codes and names sales
/// lines are made of.
pub fn compact_text(value: &Value) -> Option<CompactString> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().into()),
        Value::Number(n) => Some(compact_str::format_compact!("{n}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_strings_and_numbers_only() {
        assert_eq!(text(&serde_json::json!(" a ")), Some("a".into()));
        assert_eq!(text(&serde_json::json!(12)), Some("12".into()));
        assert_eq!(text(&serde_json::json!("  ")), None);
        assert_eq!(text(&serde_json::json!(null)), None);
        assert_eq!(text(&serde_json::json!({"a": 1})), None);
        for value in [
            serde_json::json!(" a "),
            serde_json::json!(12),
            serde_json::json!(" "),
            serde_json::json!(null),
            serde_json::json!([1]),
            serde_json::json!(" a string longer than twenty-four bytes "),
        ] {
            assert_eq!(
                compact_text(&value).as_deref(),
                text(&value).as_deref(),
                "{value}"
            );
        }
    }
}
