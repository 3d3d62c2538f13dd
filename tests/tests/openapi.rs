//! The committed OpenAPI document and the admin API describe the same routes: every
//! (method, path) the API serves is documented, and every documented one is served.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use tillbridge_tests::{unique_company, TestEnv};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn concrete(template: &str, company: &str) -> String {
    template
        .replace("{company_id}", company)
        .replace("{product}", "k_series")
        .replace("{id}", "placeholder")
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let env = TestEnv::http().await;
    let company = unique_company("openapi");
    let api = env.client(&company);

    let (status, served_doc) = api.get("/v1/openapi.json").await.unwrap();
    assert_eq!(status, 200);
    let committed: Value = serde_json::from_str(tillbridge::api::router::OPENAPI).unwrap();
    assert_eq!(
        served_doc, committed,
        "the API serves the committed document"
    );
    assert!(committed["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));

    let documented: BTreeSet<(String, String)> = committed["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| METHODS.contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();

    let mut served = BTreeSet::new();
    for template in tillbridge::api::router::route_paths() {
        for method in METHODS {
            let http = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = api
                .request(
                    http,
                    &concrete(template, &company),
                    Some(("application/json", b"{}".to_vec())),
                    &[],
                )
                .await
                .unwrap();
            assert!(status < 500, "{method} {template} → {status} {body}");
            let code = body["error"]["code"].as_str().unwrap_or("");
            if code != "method_not_allowed" && code != "route_not_found" {
                served.insert((method.to_string(), template.to_string()));
            }
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
    assert!(served.len() >= 30, "{} operations", served.len());
}

#[tokio::test]
async fn every_company_route_refuses_another_companys_token() {
    let env = TestEnv::http().await;
    let owner = unique_company("owner");
    let intruder = env.client(&unique_company("intruder"));
    let committed: Value = serde_json::from_str(tillbridge::api::router::OPENAPI).unwrap();
    let mut checked = 0;
    for (path, operations) in committed["paths"].as_object().unwrap() {
        if !path.contains("{company_id}") {
            continue;
        }
        for method in operations
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| METHODS.contains(&m.as_str()))
        {
            let http = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = intruder
                .request(
                    http,
                    &concrete(path, &owner),
                    Some(("application/json", b"{}".to_vec())),
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (403, Some("unauthorized_company_access")),
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} operations checked");
}
