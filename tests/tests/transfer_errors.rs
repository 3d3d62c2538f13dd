//! Every error a manual transfer or a ledger query can answer, with its stable code and
//! status, and what each failed attempt leaves in the transfer logs.

use serde_json::{json, Value};
use tillbridge_tests::error_code;
use tillbridge_tests::fixture::TransferFixture;

async fn post(fixture: &TransferFixture, location: &str, body: Value) -> (u16, Value) {
    fixture
        .env
        .client(&fixture.company)
        .post(
            &format!(
                "/v1/companies/{}/locations/{location}/transfers",
                fixture.company
            ),
            &body,
            None,
        )
        .await
        .unwrap()
}

async fn get(fixture: &TransferFixture, path: &str) -> (u16, Value) {
    fixture
        .env
        .client(&fixture.company)
        .get(&format!("/v1/companies/{}{path}", fixture.company))
        .await
        .unwrap()
}

#[tokio::test]
async fn transfer_and_ledger_errors_have_stable_codes() {
    let fixture = TransferFixture::new("xfer-errors").await;
    let locations: Vec<String> = fixture.locations.keys().cloned().collect();
    let location = &locations[0];

    for (body, status, code) in [
        (json!({}), 400, "date_required"),
        (json!({"date": "2026-02-30"}), 400, "invalid_date_format"),
        (json!({"date": "20260201"}), 400, "invalid_date_format"),
        (
            json!({"date": "2026-02-01", "colour": "red"}),
            400,
            "validation_failed",
        ),
    ] {
        let (got, reply) = post(&fixture, location, body.clone()).await;
        assert_eq!((got, error_code(&reply)), (status, code), "{body}: {reply}");
    }
    let (got, reply) = post(&fixture, "no-such-location", json!({"date": "2026-02-01"})).await;
    assert_eq!(
        (got, error_code(&reply)),
        (404, "location_not_found"),
        "{reply}"
    );

    // Unlinked: storage_unit_required, and the attempt is in the failed logs.
    let api = fixture.env.client(&fixture.company);
    let (status, _) = api
        .request(
            reqwest::Method::DELETE,
            &format!(
                "/v1/companies/{}/locations/{}/storage-unit",
                fixture.company, locations[1]
            ),
            None,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (got, reply) = post(&fixture, &locations[1], json!({"date": "2026-02-01"})).await;
    assert_eq!(
        (got, error_code(&reply)),
        (422, "storage_unit_required"),
        "{reply}"
    );
    assert_eq!(reply["success"], false);
    let (_, detail) = get(&fixture, &format!("/locations/{}", locations[1])).await;
    assert_eq!(
        detail["recent_failed_transfers"][0]["error"]["code"], "storage_unit_required",
        "{detail}"
    );
    assert_eq!(detail["stats"]["issues_failed_lifetime"], 1);

    // Linked to a unit that no longer exists: location_has_no_storage_unit.
    let deps = fixture.env.deps("admin-api").await;
    let key = tillbridge::store::keys::location(&fixture.company, &locations[2]);
    let mut item = deps.store.get(&key).await.unwrap().unwrap();
    item.insert("storage_unit_id".into(), json!("vanished-unit"));
    deps.store
        .put(item, tillbridge::store::Condition::None)
        .await
        .unwrap();
    let (got, reply) = post(&fixture, &locations[2], json!({"date": "2026-02-01"})).await;
    assert_eq!(
        (got, error_code(&reply)),
        (422, "location_has_no_storage_unit"),
        "{reply}"
    );

    // Ledger queries.
    for (path, status, code) in [
        ("/ledger", 400, "validation_failed"),
        (
            "/ledger?storage_unit_id=a&ingredient_id=b",
            400,
            "validation_failed",
        ),
        (
            "/ledger?storage_unit_id=a&from=2026-13-01",
            400,
            "invalid_date_format",
        ),
        (
            "/ledger?storage_unit_id=a&from=2026-02-02&to=2026-02-01",
            400,
            "validation_failed",
        ),
        (
            "/ledger?storage_unit_id=a&cursor=bm9wZQ",
            400,
            "invalid_cursor",
        ),
        ("/ledger?sales_line=s/1", 400, "validation_failed"),
        ("/ledger?sales_line=s/1&location_id=l", 400, "date_required"),
        (
            "/ledger/su:loc:2026-02-01:ing:S0",
            404,
            "ledger_entry_not_found",
        ),
        ("/ledger/not-an-entry", 404, "ledger_entry_not_found"),
    ] {
        let (got, reply) = get(&fixture, path).await;
        assert_eq!((got, error_code(&reply)), (status, code), "{path}: {reply}");
    }

    // Revoked at Lightspeed: lightspeed_auth_failed, not retried.
    fixture
        .env
        .sim_control(reqwest::Method::POST, "/_sim/tokens/revoke-all", None)
        .await;
    // The admin API's cached access token is revoked too, so the refresh path runs.
    let (got, reply) = post(&fixture, location, json!({"date": "2026-02-01"})).await;
    assert_eq!(
        (got, error_code(&reply)),
        (424, "lightspeed_auth_failed"),
        "{reply}"
    );
    assert!(
        reply["retry"].is_null(),
        "auth failures go to the refresh path, not the retry queue"
    );
}
