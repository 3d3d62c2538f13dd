//! Reading fields of Lightspeed's JSON, shared by every wire mapping.

use compact_str::CompactString;
use serde_json::Value;

/// A string field trimmed, or a number as its text; blank, absent or other shapes are `None`.
pub fn text(value: &Value) -> Option<String> {
    compact_text(value).map(CompactString::into_string)
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
        assert_eq!(text(&serde_json::json!([1])), None);
        let long = serde_json::json!(" a string longer than twenty-four bytes ");
        assert_eq!(
            compact_text(&long).as_deref(),
            Some("a string longer than twenty-four bytes")
        );
        assert_eq!(
            compact_text(&serde_json::json!(1.5)).as_deref(),
            Some("1.5")
        );
        assert_eq!(compact_text(&serde_json::json!(" ")), None);
    }
}
