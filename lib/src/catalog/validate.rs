//! Pure field rules shared by catalogue objects.

use crate::error::AppError;

pub const NAME_MAX: usize = 200;
pub const CODE_MAX: usize = 64;
pub const UNIT_MAX: usize = 32;

/// Trims and checks a required display name.
/// A partial update must send at least one of its `fields` (name, present).
pub fn some_field(fields: &[(&str, bool)]) -> Result<(), AppError> {
    if fields.iter().any(|(_, present)| *present) {
        return Ok(());
    }
    let names: Vec<String> = fields.iter().map(|(name, _)| format!("`{name}`")).collect();
    Err(AppError::validation(format!(
        "nothing to update: send at least one of {}",
        names.join(", ")
    )))
}

pub fn name(field: &str, value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::validation(format!("`{field}` must not be empty")));
    }
    if trimmed.chars().count() > NAME_MAX {
        return Err(AppError::validation(format!(
            "`{field}` is longer than {NAME_MAX} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::validation(format!(
            "`{field}` must not contain control characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// Trims an optional short code; empty means "none".
pub fn optional_code(field: &str, value: Option<&str>) -> Result<Option<String>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > CODE_MAX || v.chars().any(char::is_control) => {
            Err(AppError::validation(format!(
                "`{field}` must be at most {CODE_MAX} printable characters"
            )))
        }
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// Units are free text chosen by operations (kg, bottle, piece…), normalised to lower case.
pub fn unit(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty()
        || trimmed.chars().count() > UNIT_MAX
        || trimmed.chars().any(|c| c.is_control())
    {
        return Err(AppError::validation(format!(
            "`unit` must be 1 to {UNIT_MAX} printable characters, e.g. \"kg\", \"piece\""
        )));
    }
    Ok(trimmed.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Main Kitchen ").unwrap(), "Main Kitchen");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(NAME_MAX + 1)).is_err());
        assert!(name("name", &"é".repeat(NAME_MAX)).is_ok());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn codes_are_optional() {
        assert_eq!(optional_code("code", Some("  ")).unwrap(), None);
        assert_eq!(
            optional_code("code", Some(" K1 ")).unwrap(),
            Some("K1".into())
        );
        assert!(optional_code("code", Some(&"x".repeat(CODE_MAX + 1))).is_err());
    }

    #[test]
    fn units_are_lower_case() {
        assert_eq!(unit(" KG ").unwrap(), "kg");
        assert!(unit("").is_err());
    }
}
