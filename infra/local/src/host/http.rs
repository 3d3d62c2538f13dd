//! HTTP front door: turns each request into the API Gateway HTTP API (v2) event that AWS
//! would deliver, checks the JWT where the route is authorized, invokes the function and
//! writes its response back.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tillbridge::lambda_http::Body;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::warn;

use super::routes::RouteTable;
use super::{functions, FunctionDeps};
use crate::token::TokenKey;
use tillbridge_api::AdminApi;

/// API Gateway's payload limit for Lambda integrations.
const MAX_BODY: usize = 6 * 1024 * 1024;

struct Shared {
    routes: RouteTable,
    deps: FunctionDeps,
    /// The admin API's router, built once rather than on every request.
    admin_api: Option<AdminApi>,
    key: TokenKey,
}

pub fn serve(
    listener: TcpListener,
    routes: RouteTable,
    deps: FunctionDeps,
    key: TokenKey,
) -> JoinHandle<()> {
    let admin_api = deps
        .get(functions::ADMIN_API)
        .map(|deps| AdminApi::new(Arc::new(deps.clone())));
    let shared = Arc::new(Shared {
        routes,
        deps,
        admin_api,
        key,
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(respond(&shared, request).await) }
                });
                if let Err(err) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    warn!(error = %err, "local host connection error");
                }
            });
        }
    })
}

fn plain(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(
        json!({ "message": message }).to_string(),
    )));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A refused token gets the API's own error envelope. (In AWS the HTTP API's JWT
/// authorizer answers 401 itself with `{"message":"Unauthorized"}` and that body cannot be
/// customised; clients must go by the status there.)
fn unauthenticated(correlation: Option<&String>) -> hyper::Response<Full<Bytes>> {
    use tillbridge::error::{AppError, ErrorCode};
    let correlation =
        tillbridge::telemetry::sanitize_correlation_id(correlation.map(String::as_str))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let err = AppError::new(
        ErrorCode::Unauthenticated,
        "send `Authorization: Bearer <token>` with a valid token",
    );
    let mut response = plain(401, "");
    *response.body_mut() = Full::new(Bytes::from(tillbridge::api::envelope::error_body(
        &err,
        &correlation,
    )));
    if let Ok(value) = hyper::header::HeaderValue::from_str(&correlation) {
        response
            .headers_mut()
            .insert(tillbridge_api::router::CORRELATION_HEADER, value);
    }
    response
}

async fn respond(
    shared: &Shared,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let Some(matched) = shared.routes.find(&method, &path) else {
        return plain(404, "Not Found");
    };
    let route = matched.route.clone();
    let path_parameters = matched.path_parameters.clone();

    let mut headers = BTreeMap::new();
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            headers
                .entry(name.as_str().to_lowercase())
                .and_modify(|v: &mut String| {
                    v.push(',');
                    v.push_str(value)
                })
                .or_insert_with(|| value.to_string());
        }
    }
    let claims = if route.authorized {
        let token = headers
            .get("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        match token.and_then(|t| shared.key.verify(t)) {
            Some(claims) => Some(claims),
            None => {
                return unauthenticated(headers.get(tillbridge_api::router::CORRELATION_HEADER))
            }
        }
    } else {
        None
    };
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return plain(413, "Request Entity Too Large"),
    };
    let event = gateway_event(
        &method,
        &path,
        &query,
        &headers,
        &path_parameters,
        claims,
        &route.path,
        &body,
    );
    let lambda_request = match tillbridge::lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => request,
        Err(err) => {
            warn!(error = %err, "local host built an invalid event");
            return plain(500, "Internal Server Error");
        }
    };
    if !shared.deps.contains_key(&route.binary) {
        return plain(500, "function not configured");
    }
    // Each invocation in its own task, as each Lambda invocation is its own process: a
    // panic is answered like API Gateway answers a crashed function (502), and the host
    // keeps serving.
    let invocation = {
        let (deps, binary) = (shared.deps.clone(), route.binary.clone());
        let admin_api = shared.admin_api.clone();
        tokio::spawn(async move {
            match (admin_api, deps.get(&binary)) {
                (Some(api), _) if binary == functions::ADMIN_API => {
                    api.handle(lambda_request).await
                }
                (_, Some(function)) => functions::http(&binary, function, lambda_request).await,
                (_, None) => Err("function not configured".into()),
            }
        })
    };
    let outcome = match invocation.await {
        Ok(outcome) => outcome,
        Err(crash) => {
            warn!(function = route.binary, error = %crash, "function crashed");
            return plain(502, "Internal Server Error");
        }
    };
    match outcome {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let bytes = match body {
                Body::Text(text) => Bytes::from(text),
                Body::Binary(bytes) => Bytes::from(bytes),
                _ => Bytes::new(),
            };
            let mut out = hyper::Response::new(Full::new(bytes));
            *out.status_mut() = parts.status;
            *out.headers_mut() = parts.headers;
            out
        }
        // What API Gateway answers when the integration fails.
        Err(err) => {
            warn!(function = route.binary, error = %functions::describe(err), "function error");
            plain(500, "Internal Server Error")
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gateway_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &BTreeMap<String, String>,
    path_parameters: &[(String, String)],
    claims: Option<std::collections::HashMap<String, String>>,
    route_path: &str,
    body: &[u8],
) -> Value {
    let mut query_parameters = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k);
        let v = percent_decode(v);
        match query_parameters.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query_parameters.insert(k, Value::String(v));
            }
        }
    }
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(body), true)
        }
    };
    let now = chrono::Utc::now();
    let route_key = format!("{method} {route_path}");
    let mut context = json!({
        "accountId": crate::provision::LOCAL_ACCOUNT,
        "apiId": "local",
        // lambda_http builds the URI from this; an empty one would eat the first path segment.
        "domainName": headers.get("host").cloned().unwrap_or_else(|| "localhost".to_string()),
        "domainPrefix": "local",
        "http": {
            "method": method, "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !query_parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(query_parameters);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = path_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
    }
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    event
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_text() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn builds_an_event_lambda_http_accepts() {
        let headers =
            BTreeMap::from([("content-type".to_string(), "application/json".to_string())]);
        let claims =
            std::collections::HashMap::from([("company_id".to_string(), "acme".to_string())]);
        let event = gateway_event(
            "POST",
            "/v1/x",
            "limit=2&cursor=a%3D",
            &headers,
            &[("proxy".into(), "x".into())],
            Some(claims),
            "/v1/{proxy+}",
            b"{}",
        );
        let request = tillbridge::lambda_http::request::from_str(&event.to_string()).unwrap();
        use tillbridge::lambda_http::RequestExt;
        assert_eq!(request.uri().path(), "/v1/x");
        let q = request.query_string_parameters();
        assert_eq!(q.first("cursor"), Some("a="));
        assert_eq!(q.first("limit"), Some("2"));
    }
}
