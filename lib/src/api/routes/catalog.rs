//! Company-scoped create / list / get / update of catalogue objects.

use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;

use super::query_param;
use crate::api::pagination::{self, PageBody};
use crate::api::{body, envelope};
use crate::catalog::records::{self, CatalogRecord};
use crate::deps::Deps;
use crate::error::AppError;
use crate::handlers::now;
use crate::store::attr;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The optional `Idempotency-Key` header, bounded.
pub fn idempotency_key(request: &Request) -> Result<Option<&str>, AppError> {
    let key = request
        .headers()
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > 200) {
        return Err(AppError::validation(
            "`Idempotency-Key` must be at most 200 characters",
        ));
    }
    Ok(key)
}

pub async fn create<T>(
    deps: &Deps,
    request: &Request,
    company_id: &str,
) -> Result<Response<Body>, AppError>
where
    T: CatalogRecord,
    T::Input: DeserializeOwned,
{
    let input: T::Input = body::json(request)?;
    let key = idempotency_key(request)?;
    let created = records::create::<T>(deps.store.as_ref(), company_id, input, key, &now()).await?;
    let status = if created.replayed { 200 } else { 201 };
    Ok(envelope::json(status, &created.record.view()))
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
    request: &Request,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let limit = pagination::limit(query_param(request, "limit").as_deref())?;
    let partition = records::partition::<T>(company_id);
    let cursor = pagination::decode_cursor(
        query_param(request, "cursor").as_deref(),
        attr::PK,
        &partition,
    )?;
    let page = records::list::<T>(deps.store.as_ref(), company_id, limit, cursor).await?;
    Ok(envelope::json(
        200,
        &PageBody {
            items: page.items.iter().map(CatalogRecord::view).collect(),
            next_cursor: pagination::encode_cursor(page.last_key.as_ref()),
        },
    ))
}

pub async fn update<T>(
    deps: &Deps,
    request: &Request,
    company_id: &str,
    id: &str,
) -> Result<Response<Body>, AppError>
where
    T: CatalogRecord,
    T::Patch: DeserializeOwned + Clone,
{
    // Existence first: an unknown id is `*_not_found` whatever the body says.
    records::get::<T>(deps.store.as_ref(), company_id, id).await?;
    let patch: T::Patch = body::json(request)?;
    let record = records::update::<T>(deps.store.as_ref(), company_id, id, patch, &now()).await?;
    Ok(envelope::json(200, &record.view()))
}
