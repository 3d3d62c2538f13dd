//! The transfer engine end to end: the admin API and the transfer-worker handler against
//! DynamoDB Local, moto and the Lightspeed simulator. Expected ledgers come from the
//! simulator's ground truth pushed through the test's own recipe arithmetic.

use tillbridge_tests::fixture::TransferFixture;

#[tokio::test]
async fn ledger_equals_ground_truth_for_random_days() {
    let fixture = TransferFixture::new("xfer-truth").await;
    let mut runs: std::collections::BTreeMap<String, u64> = Default::default();
    for (location, date) in fixture.sample_days(3) {
        *runs.entry(location.clone()).or_default() += 2;
        let (status, result) = fixture.transfer(&location, &date, true).await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["success"], true, "{result}");
        let truth = fixture.ground_truth(&location, &date).await;
        let expected = fixture.expected_from(&truth);
        assert!(
            !expected.is_empty(),
            "{location} {date} sold nothing mapped"
        );
        assert_eq!(
            fixture.ledger_totals(&location, &date).await,
            expected,
            "{location} {date}: {result}"
        );
        let stats = &result["stats"];
        assert_eq!(
            stats["sales_count"].as_u64().unwrap(),
            truth["saleCount"].as_u64().unwrap() + truth["refundCount"].as_u64().unwrap()
        );
        assert!(
            stats["unmapped_names"]
                .as_array()
                .is_some_and(|n| !n.is_empty()),
            "one SKU in five is unmapped: {stats}"
        );
        assert!(stats["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("unmapped_pos_name:")));
        assert_eq!(
            result["ledger_ids"].as_array().unwrap().len(),
            stats["ledger_entries_created"].as_u64().unwrap() as usize
        );

        // Again without force refresh: the cache is used and nothing new is posted.
        let (status, again) = fixture.transfer(&location, &date, false).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["stats"]["used_cache"], true);
        assert_eq!(again["stats"]["idempotent"], true, "{again}");
        assert_eq!(again["stats"]["ledger_entries_created"], 0);
        assert_eq!(fixture.ledger_totals(&location, &date).await, expected);
    }
    for (location, count) in runs {
        let (status, detail) = fixture
            .env
            .client(&fixture.company)
            .get(&format!(
                "/v1/companies/{}/locations/{location}",
                fixture.company
            ))
            .await
            .unwrap();
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["stats"]["issues_lifetime"], count, "{detail}");
        assert_eq!(detail["stats"]["issues_failed_lifetime"], 0);
        assert!(
            detail["health"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["code"] == "unmapped_in_recent_transfers"),
            "{detail}"
        );
    }
}
