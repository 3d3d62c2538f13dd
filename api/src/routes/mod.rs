pub mod accounts;
pub mod alerts;
pub mod catalog;
pub mod dead_letters;
pub mod imports;
pub mod integrations;
pub mod items;
pub mod journals;
pub mod ledger;
pub mod locations;
pub mod migrations;
pub mod receipts;
pub mod recipes;
pub mod reconciliation;
pub mod transfer_logs;
pub mod transfers;

use lambda_http::{Body, Response};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use tillbridge::api::envelope;
use tillbridge::connection::source::SyncScope;
use tillbridge::connection::PosProduct;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::store::{attr, from_item, ItemStore, Query};
use utoipa::IntoParams;

use crate::openapi::schemas as doc;
use crate::pagination;

/// What a route answers: a response, or the error its envelope reports.
pub type Answer = Result<Response<Body>, AppError>;

/// `?limit=` and `?cursor=` of a plain list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 50).
    #[serde(default)]
    #[param(value_type = Option<Limit>)]
    pub limit: Limit,
    /// Opaque cursor from the previous page's next_cursor.
    #[param(value_type = Option<doc::Cursor>)]
    pub cursor: Option<String>,
}

/// A `?limit=` value: a whole number from 1 to [`pagination::MAX_LIMIT`], by default
/// [`pagination::DEFAULT_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub struct Limit(pub u32);

impl Default for Limit {
    fn default() -> Self {
        Self(pagination::DEFAULT_LIMIT)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        pagination::limit(&text).map(Self).map_err(D::Error::custom)
    }
}

/// A `true` / `false` query filter.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.as_str() {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        other => Err(D::Error::custom(format!(
            "must be `true` or `false`, not `{other}`"
        ))),
    }
}

/// A page of one of a location's lists (`query` names its partition by company and
/// location): an unknown location is `location_not_found`, not an empty page.
pub async fn location_page<T: DeserializeOwned + Serialize>(
    deps: &Deps,
    page: &PageQuery,
    (company_id, location_id): (&str, &str),
    query: fn(&str, &str) -> Query,
) -> Result<Response<Body>, AppError> {
    tillbridge::location::record::get(deps.store.as_ref(), company_id, location_id).await?;
    partition_page::<T>(deps.store.as_ref(), page, query(company_id, location_id)).await
}

/// One page of a table partition's records as `{items, next_cursor}`: the request's `limit`
/// and `cursor` applied to `query` (the cursor must belong to its partition).
pub async fn partition_page<T: DeserializeOwned + Serialize>(
    store: &dyn ItemStore,
    page: &PageQuery,
    mut query: Query,
) -> Result<Response<Body>, AppError> {
    query.limit = page.limit.0;
    query.start_after = pagination::decode_cursor(page.cursor.as_deref(), attr::PK, &query.pk)?;
    let page = store.query(&query).await?;
    let items = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<Vec<T>, _>>()?;
    Ok(pagination::reply_after(items, page.last_key.as_ref()))
}

/// `{"deleted": true}`: the answer of a removal.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MappingDeleted)]
pub struct Deleted {
    #[schema(schema_with = doc::always_true)]
    deleted: bool,
}

pub const DELETED: Deleted = Deleted { deleted: true };

/// A sync request body: `{"product": "k_series" | "x_series"}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncInput {
    #[schema(value_type = doc::Product)]
    product: String,
}

impl SyncInput {
    pub fn product(&self) -> Result<PosProduct, AppError> {
        PosProduct::parse_lightspeed(&self.product)
    }
}

/// A `…/sync` route: the body's product synced from Lightspeed by `sync` (items,
/// locations or payment and tax codes), its summary `200`.
pub async fn synced<'a, R, Fut>(
    deps: &'a Deps,
    company_id: &'a str,
    now: &'a str,
    input: SyncInput,
    sync: impl FnOnce(SyncScope<'a>) -> Fut,
) -> Result<Response<Body>, AppError>
where
    R: Serialize,
    Fut: std::future::Future<Output = Result<R, AppError>>,
{
    let summary = sync(SyncScope {
        store: deps.store.as_ref(),
        source: deps.catalog.as_ref(),
        company_id,
        product: input.product()?,
        now,
    })
    .await?;
    Ok(envelope::json(200, &summary))
}
