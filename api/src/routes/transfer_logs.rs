//! A location's transfer logs, newest business date first.

use lambda_http::{Body, Response};
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::ids;
use tillbridge::transfer::TransferLog;

use super::{partition_page, PageQuery};

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    if !ids::is_valid_id(location_id) {
        return Err(AppError::new(
            ErrorCode::LocationNotFound,
            "location id is malformed",
        ));
    }
    let query = tillbridge::transfer::log::list_query(company_id, location_id);
    partition_page::<TransferLog>(deps.store.as_ref(), &page, query).await
}
