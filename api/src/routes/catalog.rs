//! Company-scoped create / list / get / update of catalogue objects.

use lambda_http::{Body, Response};
use tillbridge::api::envelope;
use tillbridge::catalog::records::{self, CatalogRecord, Created};
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::store::attr;

use super::PageQuery;
use crate::extract::{IdempotencyKey, Json};
use crate::pagination;

pub async fn create<T>(
    deps: &Deps,
    input: T::Input,
    key: IdempotencyKey,
    company_id: &str,
) -> Result<Response<Body>, AppError>
where
    T: CatalogRecord,
{
    let store = deps.store.as_ref();
    let result = records::create::<T>(store, company_id, input, key.as_deref(), &now()).await?;
    Ok(created(result))
}

/// `201` with the new record, or `200` with the one an idempotency key returned.
pub fn created<T: CatalogRecord>(created: Created<T>) -> Response<Body> {
    let status = if created.replayed { 200 } else { 201 };
    envelope::json(status, &created.record.view())
}

pub async fn get<T: CatalogRecord>(
    deps: &Deps,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let record = records::get::<T>(deps.store.as_ref(), company_id, id).await?;
    Ok(envelope::json(200, &record.view()))
}

pub async fn list<T: CatalogRecord>(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let partition = records::partition::<T>(company_id);
    let cursor = pagination::decode_cursor(page.cursor.as_deref(), attr::PK, &partition)?;
    let page = records::list::<T>(deps.store.as_ref(), company_id, page.limit.0, cursor).await?;
    Ok(pagination::reply_after(
        page.items.iter().map(CatalogRecord::view).collect(),
        page.last_key.as_ref(),
    ))
}

pub async fn update<T>(
    deps: &Deps,
    patch: Result<Json<T::Patch>, AppError>,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError>
where
    T: CatalogRecord,
    T::Patch: Clone,
{
    // Existence first: an unknown id is `*_not_found` whatever the body says.
    records::get::<T>(deps.store.as_ref(), company_id, id).await?;
    let Json(patch) = patch?;
    let record = records::update::<T>(deps.store.as_ref(), company_id, id, patch, &now()).await?;
    Ok(envelope::json(200, &record.view()))
}
