//! The named schemas of the admin API document, one Rust type each, so operations name
//! them by type (`body = doc::Ingredient`) and the document lists exactly these.
//!
//! Their JSON Schema bodies are kept in `lib/openapi/schemas.json`: they carry bounds,
//! patterns and exact-decimal rules that the serde types alone do not express.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::SchemaType;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

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
    Error,
    Decimal,
    StorageUnitInput,
    StorageUnitPatch,
    IngredientInput,
    IngredientPatch,
    ReceiptInput,
    RecipeLine,
    RecipeInput,
    RecipePatch,
    SyncInput,
    LocationSettings,
    LinkInput,
    MappingInput,
    ConnectInput,
    ManualTransferInput,
    TransferResult,
    Product,
    StorageUnit,
    StorageUnitPage,
    Ingredient,
    IngredientPage,
    RecipeLineView,
    Recipe,
    RecipePage,
    Explosion,
    Receipt,
    ReceiptPage,
    ReceiptCreated,
    Alert,
    AlertPage,
    Integration,
    IntegrationPage,
    AuthorizationStarted,
    MappingView,
    Item,
    ItemPage,
    ItemSyncSummary,
    MappingDeleted,
    Location,
    LocationPage,
    LocationSyncSummary,
    LocationDetail,
    Activation,
    TransferStats,
    TransferError,
    RetryScheduled,
    TransferLog,
    TransferLogPage,
    TransferQueued,
    MigrationJob,
    MigrationJobPage,
    MigrationDay,
    MigrationDetail,
    LedgerEntry,
    LedgerPage,
    SourceLine,
    LedgerEntryDetail,
    OpenApiDocument,
    PercentInput,
    TimeZone,
    MigrationInput,
    CompanyId,
    PathId,
    QueryId,
    QuantityInput,
    MoneyInput,
    CurrencyCode,
    CostView,
    Limit,
    Cursor,
    AlertStatusFilter,
    Flag,
    Text,
    IdempotencyKey,
    SalesLine,
    BusinessDate,
    TransferAccepted,
    TransferFailure,
    AccountMappingInput,
    AccountMapping,
    AccountMappingOverview,
    PosCodes,
    ErpConnectionInput,
    ErpConnection,
    Journal,
    JournalPage,
    JournalStatusFilter,
    JournalRepostInput,
    JournalQueued,
    RegisterClosure,
    RegisterClosurePage,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_described_schema_has_a_body() {
        let all: Map<String, Value> = serde_json::from_str(SCHEMAS).unwrap_or_default();
        assert!(all.len() >= 70, "{} schemas", all.len());
        assert!(all.values().all(Value::is_object));
    }
}
