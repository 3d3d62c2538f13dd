//! CSV imports (SPEC C12): saved column mappings, uploads (with a dry run) and the import
//! list, plus creating the CSV locations the files name.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tillbridge::api::envelope;
use tillbridge::deps::Deps;
use tillbridge::error::{AppError, ErrorCode};
use tillbridge::handlers::now;
use tillbridge::imports::format::{self, ColumnMapping, CsvFormat};
use tillbridge::imports::import::{self, ImportRequest, Outcome, Refusal};
use tillbridge::imports::parse::RowError;
use tillbridge::imports::record::{self, ImportRecord};
use tillbridge::location::setup::{self, NewCsvLocation};
use utoipa::ToSchema;

use super::{flag, partition_page, PageQuery};

/// An uploaded file: the raw body of a `text/csv` request.
pub struct CsvFile(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvFile {
    type Rejection = AppError;

    async fn from_request(request: Request, _: &S) -> Result<Self, AppError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if !matches!(media, "text/csv" | "application/csv") {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "send the file as the request body with `Content-Type: text/csv`",
            ));
        }
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(crate::extract::body_error)?;
        Ok(CsvFile(bytes))
    }
}

/// `?mapping_id=…&dry_run=true|false` of an upload.
#[derive(Deserialize)]
pub struct ImportQuery {
    pub mapping_id: String,
    #[serde(default, deserialize_with = "flag")]
    pub dry_run: Option<bool>,
}

/// The answer to an upload.
#[derive(Serialize, ToSchema)]
pub struct ImportAnswer {
    /// Nothing was written: the summary is what an import would bring.
    pub dry_run: bool,
    /// This file was imported before; nothing was imported twice.
    pub already_imported: bool,
    pub import: ImportRecord,
}

/// A refused upload: the error envelope with each bad row.
#[derive(Serialize, ToSchema)]
pub struct ImportRefusal {
    pub error: RefusalBody,
}

#[derive(Serialize, ToSchema)]
pub struct RefusalBody {
    pub code: String,
    pub message: String,
    pub correlation_id: String,
    /// The first rows refused (row as a spreadsheet numbers it, header = row 1).
    pub rows: Vec<RowError>,
    /// How many row problems there are in all.
    pub rows_total: usize,
}

pub async fn upload(
    deps: &Deps,
    company_id: &str,
    query: ImportQuery,
    file: &[u8],
) -> Result<Response<Body>, AppError> {
    let request = ImportRequest {
        company_id,
        mapping_id: &query.mapping_id,
        file,
        dry_run: query.dry_run.unwrap_or(false),
        now: chrono::Utc::now(),
    };
    let outcome = import::import(deps.store.as_ref(), deps.queue.as_ref(), &request).await;
    let (status, dry_run, already_imported, import) = match outcome {
        Ok(Outcome::DryRun(import)) => (200, true, false, import),
        Ok(Outcome::Imported(import)) => (201, false, false, import),
        Ok(Outcome::AlreadyImported(import)) => (200, request.dry_run, true, import),
        Err(refusal) => return refused(refusal),
    };
    Ok(envelope::json(
        status,
        &ImportAnswer {
            dry_run,
            already_imported,
            import,
        },
    ))
}

/// A file refused for its content (422) answers the envelope with the row problems beside
/// its usual fields (none when the file as a whole is unreadable); any other refusal is the
/// plain envelope.
fn refused(refusal: Refusal) -> Result<Response<Body>, AppError> {
    let Refusal {
        error,
        rows,
        rows_total,
    } = refusal;
    if error.code.http_status() != 422 {
        return Err(error);
    }
    tracing::info!(code = %error.code, rows_total, "import refused");
    Ok(envelope::json(
        error.code.http_status(),
        &ImportRefusal {
            error: RefusalBody {
                code: error.code.as_str().to_string(),
                message: error.message,
                correlation_id: envelope::current_correlation(),
                rows,
                rows_total,
            },
        },
    ))
}

pub async fn list(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    partition_page::<ImportRecord>(deps.store.as_ref(), &page, record::list_query(company_id)).await
}

pub async fn get(
    deps: &Deps,
    company_id: &str,
    import_id: &str,
) -> Result<Response<Body>, AppError> {
    let mut import = record::get(deps.store.as_ref(), company_id, import_id).await?;
    import::with_current_mappings(deps.store.as_ref(), &mut import).await?;
    Ok(envelope::json(200, &import))
}

/// The answer to `POST …/imports/{id}/transfers`.
#[derive(Serialize, ToSchema)]
pub struct TransfersQueued {
    pub import_id: String,
    /// Location-days queued for a forced transfer.
    pub queued: usize,
}

pub async fn transfer_again(
    deps: &Deps,
    company_id: &str,
    import_id: &str,
) -> Result<Response<Body>, AppError> {
    let queued = import::transfer_again(
        deps.store.as_ref(),
        deps.queue.as_ref(),
        company_id,
        import_id,
        &now(),
    )
    .await?;
    Ok(envelope::json(
        202,
        &TransfersQueued {
            import_id: import_id.to_string(),
            queued,
        },
    ))
}

pub async fn mappings_list(
    deps: &Deps,
    page: PageQuery,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    partition_page::<ColumnMapping>(deps.store.as_ref(), &page, format::list_query(company_id))
        .await
}

pub async fn mapping_get(
    deps: &Deps,
    company_id: &str,
    mapping_id: &str,
) -> Result<Response<Body>, AppError> {
    let mapping = format::get(deps.store.as_ref(), company_id, mapping_id).await?;
    Ok(envelope::json(200, &mapping))
}

pub async fn mapping_put(
    deps: &Deps,
    input: CsvFormat,
    company_id: &str,
    mapping_id: &str,
) -> Result<Response<Body>, AppError> {
    let mapping = format::put(deps.store.as_ref(), company_id, mapping_id, input, &now()).await?;
    Ok(envelope::json(200, &mapping))
}

pub async fn mapping_delete(
    deps: &Deps,
    company_id: &str,
    mapping_id: &str,
) -> Result<Response<Body>, AppError> {
    format::delete(deps.store.as_ref(), company_id, mapping_id).await?;
    Ok(envelope::json(200, &json!({"deleted": true})))
}

pub async fn location_create(
    deps: &Deps,
    input: NewCsvLocation,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let location = setup::create_csv(deps.store.as_ref(), company_id, input, &now()).await?;
    Ok(envelope::json(201, &super::locations::view(&location)))
}

/// A page of imports (for the OpenAPI document).
#[derive(Serialize, ToSchema)]
pub struct ImportPage {
    pub items: Vec<ImportRecord>,
    pub next_cursor: Option<String>,
}

/// A page of column mappings (for the OpenAPI document).
#[derive(Serialize, ToSchema)]
pub struct ColumnMappingPage {
    pub items: Vec<ColumnMapping>,
    pub next_cursor: Option<String>,
}
