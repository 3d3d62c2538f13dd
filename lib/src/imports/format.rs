//! The saved column mapping of a company's CSV files (access pattern 28, `CO#{c}` /
//! `CSVMAP#{id}`): which column holds what, how dates, decimals and delimiters are written.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode};
use crate::store::occ::Plan;
use crate::store::{self, from_item, keys, Condition, ItemStore, Key, Query, StoreError, Write};

pub const SORT_PREFIX: &str = "CSVMAP#";
/// Longest column reference, name and format text accepted.
const TEXT_MAX: usize = 100;
/// Highest column number accepted when the file has no header row.
const COLUMN_NUMBER_MAX: usize = 1000;

/// Where each field is: a header name (when the file has a header row) or a 1-based
/// column number (when it has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// The sale's date, or its date and time, as `date_format` describes.
    pub date: String,
    /// A separate time column, read with `time_format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The tillbridge location id of a CSV location.
    pub location: String,
    /// The item's code (SKU); matched first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// The item's name; used when there is no code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    pub quantity: String,
    /// Amount without tax.
    pub net: String,
    pub tax: String,
    pub payment_method: String,
    /// Rows with the same sale id (and location and day) are one sale; without it every
    /// row is a sale of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounting_group: Option<String>,
}

impl Columns {
    /// Every mapped field with its column reference.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let optional = [
            ("time", &self.time),
            ("item_code", &self.item_code),
            ("item_name", &self.item_name),
            ("sale_id", &self.sale_id),
            ("line_id", &self.line_id),
            ("tax_code", &self.tax_code),
            ("accounting_group", &self.accounting_group),
        ];
        let mut fields = vec![
            ("date", self.date.as_str()),
            ("location", self.location.as_str()),
            ("quantity", self.quantity.as_str()),
            ("net", self.net.as_str()),
            ("tax", self.tax.as_str()),
            ("payment_method", self.payment_method.as_str()),
        ];
        fields.extend(
            optional
                .into_iter()
                .filter_map(|(name, column)| column.as_deref().map(|c| (name, c))),
        );
        fields
    }
}

/// How a company's CSV files are written (the body of `PUT …/imports/mappings/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvFormat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Columns,
    /// chrono `strftime` format of the date column: a date (`%Y-%m-%d`, the default), a
    /// date and time (`%d/%m/%Y %H:%M`) or one with an offset (`%Y-%m-%dT%H:%M:%S%:z`).
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Format of the `time` column (default `%H:%M:%S`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_format: Option<String>,
    /// Zone of times written without an offset: `location` (each row's location's zone,
    /// the default) or an IANA zone such as `Europe/London`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// One character: `,` (default), `;`, a tab or `|`.
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// `.` (default) or `,`. Thousands separators are refused.
    #[serde(default = "default_decimal")]
    pub decimal_separator: String,
    /// Whether the first record names the columns (default true).
    #[serde(default = "yes")]
    pub header_row: bool,
}

fn default_date_format() -> String {
    "%Y-%m-%d".into()
}
fn default_timezone() -> String {
    "location".into()
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_decimal() -> String {
    ".".into()
}
fn yes() -> bool {
    true
}

fn invalid(message: String) -> AppError {
    AppError::validation(message)
}

/// Whether chrono can read `format` (an unknown `%` specifier is refused).
fn readable_format(format: &str) -> bool {
    !format.is_empty()
        && format.len() <= TEXT_MAX
        && chrono::format::StrftimeItems::new(format)
            .all(|item| !matches!(item, chrono::format::Item::Error))
}

impl CsvFormat {
    /// Every rule a file will be read by, checked before the mapping is saved.
    pub fn validate(&self) -> Result<(), AppError> {
        if self
            .name
            .as_ref()
            .is_some_and(|n| n.chars().count() > TEXT_MAX)
        {
            return Err(invalid(format!(
                "`name` is longer than {TEXT_MAX} characters"
            )));
        }
        let delimiter = self
            .delimiter_byte()
            .ok_or_else(|| invalid("`delimiter` must be one of `,`, `;`, `|` or a tab".into()))?;
        if !matches!(self.decimal_separator.as_str(), "." | ",") {
            return Err(invalid("`decimal_separator` must be `.` or `,`".into()));
        }
        if delimiter == b'.' {
            return Err(invalid("`delimiter` cannot be `.`".into()));
        }
        if !readable_format(&self.date_format) {
            return Err(invalid(format!(
                "`date_format` `{}` is not a chrono strftime format such as `%Y-%m-%d`",
                self.date_format
            )));
        }
        if let Some(format) = &self.time_format {
            if !readable_format(format) {
                return Err(invalid(format!(
                    "`time_format` `{format}` is not a chrono strftime format such as `%H:%M:%S`"
                )));
            }
            if self.columns.time.is_none() {
                return Err(invalid(
                    "`time_format` is set but no `columns.time` column is mapped".into(),
                ));
            }
        }
        if self.timezone != "location" && self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(format!(
                "`timezone` must be `location` or an IANA zone such as `Europe/London`, got `{}`",
                self.timezone
            )));
        }
        if self.columns.item_code.is_none() && self.columns.item_name.is_none() {
            return Err(invalid(
                "map `columns.item_code` or `columns.item_name` (or both)".into(),
            ));
        }
        for (field, column) in self.columns.fields() {
            self.check_column(field, column)?;
        }
        Ok(())
    }

    fn check_column(&self, field: &str, column: &str) -> Result<(), AppError> {
        if column.trim().is_empty() || column.chars().count() > TEXT_MAX {
            return Err(invalid(format!(
                "`columns.{field}` must name a column in 1 to {TEXT_MAX} characters"
            )));
        }
        if !self.header_row && column_number(column).is_none() {
            return Err(invalid(format!(
                "`columns.{field}` must be a column number from 1 to {COLUMN_NUMBER_MAX} when the file has no header row, got `{column}`"
            )));
        }
        Ok(())
    }

    pub fn delimiter_byte(&self) -> Option<u8> {
        match self.delimiter.as_str() {
            "," => Some(b','),
            ";" => Some(b';'),
            "|" => Some(b'|'),
            "\t" => Some(b'\t'),
            _ => None,
        }
    }
}

/// A 1-based column number, as the position it names.
pub fn column_number(column: &str) -> Option<usize> {
    column
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=COLUMN_NUMBER_MAX).contains(n))
        .map(|n| n - 1)
}

/// A saved column mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ColumnMapping {
    pub mapping_id: String,
    pub company_id: String,
    pub format: CsvFormat,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Pattern 28: the partition holding a company's column mappings.
pub fn partition(company_id: &str) -> String {
    keys::company(company_id)
}

pub fn key(company_id: &str, mapping_id: &str) -> Key {
    Key::new(partition(company_id), format!("{SORT_PREFIX}{mapping_id}"))
}

/// Pattern 28: the mapping list (a page of the company partition's `CSVMAP#` items).
pub fn list_query(company_id: &str) -> Query {
    Query::partition(partition(company_id)).begins_with(SORT_PREFIX)
}

fn not_found(mapping_id: &str) -> AppError {
    AppError::new(
        ErrorCode::CsvMappingNotFound,
        format!("column mapping `{mapping_id}` does not exist; save it with PUT /v1/companies/{{company}}/imports/mappings/{mapping_id}"),
    )
}

pub async fn get(
    store: &dyn ItemStore,
    company_id: &str,
    mapping_id: &str,
) -> Result<ColumnMapping, AppError> {
    match store.get(&key(company_id, mapping_id)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(not_found(mapping_id)),
    }
}

/// Creates or replaces the mapping (a replace is conditioned on the version read).
pub async fn put(
    store: &dyn ItemStore,
    company_id: &str,
    mapping_id: &str,
    format: CsvFormat,
    now: &str,
) -> Result<ColumnMapping, AppError> {
    format.validate()?;
    crate::store::occ::update(
        store,
        "the column mapping",
        || async { Ok(store.get(&key(company_id, mapping_id)).await?) },
        |stored| {
            let previous: Option<ColumnMapping> = stored.map(from_item).transpose()?;
            let mapping = ColumnMapping {
                mapping_id: mapping_id.to_string(),
                company_id: company_id.to_string(),
                format: format.clone(),
                created_at: previous
                    .as_ref()
                    .map_or_else(|| now.to_string(), |p| p.created_at.clone()),
                updated_at: now.to_string(),
                version: previous.as_ref().map_or(1, |p| p.version + 1),
            };
            let condition = Condition::replacing(previous.as_ref().map_or(0, |p| p.version));
            let item = store::to_item(&mapping, &key(company_id, mapping_id))?;
            Ok(Plan::one(Write::Put(item, condition), mapping))
        },
    )
    .await
}

pub async fn delete(
    store: &dyn ItemStore,
    company_id: &str,
    mapping_id: &str,
) -> Result<(), AppError> {
    match store
        .delete(&key(company_id, mapping_id), Condition::Exists)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(not_found(mapping_id)),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn format() -> CsvFormat {
        serde_json::from_value(serde_json::json!({
            "columns": {"date": "Date", "location": "Site", "item_code": "SKU", "item_name": "Item",
                        "quantity": "Qty", "net": "Net", "tax": "Tax", "payment_method": "Paid by"}
        }))
        .unwrap()
    }

    #[test]
    fn defaults_are_the_common_export() {
        let f = format();
        assert_eq!(f.date_format, "%Y-%m-%d");
        assert_eq!(f.timezone, "location");
        assert_eq!(f.delimiter_byte(), Some(b','));
        assert!(f.header_row);
        assert!(f.validate().is_ok());
    }

    #[test]
    fn every_rule_names_the_field() {
        type Change = Box<dyn Fn(&mut CsvFormat)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|f| f.delimiter = "::".into()), "delimiter"),
            (
                Box::new(|f| f.decimal_separator = "'".into()),
                "decimal_separator",
            ),
            (Box::new(|f| f.date_format = "%Q".into()), "date_format"),
            (Box::new(|f| f.timezone = "Mars/Olympus".into()), "timezone"),
            (
                Box::new(|f| f.time_format = Some("%H".into())),
                "time_format",
            ),
            (
                Box::new(|f| {
                    f.columns.item_code = None;
                    f.columns.item_name = None;
                }),
                "item_code",
            ),
            (Box::new(|f| f.columns.net = " ".into()), "columns.net"),
            (Box::new(|f| f.header_row = false), "column number"),
        ];
        for (change, named) in cases {
            let mut f = format();
            change(&mut f);
            let err = f.validate().unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed);
            assert!(err.message.contains(named), "{named}: {}", err.message);
        }
    }

    #[test]
    fn without_a_header_columns_are_numbers() {
        assert_eq!(column_number("1"), Some(0));
        assert_eq!(column_number(" 12 "), Some(11));
        assert_eq!(column_number("0"), None);
        assert_eq!(column_number("1001"), None);
        assert_eq!(column_number("Net"), None);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let typo = serde_json::json!({"columns": format().columns, "decimal_seperator": ","});
        assert!(serde_json::from_value::<CsvFormat>(typo).is_err());
    }
}
