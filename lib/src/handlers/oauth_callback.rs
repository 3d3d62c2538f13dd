//! oauth-callback: Lightspeed redirects the browser here with `code` and `state`. The
//! outcome is sent on to a result page; the query string (which holds the code) is never
//! logged.

use lambda_http::http::header::{CONTENT_TYPE, LOCATION};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::connection::flow::{self, CallbackParams};
use crate::deps::Deps;
use crate::telemetry::correlation_span;

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_string)
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = match reqwest::Url::parse(base) {
        Ok(url) => url,
        Err(_) => return base.to_string(),
    };
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let correlation = crate::random::uuid().to_string();
    let span = correlation_span("oauth-callback", &correlation);
    async {
        if request.uri().path().ends_with("/oauth/result") {
            return Ok(result_page(&request));
        }
        let params = CallbackParams {
            code: query(&request, "code").map(secrecy::SecretString::from),
            state: query(&request, "state"),
            domain_prefix: query(&request, "domain_prefix"),
            error: query(&request, "error"),
        };
        let now = super::now();
        let result_url = deps.config.lightspeed.result_url();
        match flow::complete(deps, &params, &now, chrono::Utc::now().timestamp()).await {
            Ok(integration) => Ok(redirect(&with_query(
                &result_url,
                &[
                    ("outcome", "connected"),
                    ("company_id", &integration.company_id),
                    ("product", integration.product.as_str()),
                ],
            ))),
            Err(err) => {
                tracing::warn!(code = %err.code, message = %err.message, "callback refused");
                Ok(redirect(&with_query(
                    &result_url,
                    &[
                        ("outcome", "error"),
                        ("code", err.code.as_str()),
                        ("message", &crate::api::envelope::public_message(&err)),
                        ("correlation_id", &correlation),
                    ],
                )))
            }
        }
    }
    .instrument(span)
    .await
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A plain page a person sees after authorizing.
fn result_page(request: &Request) -> Response<Body> {
    let outcome = query(request, "outcome").unwrap_or_default();
    let (title, detail) = if outcome == "connected" {
        (
            "Lightspeed is connected".to_string(),
            format!(
                "{} for company {}. You can close this window.",
                query(request, "product").unwrap_or_default(),
                query(request, "company_id").unwrap_or_default()
            ),
        )
    } else {
        (
            "The connection did not complete".to_string(),
            format!(
                "{} ({}). Start the connection again from tillbridge.",
                query(request, "message").unwrap_or_default(),
                query(request, "code").unwrap_or_default()
            ),
        )
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title></head><body><h1>{0}</h1><p>{1}</p></body></html>",
        escape(&title),
        escape(&detail)
    );
    let mut response = Response::new(Body::Text(html));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
