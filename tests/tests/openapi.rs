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
    let committed: Value = serde_json::from_str(tillbridge_api::openapi::document()).unwrap();
    assert_eq!(
        served_doc, committed,
        "the API serves the generated document"
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
    for template in tillbridge_api::router::route_paths() {
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
    let committed: Value = serde_json::from_str(tillbridge_api::openapi::document()).unwrap();
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

/// Checks real responses against the document: the status must be one the operation
/// documents, and the body must match that response's schema (every documented 2xx and
/// error body is a closed object, so an added, removed or retyped field fails).
struct Conformance {
    doc: Value,
    api: tillbridge_tests::AdminClient,
    /// (method, path template) answered with a 2xx.
    covered: BTreeSet<(String, String)>,
    failures: Vec<String>,
    checked: usize,
}

impl Conformance {
    fn new(api: tillbridge_tests::AdminClient) -> Self {
        Self {
            doc: serde_json::from_str(tillbridge_api::openapi::document()).unwrap(),
            api,
            covered: BTreeSet::new(),
            failures: Vec::new(),
            checked: 0,
        }
    }

    /// The documented path template a concrete path matches (literal segments win).
    fn template_of(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') {
                        continue;
                    }
                    if part != segment {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, template.clone()))
            })
            .max()
            .map(|(_, template)| template)
    }

    /// `responses[status]` of an operation with a component `$ref` followed.
    fn response(&self, method: &str, template: &str, status: u16) -> Option<Value> {
        let mut response =
            self.doc["paths"][template][method]["responses"][status.to_string()].clone();
        if let Some(pointer) = response["$ref"].as_str() {
            response = self
                .doc
                .pointer(&pointer[1..])
                .cloned()
                .unwrap_or(Value::Null);
        }
        (!response.is_null()).then_some(response)
    }

    fn check(&mut self, method: &str, path: &str, status: u16, body: &Value) {
        self.checked += 1;
        let Some(template) = self.template_of(path) else {
            self.failures
                .push(format!("{method} {path}: no documented path"));
            return;
        };
        let method = method.to_lowercase();
        if self.doc["paths"][&template][&method].is_null() {
            self.failures
                .push(format!("{method} {template}: operation not documented"));
            return;
        }
        let Some(response) = self.response(&method, &template, status) else {
            self.failures.push(format!(
                "{method} {template}: status {status} not documented (body {body})"
            ));
            return;
        };
        if (200..300).contains(&status) {
            self.covered.insert((method.clone(), template.clone()));
        }
        let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
            if !body.is_null() {
                self.failures.push(format!(
                    "{method} {template} → {status}: documented without a body, got {body}"
                ));
            }
            return;
        };
        // The whole document is the root so `#/components/...` references resolve.
        let mut root = self.doc.clone();
        for (key, value) in schema {
            root[key] = value.clone();
        }
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|err| panic!("schema of {method} {template} {status}: {err}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        if !errors.is_empty() {
            self.failures.push(format!(
                "{method} {template} → {status}: body does not match the document: {errors:?}\n  body: {body}"
            ));
        }
    }

    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_with(method, path, body, &[]).await
    }

    /// A CSV upload (`text/csv` body).
    async fn call_csv(&mut self, path: &str, file: &str) -> (u16, Value) {
        let body = Some(("text/csv", file.as_bytes().to_vec()));
        let (status, reply) = self
            .api
            .request(Method::POST, path, body, &[])
            .await
            .unwrap();
        self.check("POST", path, status, &reply);
        (status, reply)
    }

    async fn call_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let http = Method::from_bytes(method.as_bytes()).unwrap();
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        let (status, reply) = self.api.request(http, path, body, headers).await.unwrap();
        self.check(method, path, status, &reply);
        (status, reply)
    }
}

/// Every operation, driven through a real flow against the simulator, and the documented
/// error cases: each response's status is documented and its body matches the schema.
#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    use serde_json::json;
    use tillbridge_tests::fixture::TransferFixture;

    let fixture = TransferFixture::new("conform").await;
    let company = fixture.company.clone();
    let env = &fixture.env;
    let base = format!("/v1/companies/{company}");
    let mut c = Conformance::new(env.client(&company));

    let (status, _) = c.call("GET", "/v1/openapi.json", None).await;
    assert_eq!(status, 200);

    // Catalogue.
    let (status, unit) = c
        .call_with(
            "POST",
            &format!("{base}/storage-units"),
            Some(json!({"name": "Conformance store", "code": null})),
            &[("idempotency-key", "conformance-unit")],
        )
        .await;
    assert_eq!(status, 201, "{unit}");
    let unit_id = unit["id"].as_str().unwrap().to_string();
    let (status, _) = c
        .call_with(
            "POST",
            &format!("{base}/storage-units"),
            Some(json!({"name": "Conformance store", "code": null})),
            &[("idempotency-key", "conformance-unit")],
        )
        .await;
    assert_eq!(status, 200, "idempotent replay");
    c.call("GET", &format!("{base}/storage-units?limit=1"), None)
        .await;
    c.call("GET", &format!("{base}/storage-units/{unit_id}"), None)
        .await;
    c.call(
        "PATCH",
        &format!("{base}/storage-units/{unit_id}"),
        Some(json!({"description": "checked against the document"})),
    )
    .await;

    let (status, ingredient) = c
        .call(
            "POST",
            &format!("{base}/ingredients"),
            Some(json!({"name": "Salt", "unit": "KG", "sku": "SALT-1"})),
        )
        .await;
    assert_eq!(status, 201, "{ingredient}");
    let salt = ingredient["id"].as_str().unwrap().to_string();
    c.call("GET", &format!("{base}/ingredients?limit=2"), None)
        .await;
    c.call("GET", &format!("{base}/ingredients/{salt}"), None)
        .await;
    c.call(
        "PATCH",
        &format!("{base}/ingredients/{salt}"),
        Some(json!({"sku": null})),
    )
    .await;
    let (status, _) = c
        .call(
            "POST",
            &format!("{base}/ingredients/{salt}/receipts"),
            Some(json!({"quantity": "2.5", "value": 3, "currency": "GBP", "received_at": "2026-02-01T08:00:00+01:00", "reference": "PO-1"})),
        )
        .await;
    assert_eq!(status, 201);
    c.call(
        "GET",
        &format!("{base}/ingredients/{salt}/receipts?limit=1"),
        None,
    )
    .await;

    let (status, recipe) = c
        .call(
            "POST",
            &format!("{base}/recipes"),
            Some(json!({"name": "Salted", "lines": [{"ingredient_id": salt, "quantity": "0.01", "trim_pct": "2.5"}]})),
        )
        .await;
    assert_eq!(status, 201, "{recipe}");
    let salted = recipe["id"].as_str().unwrap().to_string();
    c.call("GET", &format!("{base}/recipes"), None).await;
    c.call("GET", &format!("{base}/recipes/{salted}"), None)
        .await;
    c.call(
        "PATCH",
        &format!("{base}/recipes/{salted}"),
        Some(json!({"name": "Salted twice"})),
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/recipes/{salted}/explosion?quantity=3"),
        None,
    )
    .await;
    for parent in fixture.recipes.keys() {
        c.call("GET", &format!("{base}/recipes/{parent}/explosion"), None)
            .await;
    }
    let (status, _) = c
        .call("DELETE", &format!("{base}/ingredients/{salt}"), None)
        .await;
    assert_eq!(status, 409, "in use by the recipe");
    let (status, _) = c
        .call("DELETE", &format!("{base}/recipes/{salted}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = c
        .call("DELETE", &format!("{base}/ingredients/{salt}"), None)
        .await;
    assert_eq!(status, 204);

    // Connection.
    c.call("GET", &format!("{base}/integrations"), None).await;
    c.call("GET", &format!("{base}/integrations/k_series"), None)
        .await;
    c.call(
        "POST",
        &format!("{base}/integrations/k_series/reauthorize"),
        None,
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/integrations"),
        Some(json!({"product": "x_series", "name": "Shop", "domain_prefix": "conformance"})),
    )
    .await;
    let (status, _) = c
        .call("DELETE", &format!("{base}/integrations/x_series"), None)
        .await;
    assert_eq!(status, 200, "a started connection disconnected");
    c.call("GET", &format!("{base}/integrations"), None).await;

    // Items and mappings.
    c.call(
        "POST",
        &format!("{base}/items/sync"),
        Some(json!({"product": "k_series"})),
    )
    .await;
    let (_, items) = c
        .call(
            "GET",
            &format!("{base}/items?mapped=true&active=true&product=k_series&limit=3"),
            None,
        )
        .await;
    c.call("GET", &format!("{base}/items?mapped=false"), None)
        .await;
    let item = items["items"][0]["item_id"].as_str().unwrap().to_string();
    let target = fixture.ingredients[0].clone();
    c.call("GET", &format!("{base}/items/k_series/{item}"), None)
        .await;
    c.call(
        "DELETE",
        &format!("{base}/items/k_series/{item}/mapping"),
        None,
    )
    .await;
    c.call(
        "PUT",
        &format!("{base}/items/k_series/{item}/mapping"),
        Some(json!({"ingredient_id": target, "quantity": "1"})),
    )
    .await;

    // Locations, transfers, ledger, migrations.
    c.call(
        "POST",
        &format!("{base}/locations/sync"),
        Some(json!({"product": "k_series"})),
    )
    .await;
    c.call("GET", &format!("{base}/locations?limit=1"), None)
        .await;
    let (location, (location_unit, _)) = fixture.locations.iter().next().unwrap();
    c.call(
        "GET",
        &format!("{base}/locations?activated=false&auto_issue=true&missing=false&storage_unit_id={location_unit}"),
        None,
    )
    .await;
    c.call("GET", &format!("{base}/locations/{location}"), None)
        .await;
    c.call(
        "PATCH",
        &format!("{base}/locations/{location}"),
        Some(json!({"auto_issue": true, "day_cutoff_hour": 4})),
    )
    .await;
    c.call(
        "DELETE",
        &format!("{base}/locations/{location}/storage-unit"),
        None,
    )
    .await;
    let (status, _) = c
        .call(
            "POST",
            &format!("{base}/locations/{location}/activate"),
            None,
        )
        .await;
    assert_eq!(status, 422, "activation needs a storage unit");
    c.call(
        "PUT",
        &format!("{base}/locations/{location}/storage-unit"),
        Some(json!({"storage_unit_id": location_unit})),
    )
    .await;
    let date = "2026-02-20";
    let (status, result) = c
        .call(
            "POST",
            &format!("{base}/locations/{location}/transfers"),
            Some(json!({"date": date})),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    c.call(
        "POST",
        &format!("{base}/locations/{location}/transfers"),
        Some(json!({"date": date, "force_refresh": false, "async": true})),
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/locations/{location}/transfers"),
        Some(json!({"date": "2026-02-30"})),
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/locations/{location}/transfer-logs?limit=5"),
        None,
    )
    .await;
    let log_id = result["log_id"].as_str().unwrap().to_string();
    let (_, entries) = c
        .call(
            "GET",
            &format!("{base}/ledger?transfer_log_id={log_id}"),
            None,
        )
        .await;
    c.call(
        "GET",
        &format!("{base}/ledger?storage_unit_id={location_unit}&from={date}&to={date}&limit=2"),
        None,
    )
    .await;
    if let Some(entry) = entries["items"][0]["entry_id"].as_str() {
        let (_, detail) = c.call("GET", &format!("{base}/ledger/{entry}"), None).await;
        let ingredient = entries["items"][0]["ingredient_id"].as_str().unwrap();
        c.call(
            "GET",
            &format!("{base}/ledger?ingredient_id={ingredient}&from={date}"),
            None,
        )
        .await;
        if let Some(line) = detail["source_lines"][0].as_object() {
            let sales_line = format!(
                "{}/{}",
                line["sale_id"].as_str().unwrap(),
                line["line_id"].as_str().unwrap()
            );
            c.call(
                "GET",
                &format!(
                    "{base}/ledger?sales_line={sales_line}&location_id={location}&date={date}"
                ),
                None,
            )
            .await;
        }
    }
    c.call("GET", &format!("{base}/locations/{location}"), None)
        .await;
    let (status, activation) = c
        .call(
            "POST",
            &format!("{base}/locations/{location}/activate"),
            None,
        )
        .await;
    assert_eq!(status, 201, "{activation}");
    c.call(
        "POST",
        &format!("{base}/locations/{location}/activate"),
        None,
    )
    .await;
    let (_, jobs) = c
        .call(
            "GET",
            &format!("{base}/locations/{location}/migrations"),
            None,
        )
        .await;
    let mut job_id = jobs["items"][0]["job_id"].as_str().map(str::to_string);
    if job_id.is_none() {
        let (_, job) = c
            .call(
                "POST",
                &format!("{base}/locations/{location}/migrations"),
                None,
            )
            .await;
        job_id = job["job_id"].as_str().map(str::to_string);
    }
    let job_id = job_id.expect("a migration job");
    c.call(
        "GET",
        &format!("{base}/locations/{location}/migrations/{job_id}"),
        None,
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/locations/{location}/migrations"),
        Some(json!({"rerun": true})),
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/locations/{location}/migrations/{job_id}/cancel"),
        None,
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/locations/{location}/migrations"),
        Some(json!({"rerun": true})),
    )
    .await;

    // Account mappings, the ERP and journals (posted into an Odoo simulator).
    let odoo = odoo_sim::RunningOdoo::start(odoo_sim::OdooConfig::default())
        .await
        .unwrap();
    c.call(
        "PUT",
        &format!("{base}/account-mappings/erp"),
        Some(
            json!({"url": odoo.base_url(), "database": odoo.db(), "login": odoo.login(),
            "api_key": odoo.api_key(), "transport": "json_rpc"}),
        ),
    )
    .await;
    c.call("GET", &format!("{base}/account-mappings/erp"), None)
        .await;
    let (status, _) = c
        .call(
            "PUT",
            &format!("{base}/account-mappings"),
            Some(json!({"payment_methods": {"CASH": "101501", "CARD": "101405", "AMEX": "101405",
                "GIFTCARD": "216000", "EFTPOS": "101405"},
                "tax_codes": {"VAT20": "251000", "VAT5": "251000", "VAT0": "251000", "GST15": "251000"},
                "default_revenue": "400000", "discount": "401000", "service_charge": "403000",
                "tips": "215000", "rounding": "643000", "rounding_threshold": "5.00",
                "foreign_currency": "refuse"})),
        )
        .await;
    assert_eq!(status, 200);
    c.call(
        "PUT",
        &format!("{base}/account-mappings/locations/{location}"),
        Some(json!({"journal": "POSS", "erp_company_id": 1})),
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/account-mappings/sync"),
        Some(json!({"product": "k_series"})),
    )
    .await;
    c.call("GET", &format!("{base}/account-mappings"), None)
        .await;
    let day = "2026-02-20";
    let request = tillbridge::journal::request::JournalRequest {
        request_uuid: uuid::Uuid::new_v4().to_string(),
        company_id: company.clone(),
        location_id: location.clone(),
        business_date: day.into(),
        attempt: 1,
        requested_at: "2026-11-22T01:00:00.000Z".into(),
        verify_in_erp: false,
        closure_id: None,
    };
    let poster = env.deps("journal-poster").await;
    let ctx = tillbridge::journal::post::PostContext {
        store: poster.store.as_ref(),
        connector: poster.erp.as_ref(),
        vault: poster.secrets.as_ref(),
        secret_prefix: &poster.config.secret_prefix,
    };
    tillbridge::journal::post::post_day(&ctx, &request, false, "2026-11-22T01:00:00.000Z")
        .await
        .unwrap();
    c.call(
        "GET",
        &format!("{base}/journals?from={day}&to={day}&location_id={location}"),
        None,
    )
    .await;
    c.call("GET", &format!("{base}/journals/{location}:{day}:1"), None)
        .await;
    c.call(
        "POST",
        &format!("{base}/journals/repost"),
        Some(json!({"location_id": location, "business_date": day})),
    )
    .await;
    // Reconciliation of the posted day (its report carries exceptions: one SKU in five is
    // unmapped here), the stored reports and the KPIs.
    c.call(
        "POST",
        &format!("{base}/reconciliation"),
        Some(json!({"from": day, "location_id": location})),
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/reconciliation?from={day}&to={day}&status=exceptions"),
        None,
    )
    .await;
    c.call("GET", &format!("{base}/kpis?from={day}&to={day}"), None)
        .await;
    c.call("GET", &format!("{base}/locations/{location}"), None)
        .await;
    c.call(
        "GET",
        &format!("{base}/locations/{location}/register-closures?limit=5"),
        None,
    )
    .await;
    c.call(
        "DELETE",
        &format!("{base}/account-mappings/locations/{location}"),
        None,
    )
    .await;

    // CSV imports: a CSV location, a column mapping, a dry run, an import, its repeat and a
    // refused file.
    c.call(
        "POST",
        &format!("{base}/locations"),
        Some(json!({"location_id": "csv-site", "name": "Market stall", "timezone": "Europe/London", "currency": "GBP"})),
    )
    .await;
    c.call(
        "PUT",
        &format!("{base}/locations/csv-site/storage-unit"),
        Some(json!({"storage_unit_id": location_unit})),
    )
    .await;
    let columns = json!({"date": "Date", "location": "Site", "item_code": "SKU", "item_name": "Item",
        "quantity": "Qty", "net": "Net", "tax": "Tax", "payment_method": "Paid by", "sale_id": "Receipt"});
    for id in ["till", "spare"] {
        c.call(
            "PUT",
            &format!("{base}/imports/mappings/{id}"),
            Some(
                json!({"name": "Till export", "columns": columns, "date_format": "%Y-%m-%d %H:%M"}),
            ),
        )
        .await;
    }
    c.call("GET", &format!("{base}/imports/mappings?limit=5"), None)
        .await;
    c.call("GET", &format!("{base}/imports/mappings/till"), None)
        .await;
    c.call("DELETE", &format!("{base}/imports/mappings/spare"), None)
        .await;
    let file = "Date,Site,SKU,Item,Qty,Net,Tax,Paid by,Receipt\n2026-02-20 12:00,csv-site,BURG,Burger,2,20.00,4.00,Card,R1\n";
    let upload = format!("{base}/imports?mapping_id=till");
    let (status, _) = c.call_csv(&format!("{upload}&dry_run=true"), file).await;
    assert_eq!(status, 200);
    let (status, imported) = c.call_csv(&upload, file).await;
    assert_eq!(status, 201, "{imported}");
    let (status, _) = c.call_csv(&upload, file).await;
    assert_eq!(status, 200, "the same file again");
    let (status, _) = c
        .call_csv(
            &upload,
            "Date,Site,SKU,Item,Qty,Net,Tax,Paid by,Receipt\nlater,csv-site,B,B,1,1,0,Card,R2\n",
        )
        .await;
    assert_eq!(status, 422);
    let import_id = imported["import"]["import_id"]
        .as_str()
        .unwrap()
        .to_string();
    c.call("GET", &format!("{base}/imports?limit=5"), None)
        .await;
    c.call("GET", &format!("{base}/imports/{import_id}"), None)
        .await;
    c.call(
        "POST",
        &format!("{base}/imports/{import_id}/transfers"),
        None,
    )
    .await;

    // Alerts.
    let deps = env.deps("admin-api").await;
    let alert = tillbridge::alerts::raise(
        deps.store.as_ref(),
        &company,
        "disconnected",
        "k_series",
        "conformance",
        "2026-11-22T01:00:00.000Z",
    )
    .await
    .unwrap();
    c.call("GET", &format!("{base}/alerts?status=open&limit=5"), None)
        .await;
    c.call("GET", &format!("{base}/alerts?status=resolved"), None)
        .await;
    c.call(
        "POST",
        &format!("{base}/alerts/{}/acknowledge", alert.alert_id),
        None,
    )
    .await;

    // Documented refusals.
    let bad: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("{base}/storage-units?limit=0"), None),
        ("GET", format!("{base}/storage-units?cursor=%25%25"), None),
        ("GET", format!("{base}/storage-units/missing"), None),
        ("GET", format!("{base}/ledger"), None),
        (
            "GET",
            format!("{base}/ledger?storage_unit_id=x&from=2026-1-1"),
            None,
        ),
        ("GET", format!("{base}/ledger/missing"), None),
        (
            "GET",
            format!(
                "{base}/recipes/{}/explosion?quantity=-1",
                fixture.recipes.keys().next().unwrap()
            ),
            None,
        ),
        ("GET", format!("{base}/items/k_series/missing"), None),
        ("GET", format!("{base}/integrations/z_series"), None),
        ("GET", format!("{base}/locations/missing"), None),
        (
            "GET",
            format!("{base}/locations/{location}/migrations/missing"),
            None,
        ),
        (
            "POST",
            format!("{base}/storage-units"),
            Some(json!({"name": ""})),
        ),
        (
            "POST",
            format!("{base}/storage-units"),
            Some(json!({"name": "x", "extra": 1})),
        ),
        (
            "POST",
            format!("{base}/ingredients/missing/receipts"),
            Some(json!({"quantity": "1", "value": "1"})),
        ),
        (
            "POST",
            format!("{base}/recipes"),
            Some(json!({"name": "Cyclic", "lines": [{"recipe_id": "missing", "quantity": "1"}]})),
        ),
        ("POST", format!("{base}/alerts/missing/acknowledge"), None),
        (
            "POST",
            format!("{base}/locations/{location}/transfers"),
            Some(json!({})),
        ),
        (
            "PUT",
            format!("{base}/items/k_series/{item}/mapping"),
            Some(json!({"quantity": "0"})),
        ),
        (
            "PATCH",
            format!("{base}/locations/{location}"),
            Some(json!({"day_mode": "lunar"})),
        ),
        (
            "GET",
            "/v1/companies/not%20valid/storage-units".to_string(),
            None,
        ),
    ];
    for (method, path, body) in bad {
        let (status, reply) = c.call(method, &path, body).await;
        assert!(
            (400..500).contains(&status),
            "{method} {path} → {status} {reply}"
        );
    }
    let (status, _) = c
        .call_with(
            "POST",
            &format!("{base}/storage-units"),
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(status, 415);
    let other = unique_company("conform-other");
    let (status, _) = c
        .call("GET", &format!("/v1/companies/{other}/alerts"), None)
        .await;
    assert_eq!(status, 403);
    let mut anonymous = Conformance::new(env.anonymous());
    let (status, _) = anonymous
        .call("GET", &format!("{base}/storage-units"), None)
        .await;
    assert_eq!(status, 401);
    c.failures.append(&mut anonymous.failures);

    // Dead letters: an operator's token; a company token is refused.
    let mut operator = Conformance::new(env.operator());
    let (status, _) = operator.call("GET", "/v1/dead-letters", None).await;
    assert_eq!(status, 200);
    let (status, _) = operator
        .call("GET", "/v1/dead-letters?queue=journal&limit=5", None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = operator
        .call("POST", "/v1/dead-letters", Some(json!({"all": true})))
        .await;
    assert_eq!(status, 200);
    let (status, _) = operator
        .call(
            "POST",
            "/v1/dead-letters",
            Some(json!({"message_id": "none-such"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = operator
        .call("POST", "/v1/dead-letters", Some(json!({})))
        .await;
    assert_eq!(status, 400);
    let (status, _) = c.call("GET", "/v1/dead-letters", None).await;
    assert_eq!(status, 403);
    c.covered.extend(std::mem::take(&mut operator.covered));
    c.failures.append(&mut operator.failures);

    let documented: BTreeSet<(String, String)> = c.doc["paths"]
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
    let uncovered: Vec<_> = documented.difference(&c.covered).collect();
    assert!(
        c.failures.is_empty() && uncovered.is_empty(),
        "{} of {} responses differ from the OpenAPI document:\n{}\n\
         operations never answered with a documented 2xx in this flow: {uncovered:?}",
        c.failures.len(),
        c.checked,
        c.failures.join("\n")
    );
}

/// The checker itself: a body with a field missing, a field added or a wrong type, and an
/// undocumented status, are all reported.
#[test]
fn the_conformance_check_flags_drifted_bodies() {
    use serde_json::json;
    let mut c = Conformance::new(tillbridge_tests::AdminClient::new("http://unused", None));
    let unit = json!({
        "id": "u1", "company_id": "acme", "name": "Store", "code": null, "description": null,
        "created_at": "2026-11-20T08:00:00.000Z", "updated_at": "2026-11-20T08:00:00.000Z",
        "version": 1
    });
    let path = "/v1/companies/acme/storage-units/u1";
    c.check("GET", path, 200, &unit);
    assert!(c.failures.is_empty(), "{:?}", c.failures);
    let mut missing = unit.clone();
    missing.as_object_mut().unwrap().remove("name");
    let mut added = unit.clone();
    added["secret"] = json!("x");
    let mut retyped = unit.clone();
    retyped["version"] = json!("1");
    for body in [missing, added, retyped] {
        c.check("GET", path, 200, &body);
    }
    c.check("GET", path, 418, &unit);
    c.check(
        "GET",
        path,
        404,
        &json!({"error": {"code": "no_such_code", "message": "x"}}),
    );
    assert_eq!(c.failures.len(), 5, "{:#?}", c.failures);
    assert_eq!(c.covered.len(), 1);
}
