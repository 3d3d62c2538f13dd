//! An X-Series outlet's register closures (from `register_closure.create` webhooks),
//! newest first.

use lambda_http::{Body, Response};

use super::{partition_page, PageQuery};
use crate::deps::Deps;
use crate::error::AppError;
use crate::location::record as location_record;
use crate::webhook::closures::{self, RegisterClosure};

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    location_record::get(deps.store.as_ref(), company_id, location_id).await?;
    let query = closures::list_query(company_id, location_id);
    partition_page::<RegisterClosure>(deps.store.as_ref(), &page, query).await
}
