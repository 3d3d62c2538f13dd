//! A location's transfer logs, newest business date first.

use lambda_http::{Body, Response};

use super::{partition_page, PageQuery};
use crate::deps::Deps;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::transfer::TransferLog;

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
    let query = crate::transfer::log::list_query(company_id, location_id);
    partition_page::<TransferLog>(deps.store.as_ref(), &page, query).await
}
