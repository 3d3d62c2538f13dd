//! Reading fields of Lightspeed's JSON, shared by every wire mapping.

use serde_json::Value;

/// A string field trimmed, or a number as its text; blank, absent or other shapes are `None`.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
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
    }
}
