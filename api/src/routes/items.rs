//! POS items: sync from Lightspeed, the item list with its "mapped to" column and filters,
//! and each item's mapping.

use std::collections::HashMap;

use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tillbridge::api::envelope;
use tillbridge::connection::PosProduct;
use tillbridge::deps::Deps;
use tillbridge::error::AppError;
use tillbridge::handlers::now;
use tillbridge::items::record::{self, PosItem};
use tillbridge::mapping::record::{self as mapping, Mapping};
use tillbridge::mapping::setup::{self, MappingInput};
use tillbridge::store::{attr, from_item};
use utoipa::IntoParams;

use super::{flag, PageQuery};
use crate::extract::Json;
use crate::openapi::schemas as doc;
use crate::pagination;

fn mapping_view(mapping: &Mapping) -> Value {
    json!({
        "target_kind": mapping.target_kind,
        "target_id": mapping.target_id,
        "quantity": mapping.quantity,
        "is_subtraction": mapping.is_subtraction,
        "updated_at": mapping.updated_at,
    })
}

fn item_view(item: &PosItem, mapping: Option<&Mapping>) -> Value {
    let mut value = serde_json::to_value(item).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
        map.insert(
            "mapped_to".into(),
            mapping.map(mapping_view).unwrap_or(Value::Null),
        );
    }
    value
}

/// The item list's filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilters {
    /// true/false
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<doc::Flag>)]
    pub mapped: Option<bool>,
    /// true/false
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<doc::Flag>)]
    pub active: Option<bool>,
    /// Only items sold at this location
    #[param(value_type = Option<doc::Text>)]
    pub location_id: Option<String>,
    /// k_series or x_series
    #[param(value_type = Option<doc::Product>)]
    pub product: Option<String>,
}

/// Filters: `mapped`, `active`, `location_id`, `product`. Pages follow the item keys.
pub async fn list(
    deps: &Deps,
    page: PageQuery,
    filters: ItemFilters,
    company_id: &str,
) -> Result<Response<Body>, AppError> {
    let ItemFilters {
        mapped,
        active,
        location_id: location,
        product,
    } = filters;
    let limit = page.limit.0 as usize;
    let product = product.map(|p| PosProduct::parse(&p)).transpose()?;
    let items_query = record::list_query(company_id);
    let mut start = pagination::decode_cursor(page.cursor.as_deref(), attr::PK, &items_query.pk)?;
    let mappings: HashMap<(PosProduct, String), Mapping> =
        mapping::all(deps.store.as_ref(), company_id)
            .await?
            .into_iter()
            .map(|m| ((m.product, m.item_id.clone()), m))
            .collect();
    let mut out = Vec::new();
    let mut next_cursor = None;
    'pages: loop {
        let page = deps
            .store
            .query(&items_query.clone().start_after(start))
            .await?;
        let count = page.items.len();
        for (index, stored) in page.items.into_iter().enumerate() {
            let item: PosItem = from_item(stored)?;
            let mapping = mappings.get(&(item.product, item.item_id.clone()));
            let keep = mapped.is_none_or(|m| mapping.is_some() == m)
                && active.is_none_or(|a| item.active == a)
                && product.is_none_or(|p| item.product == p)
                && location
                    .as_deref()
                    .is_none_or(|l| item.location_ids.iter().any(|x| x == l));
            if keep {
                out.push(item_view(&item, mapping));
                if out.len() == limit {
                    let more = index + 1 < count || page.last_key.is_some();
                    if more {
                        next_cursor = pagination::encode_cursor(Some(&item.key().to_item()));
                    }
                    break 'pages;
                }
            }
        }
        match page.last_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    Ok(pagination::reply(out, next_cursor))
}

/// `…/items/{product}/{item_id}`: one item of one product.
#[derive(Deserialize)]
pub struct ItemPath {
    product: String,
    item_id: String,
}

impl ItemPath {
    fn product(&self) -> Result<PosProduct, AppError> {
        PosProduct::parse(&self.product)
    }
}

pub async fn get(
    deps: &Deps,
    company_id: &str,
    path: &ItemPath,
) -> Result<Response<Body>, AppError> {
    let (product, item_id) = (path.product()?, path.item_id.as_str());
    let item = setup::item(deps, company_id, product, item_id).await?;
    let mapping = mapping::find(deps.store.as_ref(), company_id, product, item_id).await?;
    Ok(envelope::json(200, &item_view(&item, mapping.as_ref())))
}

pub async fn put_mapping(
    deps: &Deps,
    input: Result<Json<MappingInput>, AppError>,
    company_id: &str,
    path: &ItemPath,
) -> Result<Response<Body>, AppError> {
    let product = path.product()?;
    let Json(input) = input?;
    let mapping = setup::put(deps, company_id, product, &path.item_id, input, &now()).await?;
    Ok(envelope::json(200, &mapping_view(&mapping)))
}

pub async fn delete_mapping(
    deps: &Deps,
    company_id: &str,
    path: &ItemPath,
) -> Result<Response<Body>, AppError> {
    setup::delete(deps, company_id, path.product()?, &path.item_id).await?;
    Ok(envelope::json(200, &super::DELETED))
}
