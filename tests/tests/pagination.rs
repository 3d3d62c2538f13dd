//! The lists not paged elsewhere: alerts and transfer logs, each item exactly once.

use std::collections::BTreeSet;

use tillbridge::transfer::{TransferLog, TransferStatus};
use tillbridge_tests::{unique_company, TestEnv};

#[tokio::test]
async fn alerts_page_through_every_open_alert_once() {
    let env = TestEnv::http().await;
    let company = unique_company("alert-pages");
    let deps = env.deps("admin-api").await;
    for i in 0..5 {
        tillbridge::alerts::raise(
            deps.store.as_ref(),
            &company,
            "unmapped_item",
            &format!("item-{i}"),
            "not mapped",
            "2026-11-22T00:00:00Z",
        )
        .await
        .unwrap();
    }
    let (items, pages) = env
        .client(&company)
        .list_all(&format!("/v1/companies/{company}/alerts?status=open"), 2)
        .await
        .unwrap();
    let subjects: BTreeSet<&str> = items
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!((items.len(), subjects.len(), pages), (5, 5, 3));
}

#[tokio::test]
async fn transfer_logs_page_newest_date_first() {
    let env = TestEnv::http().await;
    let company = unique_company("log-pages");
    let deps = env.deps("admin-api").await;
    for day in 1..=5 {
        let log = TransferLog {
            log_id: format!("req-{day}-1"),
            request_uuid: format!("req-{day}"),
            attempt: 1,
            company_id: company.clone(),
            location_id: "loc".into(),
            date: format!("2026-11-0{day}"),
            status: TransferStatus::Failed,
            success: false,
            no_data: false,
            ledger_ids: Vec::new(),
            force_refresh: false,
            stats: None,
            error: None,
            retry: None,
            requested_at: format!("2026-11-0{day}T05:00:00Z"),
            finished_at: format!("2026-11-0{day}T05:00:01Z"),
        };
        deps.store
            .put(
                log.to_item().unwrap(),
                tillbridge::store::Condition::NotExists,
            )
            .await
            .unwrap();
    }
    let (items, pages) = env
        .client(&company)
        .list_all(
            &format!("/v1/companies/{company}/locations/loc/transfer-logs"),
            2,
        )
        .await
        .unwrap();
    let dates: Vec<&str> = items.iter().map(|l| l["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        [
            "2026-11-05",
            "2026-11-04",
            "2026-11-03",
            "2026-11-02",
            "2026-11-01"
        ]
    );
    assert_eq!(pages, 3);
}
