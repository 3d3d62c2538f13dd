//! Storage units: where a location's stock issues are booked.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::records::CatalogRecord;
use super::validate;
use crate::api::openapi::schemas as doc;
use crate::error::{AppError, ErrorCode};
use crate::store::keys;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageUnit {
    pub id: String,
    pub company_id: String,
    pub name: String,
    #[schema(required)]
    pub code: Option<String>,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(schema_with = doc::time)]
    pub created_at: String,
    #[schema(schema_with = doc::time)]
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageUnitInput {
    #[schema(schema_with = doc::name_text)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = doc::code_text)]
    pub code: Option<String>,
    #[serde(default)]
    #[schema(schema_with = doc::description_text)]
    pub description: Option<String>,
}

/// Absent fields stay as they are; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageUnitPatch {
    #[serde(default)]
    #[schema(schema_with = doc::name_text)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::ingredient::double_option")]
    #[schema(schema_with = doc::code_text)]
    pub code: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::ingredient::double_option")]
    #[schema(schema_with = doc::description_text)]
    pub description: Option<Option<String>>,
}

/// GSI2 partition of a storage unit id.
pub fn owner_index(storage_unit_id: &str) -> String {
    format!("SU#{storage_unit_id}")
}

fn description(value: Option<&str>) -> Result<Option<String>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > 1000 => Err(AppError::validation(
            "`description` is longer than 1000 characters",
        )),
        Some(v) => Ok(Some(v.to_string())),
    }
}

impl CatalogRecord for StorageUnit {
    const KIND: &'static str = "storage_unit";
    const SORT_PREFIX: &'static str = keys::STORAGE_UNIT_PREFIX;
    const NOT_FOUND: ErrorCode = ErrorCode::StorageUnitNotFound;
    type Input = StorageUnitInput;
    type Patch = StorageUnitPatch;

    fn create(
        company_id: &str,
        id: String,
        input: StorageUnitInput,
        now: &str,
    ) -> Result<Self, AppError> {
        Ok(Self {
            id,
            company_id: company_id.to_string(),
            name: validate::name("name", &input.name)?,
            code: validate::optional_code("code", input.code.as_deref())?,
            description: description(input.description.as_deref())?,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        })
    }

    fn apply(&mut self, patch: StorageUnitPatch, now: &str) -> Result<(), AppError> {
        validate::some_field(&[
            ("name", patch.name.is_some()),
            ("code", patch.code.is_some()),
            ("description", patch.description.is_some()),
        ])?;
        if let Some(name) = patch.name {
            self.name = validate::name("name", &name)?;
        }
        if let Some(code) = patch.code {
            self.code = validate::optional_code("code", code.as_deref())?;
        }
        if let Some(text) = patch.description {
            self.description = description(text.as_deref())?;
        }
        self.updated_at = now.to_string();
        Ok(())
    }

    /// GSI2 finds a storage unit's owner from its id alone, so linking another company's
    /// unit is reported as a mismatch rather than "not found".
    fn index_attributes(&self) -> Vec<(&'static str, String)> {
        vec![
            (crate::store::attr::GSI2PK, owner_index(&self.id)),
            (crate::store::attr::GSI2SK, keys::company(&self.company_id)),
        ]
    }

    super::records::versioned!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> StorageUnit {
        let input = StorageUnitInput {
            name: " Main Kitchen ".into(),
            code: Some("MK".into()),
            description: None,
        };
        StorageUnit::create("acme", "su1".into(), input, "t0").unwrap()
    }

    #[test]
    fn create_validates_and_trims() {
        let su = unit();
        assert_eq!(su.name, "Main Kitchen");
        assert_eq!(su.version, 1);
        let bad = StorageUnitInput {
            name: "".into(),
            code: None,
            description: None,
        };
        assert_eq!(
            StorageUnit::create("acme", "x".into(), bad, "t0")
                .unwrap_err()
                .code,
            ErrorCode::ValidationFailed
        );
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let mut su = unit();
        let patch: StorageUnitPatch = serde_json::from_str(r#"{"name":"Bar"}"#).unwrap();
        su.apply(patch, "t1").unwrap();
        assert_eq!((su.name.as_str(), su.code.as_deref()), ("Bar", Some("MK")));
        let patch: StorageUnitPatch = serde_json::from_str(r#"{"code":null}"#).unwrap();
        su.apply(patch, "t2").unwrap();
        assert_eq!(su.code, None);
        assert_eq!(su.updated_at, "t2");
        let empty: StorageUnitPatch = serde_json::from_str("{}").unwrap();
        assert!(su.apply(empty, "t3").is_err());
    }
}
