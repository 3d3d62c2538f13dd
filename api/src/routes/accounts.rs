//! Account mappings (SPEC C9): the company document, per-location overrides, the POS's
//! payment methods and tax codes with what still needs an account, and the ERP connection.

use lambda_http::{Body, Response};
use serde_json::json;
use tillbridge::accounts::mapping::{self, AccountMapping};
use tillbridge::accounts::pos_codes;
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::erp::connection::{self, ConnectionInput};
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::location::record as location_record;

/// Everything finance needs to see on one page: the documents, the synced codes and the
/// ones no mapping covers yet, and the ERP connection (never its key).
pub async fn overview(deps: &Deps, company_id: &str) -> Result<Response<Body>, AppError> {
    let store = deps.store.as_ref();
    let company = mapping::get(store, company_id, None).await?;
    let overrides = mapping::overrides(store, company_id).await?;
    let synced = pos_codes::synced(store, company_id).await?;
    let unmapped = pos_codes::unmapped(&synced, company.as_ref().map(|c| &c.mapping), &overrides);
    let erp = connection::get(store, company_id).await?;
    let locations: Vec<_> = overrides
        .into_iter()
        .map(|(location_id, mapping)| json!({ "location_id": location_id, "mapping": mapping }))
        .collect();
    Ok(envelope::json(
        200,
        &json!({
            "company": company,
            "locations": locations,
            "pos_codes": synced,
            "unmapped": unmapped,
            "erp": erp,
        }),
    ))
}

pub async fn put_company(
    deps: &Deps,
    input: AccountMapping,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let saved = mapping::put(deps.store.as_ref(), company_id, None, input, &now()).await?;
    Ok(envelope::json(200, &saved))
}

pub async fn put_location(
    deps: &Deps,
    input: AccountMapping,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    location_record::get(deps.store.as_ref(), company_id, location_id).await?;
    let saved = mapping::put(
        deps.store.as_ref(),
        company_id,
        Some(location_id),
        input,
        &now(),
    )
    .await?;
    Ok(envelope::json(200, &saved))
}

pub async fn delete_location(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    location_record::get(deps.store.as_ref(), company_id, location_id).await?;
    mapping::delete_override(deps.store.as_ref(), company_id, location_id).await?;
    Ok(envelope::json(200, &super::DELETED))
}

pub async fn put_erp(
    deps: &Deps,
    input: ConnectionInput,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let saved = connection::save(
        deps.store.as_ref(),
        deps.secrets.as_ref(),
        &deps.config.secret_prefix,
        company_id,
        input,
        &now(),
    )
    .await?;
    Ok(envelope::json(200, &saved))
}

pub async fn get_erp(deps: &Deps, company_id: &str) -> Result<Response<Body>, AppError> {
    let saved = connection::require(deps.store.as_ref(), company_id).await?;
    Ok(envelope::json(200, &saved))
}
