//! The named schemas of the admin API document, one Rust type each, so operations name
//! them by type (`body = doc::Ingredient`) and the document lists exactly these.
//!
//! Most are derived (`utoipa::ToSchema`) on the request and response types themselves; the
//! ones here have no Rust type of their own (a path or query string, an exact decimal
//! carried as text) and are built from their keywords in code ([`keyword_schemas!`]).
//! Those still kept as JSON in `lib/openapi/schemas.json` are listed, each with why, at
//! [`described_schemas!`]'s call.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

/// The domain's request and response types, under their names in the document (the
/// routes' own are added by `tillbridge_api::openapi::schemas`).
pub use crate::alerts::Alert;
pub use crate::catalog::ingredient::{IngredientInput, IngredientPatch};
pub use crate::catalog::receipt::{Receipt, ReceiptInput};
pub use crate::catalog::recipe::{Recipe, RecipeInput, RecipePatch};
pub use crate::catalog::storage_unit::{StorageUnit, StorageUnitInput, StorageUnitPatch};
pub use crate::connection::flow::ConnectInput;
pub use crate::dead_letters::{
    DeadLetterList, DeadLetterQueueView, DeadLetterReplayInput, DeadLetterReplayResult,
    DeadLetterReplayed, DeadLetterView,
};
pub use crate::erp::connection::{ConnectionInput as ErpConnectionInput, ErpConnection};
pub use crate::items::sync::ItemSyncSummary;
pub use crate::ledger::entry::LedgerEntry;
pub use crate::ledger::query::SourceLine;
pub use crate::location::setup::DaySettings as LocationSettings;
pub use crate::location::sync::SyncSummary as LocationSyncSummary;
pub use crate::migration::job::{MigrationDay, MigrationJob};
pub use crate::reconcile::compare::Difference;
pub use crate::reconcile::report::{DayReport, DayStatus, Exception, JournalCheck};
pub use crate::reconcile::run::{CompanyRun, RunSummary};
pub use crate::transfer::log::{RetryScheduled, TransferLog};
pub use crate::webhook::closures::RegisterClosure;

const SCHEMAS: &str = include_str!("../../../openapi/schemas.json");

/// The schema named `name` in `schemas.json`, every keyword kept as written (utoipa's model
/// has no field for some of them, such as `not` and `const`).
fn described(name: &str) -> RefOr<Schema> {
    static ALL: OnceLock<Map<String, Value>> = OnceLock::new();
    let all = ALL.get_or_init(|| serde_json::from_str(SCHEMAS).unwrap_or_default());
    let keywords = all
        .get(name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut extensions = Extensions::default();
    extensions.extend(keywords);
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .extensions(Some(extensions))
            .build(),
    ))
}

/// Field schemas several types share, named on the field:
/// `#[schema(schema_with = doc::name_text)]`.
const PRINTABLE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

const PRINTABLE_NOT_BLANK: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn string_or_null() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn date_time() -> utoipa::openapi::SchemaFormat {
    utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)
}

/// A catalogue object's name.
pub fn name_text() -> utoipa::openapi::Object {
    bounded(1, 200, PRINTABLE_NOT_BLANK)
        .description(Some("Trimmed; 1 to 200 characters, no control characters"))
        .build()
}

/// An ingredient's unit.
pub fn unit_text() -> utoipa::openapi::Object {
    bounded(1, 32, PRINTABLE_NOT_BLANK)
        .description(Some(
            "Trimmed and lower-cased; 1 to 32 printable characters",
        ))
        .build()
}

/// An optional short code (a storage unit's code, an ingredient's SKU).
pub fn code_text() -> utoipa::openapi::Object {
    string_or_null()
        .max_length(Some(64))
        .pattern(Some(PRINTABLE))
        .description(Some(
            "Trimmed; at most 64 printable characters; empty or null means none",
        ))
        .build()
}

/// An optional free text.
pub fn description_text() -> utoipa::openapi::Object {
    string_or_null()
        .max_length(Some(1000))
        .description(Some("At most 1000 characters; empty or null means none"))
        .build()
}

/// A credential or name that must not be blank.
pub fn credential_text() -> utoipa::openapi::Object {
    bounded(1, 256, "\\S").build()
}

/// A time the API sends.
pub fn time() -> utoipa::openapi::Object {
    string()
        .format(Some(date_time()))
        .description(Some("RFC 3339 time"))
        .build()
}

/// A time the API sends, or null.
pub fn time_or_null() -> utoipa::openapi::Object {
    string_or_null()
        .format(Some(date_time()))
        .description(Some("RFC 3339 time, or null"))
        .build()
}

/// The ERP's kind.
pub fn erp_kind() -> utoipa::openapi::Object {
    one_of_strings(&["odoo"]).build()
}

/// How a location's business day is cut.
pub fn day_mode() -> utoipa::openapi::Object {
    one_of_strings(&["local", "utc"]).build()
}

/// What one journal of a location covers.
pub fn journal_per() -> utoipa::openapi::Object {
    one_of_strings(&["business_day", "register_closure"]).build()
}

/// A business date.
pub fn date() -> utoipa::openapi::Object {
    business_date().build()
}

fn business_date() -> ObjectBuilder {
    string()
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Date,
        )))
        .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
}

/// A business date, or null.
pub fn date_or_null() -> utoipa::openapi::Object {
    let mut date = date();
    date.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    date
}

/// An absolute URL.
pub fn uri() -> utoipa::openapi::Object {
    string()
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
        .build()
}

/// `true`, the only value (JSON Schema's `const: true`, which utoipa's model lacks).
pub fn always_true() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// A webhook subscription's state.
pub fn subscription_status() -> utoipa::openapi::Object {
    one_of_strings(&["active", "removed", "failed"]).build()
}

/// Named schemas built from their keywords: `Name => builder,` (an [`ObjectBuilder`]).
macro_rules! keyword_schemas {
    ($($(#[doc = $doc:literal])* $name:ident => $schema:expr,)*) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object($schema.build()))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string of `min..=max` characters matching `pattern`.
fn bounded(min: usize, max: usize, pattern: &str) -> ObjectBuilder {
    string()
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
}

fn one_of_strings(values: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}

/// A company id or a query's id: what the store's keys hold.
const KEY_ID: &str = "^[A-Za-z0-9_-]+$";

/// The opaque page cursor (base64url, no padding).
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// The exact-decimal text every amount and quantity is sent as.
const DECIMAL: &str = "Exact decimal as a string: optional leading `-`, digits, optional `.digits` (no `+`, exponent, spaces or separators); at most 28 significant digits.";

const MONEY_INPUT: &str = "An exact amount, zero or more and at most 1000000000000, with at most 6 decimals, as a string. Beyond the bounds: 422 value_out_of_range.";

const PERCENT_INPUT: &str = "A percentage in [0, 100) with at most 2 decimals as an exact decimal string, or null for none (so 1 / (1 − trim) stays at most 10000).";

keyword_schemas! {
    Decimal => string()
        .pattern(Some("^-?[0-9]+(\\.[0-9]+)?$"))
        .description(Some(DECIMAL)),
    CompanyId => bounded(1, 64, KEY_ID),
    PathId => bounded(1, 200, "^[A-Za-z0-9._:~-]+$"),
    QueryId => bounded(1, 64, KEY_ID),
    Cursor => string().min_length(Some(1)).pattern(Some(CURSOR_PATTERN)),
    Flag => ObjectBuilder::new().schema_type(Type::Boolean),
    Text => string(),
    IdempotencyKey => string()
        .max_length(Some(200))
        .pattern(Some("^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$")),
    SalesLine => string().min_length(Some(1)).pattern(Some("^[^/]+/[^/]+$")),
    BusinessDate => business_date(),
    Product => one_of_strings(&["k_series", "x_series", "csv"])
        .description(Some("Where the sales come from: Lightspeed Restaurant K-Series, Retail X-Series, or CSV imports (`csv`: locations created through the admin API, never connected or synced)")),
    DeadLetterQueueName => one_of_strings(&["transfer", "migration", "sales-events", "journal"])
        .description(Some("A source queue (its dead-letter queue is `<name>-dlq`)")),
    DeadLetterKind => one_of_strings(&["transfer", "migration_day", "sales_event", "journal"]),
    AlertStatusFilter => one_of_strings(&["open", "resolved"]).default(Some("open".into())),
    DayStatusFilter => one_of_strings(&["reconciled", "exceptions", "pending"]),
    JournalStatusFilter => one_of_strings(&[
        "pending",
        "posted",
        "blocked",
        "out_of_balance",
        "date_moved",
        "failed",
        "reversed",
        "superseded",
    ]),
    CurrencyCode => string()
        .pattern(Some("^[A-Z]{3}$"))
        .description(Some("ISO 4217 currency code, e.g. GBP.")),
    MoneyInput => bounded(
        1,
        20,
        "^(1000000000000(\\.0{1,6})?|[0-9]{1,12}(\\.[0-9]{1,6})?)$",
    )
    .description(Some(MONEY_INPUT)),
    PercentInput => ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some("^[0-9]{1,2}(\\.[0-9]{1,2})?$"))
        .description(Some(PERCENT_INPUT)),
    TimeZone => string()
        .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
        .description(Some("An IANA time zone name (case-sensitive)")),
    IntegrationPage => ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "items",
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name("Integration"))
                .max_items(Some(2)),
        )
        .property("next_cursor", ObjectBuilder::new().schema_type(Type::Null))
        .required("items")
        .required("next_cursor")
        .description(Some(
            "Every integration of the company (at most one per product), in one page.",
        )),
    OpenApiDocument => ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("openapi", string().pattern(Some("^3\\.1\\.")))
        .property("info", ObjectBuilder::new().schema_type(Type::Object))
        .property("paths", ObjectBuilder::new().schema_type(Type::Object))
        .required("openapi")
        .required("info")
        .required("paths")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(true))),
}

/// The `anyOf` of named schemas: `Name => ["A", "B"],`.
macro_rules! any_of_schemas {
    ($($(#[doc = $doc:literal])* $name:ident => [$($item:literal),*],)*) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let any_of = utoipa::openapi::schema::AnyOfBuilder::new()
                    $(.item(utoipa::openapi::Ref::from_schema_name($item)))*;
                RefOr::T(Schema::AnyOf(any_of.build()))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

any_of_schemas! {
    /// A manual transfer's `202`: queued, or failed with a retry scheduled.
    TransferAccepted => ["TransferQueued", "TransferResult"],
    /// A failed transfer attempt's answer: the error envelope, or its result.
    TransferFailure => ["Error", "TransferResult"],
}

/// Amounts and quantities are sent as exact decimals.
macro_rules! decimal_schema {
    ($($ty:ty),*) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                <Decimal as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed("Decimal")
            }
        }
    )*};
}

decimal_schema!(crate::money::Money, crate::money::Quantity);

/// The `{items, next_cursor}` body of a list (`tillbridge_api::pagination::PageBody`), one
/// named schema per item type: `Name => (Item, "description"),`.
macro_rules! page_schemas {
    ($($name:ident => ($item:ty, $description:literal),)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                page(<$item as utoipa::ToSchema>::name(), $description)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

fn page(item: Cow<'static, str>, description: &str) -> RefOr<Schema> {
    let next_cursor = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(CURSOR_PATTERN))
        .description(Some(
            "Pass as `cursor` to get the next page; null on the last page.",
        ));
    let items = utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(item));
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("items", items)
            .property("next_cursor", next_cursor)
            .required("items")
            .required("next_cursor")
            .description(Some(description))
            .build(),
    ))
}

page_schemas! {
    StorageUnitPage => (StorageUnit, "One page of storage units"),
    IngredientPage => (Ingredient, "One page of ingredients"),
    RecipePage => (Recipe, "One page of recipes"),
    ReceiptPage => (Receipt, "One page of an ingredient's receipts, oldest first"),
    AlertPage => (Alert, "One page of alerts"),
    ItemPage => (Item, "One page of items"),
    LocationPage => (Location, "One page of locations"),
    TransferLogPage => (TransferLog, "One page of transfer logs, newest first"),
    MigrationJobPage => (MigrationJob, "One page of migration jobs, newest first"),
    LedgerPage => (LedgerEntry, "One page of ledger entries (sales_line queries answer in one page)"),
    JournalPage => (Journal, "One page of journals"),
    DayReportPage => (DayReport, "One page of reconciliation reports, by location and date"),
    RegisterClosurePage => (RegisterClosure, "One page of register closures, newest first"),
}

macro_rules! described_schemas {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` schema.")]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                described(stringify!($name))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

described_schemas!(
    // Keyword-only: JSON Schema that utoipa's model cannot say.
    // `oneOf` branches that each require one of two optional fields (exactly one target).
    RecipeLine,
    MappingInput,
    // `not` (a quantity greater than zero, as text).
    QuantityInput,
    // `propertyNames` (currency codes; skip reasons) on maps.
    Ingredient,
    TransferStats,
    // A `#[serde(flatten)]`ed totals struct, which utoipa would describe as an open `allOf`.
    CostView,
    // The curated list of codes a caller can meet (the envelope's and a transfer's); there
    // is no list of `ErrorCode` values to derive it from yet.
    Error,
    TransferError,
    // Not derived yet. Most are answers built as `serde_json::Value` (a record with fields
    // removed or added, or `json!`) that need a named view type first.
    TransferResult,
    RecipeLineView,
    Explosion,
    MappingView,
    Item,
    Location,
    LocationDetail,
    Activation,
    Journal,
    AccountMappingInput,
    AccountMapping,
    AccountMappingOverview,
    PosCodes,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_described_schema_has_a_body() {
        let all: Map<String, Value> = serde_json::from_str(SCHEMAS).unwrap_or_default();
        assert!(!all.is_empty(), "{} schemas", all.len());
        assert!(all.values().all(Value::is_object));
    }
}
