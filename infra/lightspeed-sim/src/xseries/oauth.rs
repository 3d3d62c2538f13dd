//! X-Series OAuth: the connect URL (auto-approves and redirects with `code`, `domain_prefix`,
//! `state`) and the per-store token endpoint `/api/1.0/token` (form body, rotating refresh tokens).

use crate::respond::{form, json, oauth_error, Params};
use crate::server::AppState;
use crate::tokens::{Grant, Realm};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use std::sync::Arc;

pub async fn connect(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed query string",
        );
    };
    if p.get("client_id") != Some(state.cfg.x_client.client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Unknown client_id",
        );
    }
    if p.get("response_type") != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    let Some(redirect) = p.get("redirect_uri") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is required",
        );
    };
    if !crate::kseries::oauth::redirect_allowed(redirect) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must use HTTPS",
        );
    }
    let prefix = state.cfg.x_domain_prefix.clone();
    let grant = Grant {
        realm: Realm::X,
        client_id: state.cfg.x_client.client_id.clone(),
        user: "owner".into(),
        scopes: vec![
            "sales:read".into(),
            "products:read".into(),
            "webhooks".into(),
        ],
        domain_prefix: Some(prefix.clone()),
    };
    let code = state.tokens.issue_code(grant, redirect, state.clock.now());
    let mut pairs = vec![("code", code.as_str()), ("domain_prefix", prefix.as_str())];
    if let Some(s) = p.get("state") {
        pairs.push(("state", s));
    }
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let sep = if redirect.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect}{sep}{q}")).into_response()
}

pub async fn token(
    State(state): State<Arc<AppState>>,
    Path(prefix): Path<String>,
    body: Bytes,
) -> Response {
    if prefix != state.cfg.x_domain_prefix {
        return oauth_error(StatusCode::NOT_FOUND, "invalid_request", "Unknown store");
    }
    let p = form(&body);
    let client = &state.cfg.x_client;
    if p.get("client_id") != Some(client.client_id.as_str())
        || p.get("client_secret") != Some(client.client_secret.as_str())
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let now = state.clock.now();
    let issued = match p.get("grant_type") {
        Some("authorization_code") => match p.get("code") {
            Some(code) => state.tokens.redeem_code(
                code,
                &client.client_id,
                p.get("redirect_uri"),
                Realm::X,
                now,
            ),
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code is required",
                )
            }
        },
        Some("refresh_token") => match p.get("refresh_token") {
            Some(rt) => state.tokens.refresh(rt, &client.client_id, Realm::X, now),
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                )
            }
        },
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant_type",
            )
        }
    };
    match issued {
        Ok(i) => json(
            StatusCode::OK,
            &json!({
                "access_token": i.access_token,
                "token_type": "Bearer",
                "expires": i.expires_at.timestamp(),
                "expires_in": i.expires_in,
                "refresh_token": i.refresh_token,
                "domain_prefix": prefix,
                "scope": i.grant.scopes.join(" "),
            }),
        ),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", e.0),
    }
}
