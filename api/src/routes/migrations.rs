//! A location's 90-day migrations: start (or re-run), list, read with its days, cancel.

use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::migration::job;
use tillbridge::migration::job::MigrationDay;
use tillbridge::migration::{start, MigrationJob};

use crate::extract::Json;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MigrationInput)]
pub struct StartInput {
    /// Re-run every day with force refresh (posting only deltas) instead of skipping done days.
    #[serde(default)]
    #[schema(default = false)]
    rerun: bool,
}

pub async fn create(
    deps: &Deps,
    input: Option<Json<StartInput>>,
    company_id: &str,
    location_id: &str,
) -> Result<Response<Body>, AppError> {
    let input = input.map(|Json(input)| input).unwrap_or_default();
    let job = start::start(
        deps.store.as_ref(),
        &deps.migration_days(),
        company_id,
        location_id,
        input.rerun,
        &tillbridge::random::uuid().to_string(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(envelope::json(201, &job))
}

pub async fn get(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    job_id: &str,
) -> Result<Response<Body>, AppError> {
    let job = job::find(deps.store.as_ref(), company_id, location_id, job_id)
        .await?
        .ok_or_else(|| start::not_found(job_id))?;
    let days = start::days(deps.store.as_ref(), job_id).await?;
    Ok(envelope::json(200, &MigrationDetail { job, days }))
}

/// A migration job with its days.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MigrationDetail {
    job: MigrationJob,
    days: Vec<MigrationDay>,
}

pub async fn cancel(
    deps: &Deps,
    company_id: &str,
    location_id: &str,
    job_id: &str,
) -> Result<Response<Body>, AppError> {
    let job = start::cancel(deps.store.as_ref(), company_id, location_id, job_id, &now()).await?;
    Ok(envelope::json(200, &job))
}
