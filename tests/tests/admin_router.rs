//! The admin API's router shell, called in-process with API Gateway events (as the local
//! host and `lambda_http` deliver them) on deps whose store does not answer: every refusal
//! here (unknown route, unserved method, `HEAD`, oversized body, foreign company) is the
//! error envelope with the request's correlation id, decided before any store call.

use serde_json::{json, Value};
use tillbridge::lambda_http::{Body, Response};
use tillbridge_tests::{gateway_request, unique_company, TestEnv};

fn envelope(response: &Response<Body>) -> (u16, String, String) {
    let body: Value = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON body"),
        other => panic!("unexpected body {other:?}"),
    };
    let error = body["error"].as_object().expect("error envelope");
    assert_eq!(error.len(), 3, "{body}");
    (
        response.status().as_u16(),
        error["code"].as_str().unwrap_or_default().to_string(),
        error["correlation_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn header<'r>(response: &'r Response<Body>, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn refusals_of_the_router_are_envelopes_decided_before_any_store_call() {
    let env = TestEnv::http().await;
    let deps = env.deps_with_unreachable_store("admin-api").await;
    let company = unique_company("router");
    let units = format!("/v1/companies/{company}/storage-units");
    let call = |method: &str, path: &str, claim: &str, body: Option<String>| {
        tillbridge_api::handle(
            &deps,
            gateway_request(method, path, claim, body, "corr-r-1"),
        )
    };

    // Unserved methods (HEAD included) are 405 with `Allow` in the order the route serves.
    for method in ["DELETE", "HEAD", "PUT"] {
        let response = call(method, &units, &company, None).await.unwrap();
        assert_eq!(
            envelope(&response),
            (405, "method_not_allowed".into(), "corr-r-1".into()),
            "{method}"
        );
        assert_eq!(header(&response, "allow"), "GET, POST", "{method}");
        assert_eq!(header(&response, "x-correlation-id"), "corr-r-1");
    }
    let migrations = format!("/v1/companies/{company}/locations/l-1/migrations");
    let response = call("DELETE", &migrations, &company, None).await.unwrap();
    assert_eq!(header(&response, "allow"), "POST, GET");
    let response = call("POST", "/v1/openapi.json", &company, None)
        .await
        .unwrap();
    assert_eq!(envelope(&response).0, 405);
    assert_eq!(header(&response, "allow"), "GET");

    // The company is checked before the method.
    let response = call("DELETE", &units, "someone-else", None).await.unwrap();
    assert_eq!(envelope(&response).1, "unauthorized_company_access");

    // No route: 404, and a malformed company id is no route either.
    for path in [
        format!("/v1/companies/{company}/nowhere"),
        "/v1/companies/a%20b/storage-units".to_string(),
        "/v2".to_string(),
    ] {
        let response = call("GET", &path, &company, None).await.unwrap();
        assert_eq!(
            envelope(&response),
            (404, "route_not_found".into(), "corr-r-1".into()),
            "{path}"
        );
    }

    // A body over the limit is 413 before it is parsed.
    let huge = json!({"name": "x".repeat(7 * 1024 * 1024)}).to_string();
    let response = call("POST", &units, &company, Some(huge)).await.unwrap();
    assert_eq!(
        envelope(&response),
        (413, "payload_too_large".into(), "corr-r-1".into())
    );

    // Bounds are checked before the store: an over-long id is 400, not 503.
    let long = format!("{units}/{}", "1".repeat(300));
    let response = call("GET", &long, &company, None).await.unwrap();
    assert_eq!(envelope(&response).1, "validation_failed");
}

#[tokio::test]
async fn a_malformed_correlation_id_is_replaced_by_the_gateway_request_id() {
    let env = TestEnv::http().await;
    let deps = env.deps_with_unreachable_store("admin-api").await;
    let company = unique_company("router-corr");
    let path = format!("/v1/companies/{company}/nowhere");
    for sent in ["has space", "", &"x".repeat(101)] {
        let response =
            tillbridge_api::handle(&deps, gateway_request("GET", &path, &company, None, sent))
                .await
                .unwrap();
        assert_eq!(header(&response, "x-correlation-id"), "gw-request-1");
        assert_eq!(envelope(&response).2, "gw-request-1");
    }
}
