//! Webhook subscriptions: `POST /api/webhooks` (form body, older reference) or
//! `POST /api/2.0/webhooks` (JSON `{url, active, type}`), both answering 201 `{"data": {...}}`
//! and 409 for a duplicate type + URL; `GET` lists, `DELETE /{id}` removes.

use crate::respond::{form, json, x_error};
use crate::server::AppState;
use crate::webhooks::SubscribeError;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
struct Data<T: Serialize> {
    data: T,
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (url, kind, active) = if ct.starts_with("application/json") {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return x_error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "Body is not valid JSON",
            );
        };
        (
            v.get("url").and_then(|x| x.as_str()).map(str::to_string),
            v.get("type").and_then(|x| x.as_str()).map(str::to_string),
            v.get("active").and_then(|x| x.as_bool()).unwrap_or(true),
        )
    } else {
        let p = form(&body);
        // The legacy form carries a JSON `data` field; plain fields are accepted too.
        let data: Option<serde_json::Value> =
            p.get("data").and_then(|d| serde_json::from_str(d).ok());
        let get = |k: &str| {
            data.as_ref()
                .and_then(|d| d.get(k))
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .or_else(|| p.get(k).map(str::to_string))
        };
        (
            get("url"),
            get("type"),
            get("active").map(|a| a != "false").unwrap_or(true),
        )
    };
    let (Some(url), Some(kind)) = (url, kind) else {
        return x_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "url and type are required",
        );
    };
    let retailer = state.x().retailer_id.clone();
    match state.webhooks.subscribe(&retailer, &kind, &url, active) {
        Ok(s) => json(StatusCode::CREATED, &Data { data: s }),
        Err(SubscribeError::Duplicate) => x_error(
            StatusCode::CONFLICT,
            "Conflict",
            "A webhook with this type and URL already exists",
        ),
        Err(SubscribeError::Invalid(m)) => x_error(StatusCode::BAD_REQUEST, "Bad Request", &m),
    }
}

pub async fn list(State(state): State<Arc<AppState>>) -> Response {
    json(
        StatusCode::OK,
        &Data {
            data: state.webhooks.list(),
        },
    )
}

pub async fn remove(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((_prefix, id))) = path else {
        return x_error(StatusCode::NOT_FOUND, "Not Found", "Webhook not found");
    };
    if state.webhooks.remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        x_error(StatusCode::NOT_FOUND, "Not Found", "Webhook not found")
    }
}
