//! K-Series OAuth. V1: `/oauth/authorize` and `/oauth/token` (HTTP Basic + grant values as URL
//! query parameters). V2: the Keycloak realm `k-series` (Basic or body client auth + form body).
//! Authorize auto-approves for the configured user; refresh tokens rotate.

use crate::config::OAuthClient;
use crate::respond::{basic, bearer, form, json, oauth_error, unauthorized, Params};
use crate::server::AppState;
use crate::tokens::{Grant, Issued, Realm};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use std::sync::Arc;

/// Redirect URIs must be HTTPS, except loopback hosts used by local stacks and tests.
pub fn redirect_allowed(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| lower.starts_with(p))
}

fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if uri.contains('?') {
        format!("{uri}&{q}")
    } else {
        format!("{uri}?{q}")
    }
}

fn authorize(state: &AppState, raw: Option<String>, realm: Realm) -> Response {
    let client = if realm == Realm::KV1 {
        &state.cfg.k_v1_client
    } else {
        &state.cfg.k_v2_client
    };
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed query string",
        );
    };
    if p.get("client_id") != Some(client.client_id.as_str()) {
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
    if !redirect_allowed(redirect) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must use HTTPS",
        );
    }
    let scope = p.get("scope").unwrap_or("");
    if realm == Realm::KV1 && scope.trim().is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope is required",
        );
    }
    let mut scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
    if realm == Realm::KV2 {
        for s in ["profile", "email"] {
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_string());
            }
        }
    }
    let grant = Grant {
        realm,
        client_id: client.client_id.clone(),
        user: state.cfg.k_user.clone(),
        scopes,
        domain_prefix: None,
    };
    let code = state.tokens.issue_code(grant, redirect, state.clock.now());
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = p.get("state") {
        pairs.push(("state", s));
    }
    Redirect::to(&append_query(redirect, &pairs)).into_response()
}

pub async fn v1_authorize(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    authorize(&state, raw, Realm::KV1)
}

pub async fn v2_authorize(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    authorize(&state, raw, Realm::KV2)
}

fn client_ok(client: &OAuthClient, id: Option<&str>, secret: Option<&str>) -> bool {
    id == Some(client.client_id.as_str()) && secret == Some(client.client_secret.as_str())
}

fn grant_flow(
    state: &AppState,
    realm: Realm,
    p: &Params,
    client_id: &str,
) -> Result<Issued, Response> {
    let now = state.clock.now();
    let invalid = |m: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", m);
    match p.get("grant_type") {
        Some("authorization_code") => {
            let Some(code) = p.get("code") else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code is required",
                ));
            };
            state
                .tokens
                .redeem_code(code, client_id, p.get("redirect_uri"), realm, now)
                .map_err(|e| invalid(e.0))
        }
        Some("refresh_token") => {
            let Some(rt) = p.get("refresh_token") else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                ));
            };
            state
                .tokens
                .refresh(rt, client_id, realm, now)
                .map_err(|e| invalid(e.0))
        }
        Some(_) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        )),
        None => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required",
        )),
    }
}

/// V1 token endpoint: client auth by HTTP Basic, grant values in the URL query.
pub async fn v1_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed query string",
        );
    };
    let creds = basic(&headers);
    let client = &state.cfg.k_v1_client;
    if !client_ok(
        client,
        creds.as_ref().map(|c| c.0.as_str()),
        creds.as_ref().map(|c| c.1.as_str()),
    ) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    match grant_flow(&state, Realm::KV1, &p, &client.client_id) {
        Ok(i) => json(
            StatusCode::OK,
            &json!({
                "access_token": i.access_token,
                "refresh_token": i.refresh_token,
                "token_type": "bearer",
                "expires_in": i.expires_in,
                "scope": i.grant.scopes.join(" "),
            }),
        ),
        Err(r) => r,
    }
}

/// V2 (Keycloak) token endpoint: form body; client auth by Basic or body parameters.
pub async fn v2_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let p = form(&body);
    let creds = basic(&headers).or_else(|| {
        Some((
            p.get("client_id")?.to_string(),
            p.get("client_secret")?.to_string(),
        ))
    });
    let client = &state.cfg.k_v2_client;
    if !client_ok(
        client,
        creds.as_ref().map(|c| c.0.as_str()),
        creds.as_ref().map(|c| c.1.as_str()),
    ) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        );
    }
    match grant_flow(&state, Realm::KV2, &p, &client.client_id) {
        Ok(i) => {
            let session = crate::rng::Rng::new(crate::rng::label(&i.refresh_token)).uuid();
            json(
                StatusCode::OK,
                &json!({
                    "access_token": i.access_token,
                    "expires_in": i.expires_in,
                    "refresh_expires_in": i.refresh_expires_in,
                    "refresh_token": i.refresh_token,
                    "token_type": "Bearer",
                    "not-before-policy": 0,
                    "session_state": session,
                    "scope": i.grant.scopes.join(" "),
                }),
            )
        }
        Err(r) => r,
    }
}

/// `GET /oauth/userinfo`: the authorising user's roles (helps diagnose 403s).
pub async fn userinfo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(tok) = bearer(&headers) else {
        return unauthorized("Bearer token required");
    };
    match state.tokens.check(&tok, state.clock.now()) {
        Ok(g) if matches!(g.realm, Realm::KV1 | Realm::KV2) => json(
            StatusCode::OK,
            &json!({
                "username": g.user,
                "roles": ["ROLE_BACK_OFFICE", "ROLE_REPORT"],
                "businessLocations": state.k.catalog.locations.iter().filter(|l| state.k_user_sees(l.id)).map(|l| l.id).collect::<Vec<_>>(),
            }),
        ),
        _ => unauthorized("Access token not recognised"),
    }
}
