//! template.yaml against the workspace: one function per crate, each binary known to the
//! local host, every queue dead-lettered and every dead-letter queue alarmed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use tillbridge_local::host::functions::{HTTP_FUNCTIONS, QUEUE_FUNCTIONS, SCHEDULED_FUNCTIONS};
use tillbridge_local::template::{EventDef, LocalTemplate};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_function_crate_is_deployed_and_every_deployed_binary_is_a_crate() {
    let template = LocalTemplate::load(&root().join("template.yaml")).unwrap();
    let deployed: BTreeSet<String> = template
        .functions
        .iter()
        .map(|f| f.binary.clone())
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(deployed, crates);
    for name in &crates {
        let manifest =
            std::fs::read_to_string(root().join("functions").join(name).join("Cargo.toml"))
                .unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name}: bin name must equal the template's Binary"
        );
    }
}

#[test]
fn the_host_runs_each_function_by_its_event_kind() {
    let template = LocalTemplate::load(&root().join("template.yaml")).unwrap();
    for function in &template.functions {
        let kinds: BTreeSet<&str> = function
            .events
            .iter()
            .map(|e| match e {
                EventDef::Http { .. } => "http",
                EventDef::Sqs { .. } => "sqs",
                EventDef::Schedule { .. } => "schedule",
            })
            .collect();
        let expected = if HTTP_FUNCTIONS.contains(&function.binary.as_str()) {
            "http"
        } else if QUEUE_FUNCTIONS.contains(&function.binary.as_str()) {
            "sqs"
        } else {
            assert!(
                SCHEDULED_FUNCTIONS.contains(&function.binary.as_str()),
                "{} unknown to the host",
                function.binary
            );
            "schedule"
        };
        assert_eq!(kinds, BTreeSet::from([expected]), "{}", function.binary);
    }
}

#[test]
fn every_dead_letter_queue_has_an_alarm() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template = LocalTemplate::parse(&text).unwrap();
    let dlqs: BTreeSet<String> = template
        .queues
        .iter()
        .filter_map(|q| q.redrive.as_ref().map(|r| r.dead_letter_queue.clone()))
        .collect();
    assert_eq!(dlqs.len(), 4);
    for dlq in dlqs {
        assert!(
            text.contains(&format!("Value: !GetAtt {dlq}.QueueName")),
            "no CloudWatch alarm on {dlq}"
        );
    }
}
