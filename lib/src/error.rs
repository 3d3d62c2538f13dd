//! The one error type use cases return, with the stable codes of SPEC §3.
//! Handlers map it at the edge: HTTP functions to the error envelope, workers to
//! retry-or-not decisions.

use crate::queue::QueueError;
use crate::secrets::SecretError;
use crate::store::StoreError;

/// Stable `code` values of the error envelope `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // request shape
    InvalidJson,
    UnsupportedMediaType,
    ValidationFailed,
    InvalidCursor,
    RouteNotFound,
    MethodNotAllowed,
    /// The request body is larger than the API accepts.
    PayloadTooLarge,
    Unauthenticated,
    UnauthorizedCompanyAccess,
    /// The route is for operators (a token with the `role: operator` claim).
    OperatorScopeRequired,
    // dead letters
    /// No dead-lettered message with this id.
    DeadLetterNotFound,
    // alerts
    AlertNotFound,
    // catalogue
    StorageUnitNotFound,
    StorageUnitCompanyMismatch,
    StorageUnitRequired,
    IngredientNotFound,
    RecipeNotFound,
    InvalidTrimPct,
    RecipeCycle,
    IngredientInUse,
    RecipeInUse,
    // connection
    InvalidState,
    LightspeedIntegrationExists,
    LightspeedOauthExchangeFailed,
    LightspeedNotConfigured,
    LightspeedAuthFailed,
    LightspeedApiError,
    IntegrationNotFound,
    // transfer
    DateRequired,
    InvalidDateFormat,
    LocationNotFound,
    MappingRequired,
    ItemNotFound,
    MappingNotFound,
    LocationHasNoStorageUnit,
    TransferInProgress,
    MaxRetriesExhausted,
    LedgerEntryNotFound,
    // migration
    LocationNotActivated,
    MigrationAlreadyInProgress,
    MigrationNotFound,
    // worker messages
    InvalidMessage,
    NotImplemented,
    // hardening
    /// A number from outside is beyond the documented bounds, or arithmetic on stored
    /// values would leave the exact decimal range.
    ValueOutOfRange,
    /// A value in one currency would be combined with a cost in another.
    CurrencyMismatch,
    /// An `Idempotency-Key` came back with a different request body.
    IdempotencyKeyReused,
    /// Concurrent writers collided (DynamoDB transaction conflict, lost version race);
    /// repeating the work later succeeds.
    WriteContention,
    // journals and the ERP
    /// The company has no account mapping yet.
    AccountMappingMissing,
    /// A day's payment method has no account.
    PaymentMethodUnmapped,
    /// A day's tax code has no account.
    TaxUnmapped,
    /// A day's accounting group (revenue) has no account.
    RevenueUnmapped,
    /// The rounding line is above the company's threshold (posted, and alerted).
    RoundingAboveThreshold,
    /// The ERP holds other lines than were sent (e.g. Odoo's automatic balancing line).
    JournalOutOfBalance,
    /// The ERP dated the move otherwise (a lock date).
    JournalDateMoved,
    JournalNotFound,
    // reconciliation (SPEC C10): exceptions reported and alerted, never a request's answer
    /// Lightspeed's figures for a day differ from the ledger's cached copy.
    UnreconciledSales,
    /// A day with sales has no standing journal, or the ERP no longer holds it posted.
    JournalMissing,
    /// A line sold at a location is mapped to nothing.
    UnmappedItem,
    /// No ERP connection is configured for the company.
    ErpNotConfigured,
    /// The ERP refused the credentials.
    ErpAuthFailed,
    /// The ERP refused the request as it is.
    ErpRejected,
    /// The ERP did not answer (5xx, timeout); retried through the queue.
    ErpUnavailable,
    // webhooks
    /// A webhook's X-Signature is missing, malformed or does not match the body.
    WebhookSignatureInvalid,
    /// A webhook's form or payload cannot be read.
    WebhookMalformed,
    /// Lightspeed did not answer (429, 5xx, timeout) where the work is retried through the queue.
    LightspeedUnavailable,
    // CSV import
    /// No saved column mapping with this id.
    CsvMappingNotFound,
    /// The file cannot be read as the mapping describes (header, no rows).
    CsvInvalid,
    /// Rows failed validation; the answer lists them and nothing was imported.
    CsvRowsInvalid,
    /// The file is not UTF-8 text.
    CsvEncodingUnsupported,
    ImportNotFound,
    /// A location with this id already exists.
    LocationExists,
    // infrastructure
    StoreUnavailable,
    QueueUnavailable,
    SecretsUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidJson => "invalid_json",
            UnsupportedMediaType => "unsupported_media_type",
            ValidationFailed => "validation_failed",
            InvalidCursor => "invalid_cursor",
            RouteNotFound => "route_not_found",
            MethodNotAllowed => "method_not_allowed",
            PayloadTooLarge => "payload_too_large",
            Unauthenticated => "unauthenticated",
            UnauthorizedCompanyAccess => "unauthorized_company_access",
            OperatorScopeRequired => "operator_scope_required",
            DeadLetterNotFound => "dead_letter_not_found",
            AlertNotFound => "alert_not_found",
            StorageUnitNotFound => "storage_unit_not_found",
            StorageUnitCompanyMismatch => "storage_unit_company_mismatch",
            StorageUnitRequired => "storage_unit_required",
            IngredientNotFound => "ingredient_not_found",
            RecipeNotFound => "recipe_not_found",
            InvalidTrimPct => "invalid_trim_pct",
            RecipeCycle => "recipe_cycle",
            IngredientInUse => "ingredient_in_use",
            RecipeInUse => "recipe_in_use",
            InvalidState => "invalid_state",
            LightspeedIntegrationExists => "lightspeed_integration_exists",
            LightspeedOauthExchangeFailed => "lightspeed_oauth_exchange_failed",
            LightspeedNotConfigured => "lightspeed_not_configured",
            LightspeedAuthFailed => "lightspeed_auth_failed",
            LightspeedApiError => "lightspeed_api_error",
            IntegrationNotFound => "integration_not_found",
            DateRequired => "date_required",
            InvalidDateFormat => "invalid_date_format",
            LocationNotFound => "location_not_found",
            MappingRequired => "mapping_required",
            ItemNotFound => "item_not_found",
            MappingNotFound => "mapping_not_found",
            LocationHasNoStorageUnit => "location_has_no_storage_unit",
            TransferInProgress => "transfer_in_progress",
            MaxRetriesExhausted => "max_retries_exhausted",
            LedgerEntryNotFound => "ledger_entry_not_found",
            LocationNotActivated => "location_not_activated",
            MigrationAlreadyInProgress => "migration_already_in_progress",
            MigrationNotFound => "migration_not_found",
            InvalidMessage => "invalid_message",
            NotImplemented => "not_implemented",
            ValueOutOfRange => "value_out_of_range",
            CurrencyMismatch => "currency_mismatch",
            IdempotencyKeyReused => "idempotency_key_reused",
            WriteContention => "write_contention",
            AccountMappingMissing => "account_mapping_missing",
            PaymentMethodUnmapped => "payment_method_unmapped",
            TaxUnmapped => "tax_unmapped",
            RevenueUnmapped => "revenue_unmapped",
            RoundingAboveThreshold => "rounding_above_threshold",
            JournalOutOfBalance => "journal_out_of_balance",
            JournalDateMoved => "journal_date_moved",
            JournalNotFound => "journal_not_found",
            UnreconciledSales => "unreconciled_sales",
            JournalMissing => "journal_missing",
            UnmappedItem => "unmapped_item",
            ErpNotConfigured => "erp_not_configured",
            ErpAuthFailed => "erp_auth_failed",
            ErpRejected => "erp_rejected",
            ErpUnavailable => "erp_unavailable",
            WebhookSignatureInvalid => "webhook_signature_invalid",
            WebhookMalformed => "webhook_malformed",
            LightspeedUnavailable => "lightspeed_unavailable",
            CsvMappingNotFound => "csv_mapping_not_found",
            CsvInvalid => "csv_invalid",
            CsvRowsInvalid => "csv_rows_invalid",
            CsvEncodingUnsupported => "csv_encoding_unsupported",
            ImportNotFound => "import_not_found",
            LocationExists => "location_exists",
            StoreUnavailable => "store_unavailable",
            QueueUnavailable => "queue_unavailable",
            SecretsUnavailable => "secrets_unavailable",
            Internal => "internal_error",
        }
    }

    /// HTTP status the admin API answers with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson | ValidationFailed | InvalidCursor | DateRequired | InvalidDateFormat
            | InvalidMessage | InvalidState => 400,
            LightspeedIntegrationExists
            | IngredientInUse
            | RecipeInUse
            | TransferInProgress
            | MigrationAlreadyInProgress => 409,
            LocationNotActivated | ValueOutOfRange | CurrencyMismatch | IdempotencyKeyReused => 422,
            WriteContention => 409,
            AccountMappingMissing
            | PaymentMethodUnmapped
            | TaxUnmapped
            | RevenueUnmapped
            | ErpNotConfigured => 422,
            RoundingAboveThreshold | JournalOutOfBalance | JournalDateMoved => 409,
            UnreconciledSales | JournalMissing | UnmappedItem => 409,
            JournalNotFound => 404,
            ErpAuthFailed => 424,
            ErpRejected | ErpUnavailable => 502,
            MaxRetriesExhausted => 502,
            LightspeedOauthExchangeFailed | LightspeedApiError => 502,
            LightspeedNotConfigured => 503,
            LightspeedAuthFailed => 424,
            StorageUnitRequired
            | MappingRequired
            | LocationHasNoStorageUnit
            | InvalidTrimPct
            | RecipeCycle
            | StorageUnitCompanyMismatch => 422,
            Unauthenticated | WebhookSignatureInvalid => 401,
            WebhookMalformed => 400,
            UnauthorizedCompanyAccess | OperatorScopeRequired => 403,
            RouteNotFound | AlertNotFound | IntegrationNotFound | StorageUnitNotFound
            | IngredientNotFound | RecipeNotFound | LocationNotFound | ItemNotFound
            | MappingNotFound | LedgerEntryNotFound | MigrationNotFound | CsvMappingNotFound
            | ImportNotFound | DeadLetterNotFound => 404,
            CsvInvalid | CsvRowsInvalid | CsvEncodingUnsupported => 422,
            LocationExists => 409,
            MethodNotAllowed => 405,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            NotImplemented => 501,
            StoreUnavailable | QueueUnavailable | SecretsUnavailable | LightspeedUnavailable => 503,
            Internal => 500,
        }
    }

    /// Whether repeating the same work later can succeed (drives SQS retry vs. drop).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::StoreUnavailable
                | ErrorCode::TransferInProgress
                | ErrorCode::WriteContention
                | ErrorCode::QueueUnavailable
                | ErrorCode::SecretsUnavailable
                | ErrorCode::ErpUnavailable
                | ErrorCode::LightspeedUnavailable
                | ErrorCode::Internal
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with a stable code and a message a person can act on.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        // The message keeps the adapter's detail for the log; the API shows a fixed text for
        // every server-side code (see `api::envelope`).
        match err {
            StoreError::Unavailable(_) => AppError::new(
                ErrorCode::StoreUnavailable,
                format!("state store unavailable, retry later: {err}"),
            ),
            StoreError::Contention(detail) => {
                tracing::info!(detail, "write contention");
                AppError::new(
                    ErrorCode::WriteContention,
                    "another request changed the same records at the same time; retry",
                )
            }
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

impl From<QueueError> for AppError {
    fn from(err: QueueError) -> Self {
        AppError::new(
            ErrorCode::QueueUnavailable,
            format!("queue unavailable, retry later: {err}"),
        )
    }
}

impl From<SecretError> for AppError {
    fn from(err: SecretError) -> Self {
        match err {
            SecretError::Unavailable(_) => AppError::new(
                ErrorCode::SecretsUnavailable,
                format!("secret store unavailable, retry later: {err}"),
            ),
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}
