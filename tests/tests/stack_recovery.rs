//! A stack whose processes were killed (say, mid-test) comes back on the next start: dead
//! services are replaced on fresh ports and the resources are provisioned again.

use tillbridge_local::stack::{down_in, ensure_up_in, StackHome};

#[tokio::test]
async fn a_killed_stack_is_restarted_and_reprovisioned() {
    let home = StackHome::at(
        tillbridge_local::paths::local_dir()
            .join("test-stacks")
            .join(uuid::Uuid::new_v4().to_string()),
    );
    let first = ensure_up_in(&home).await.unwrap();
    let pids = home.pids();
    assert_eq!(pids.len(), 2);
    for pid in &pids {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }
    let second = ensure_up_in(&home).await.unwrap();
    let new_pids = home.pids();
    assert!(
        new_pids.iter().all(|p| !pids.contains(p)),
        "{pids:?} → {new_pids:?}"
    );

    // The fresh emulators hold the template's table and queues again.
    let clients = tillbridge_local::provision::Clients::new(&second.resources.endpoints).await;
    let tables = clients.dynamodb.list_tables().send().await.unwrap();
    assert_eq!(
        tables.table_names(),
        std::slice::from_ref(&first.resources.table_name)
    );
    let queues = clients.sqs.list_queues().send().await.unwrap();
    assert_eq!(queues.queue_urls().len(), first.resources.queues.len());

    // A second start with everything healthy reuses the same processes.
    ensure_up_in(&home).await.unwrap();
    assert_eq!(home.pids(), new_pids);
    down_in(&home).unwrap();
    assert!(home.pids().is_empty());
}
