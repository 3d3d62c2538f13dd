//! The named schemas of the document: the library's ([`tillbridge::api::openapi::schemas`],
//! which the domain types refer to) and the routes' own request and response types.

use std::borrow::Cow;

use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

pub use tillbridge::api::openapi::schemas::*;

pub use crate::routes::integrations::{AuthorizationStarted, IntegrationView as Integration};
pub use crate::routes::journals::JournalQueued;
pub use crate::routes::journals::RepostInput as JournalRepostInput;
pub use crate::routes::ledger::LedgerEntryDetail;
pub use crate::routes::locations::LinkInput;
pub use crate::routes::migrations::{MigrationDetail, StartInput as MigrationInput};
pub use crate::routes::receipts::ReceiptCreated;
pub use crate::routes::reconciliation::{Kpis, RunInput as ReconciliationInput, Unreconciled};
pub use crate::routes::transfers::ManualTransfer as ManualTransferInput;
pub use crate::routes::transfers::TransferQueued;
pub use crate::routes::Deleted as MappingDeleted;
pub use crate::routes::SyncInput;

/// `?limit=`: the page size.
impl utoipa::PartialSchema for crate::routes::Limit {
    fn schema() -> RefOr<Schema> {
        let limit = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(crate::pagination::MAX_LIMIT))
            .default(Some(crate::pagination::DEFAULT_LIMIT.into()));
        RefOr::T(Schema::Object(limit.build()))
    }
}

impl utoipa::ToSchema for crate::routes::Limit {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Limit")
    }
}
