//! JSON-RPC transport and the journal entry rules, against the running server over HTTP.

mod common;

use common::Sim;
use serde_json::{json, Value};

#[tokio::test]
async fn version_is_odoo_18_and_a_wrong_password_authenticates_as_false() {
    let sim = Sim::start().await;
    let v = sim.rpc("common", "version", json!([])).await;
    assert_eq!(
        v["result"],
        json!({"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""],
            "server_serie": "18.0", "protocol_version": 1})
    );
    let uid = sim
        .rpc(
            "common",
            "authenticate",
            json!(["tillbridge", "admin", "admin", {}]),
        )
        .await;
    assert_eq!(uid["result"], json!(2));
    let by_key = sim
        .rpc(
            "common",
            "login",
            json!(["tillbridge", "admin", sim.odoo.api_key()]),
        )
        .await;
    assert_eq!(by_key["result"], json!(2));
    let wrong = sim
        .rpc(
            "common",
            "authenticate",
            json!(["tillbridge", "admin", "nope", {}]),
        )
        .await;
    assert_eq!(wrong["result"], json!(false));
    assert!(wrong.get("error").is_none());
}

#[tokio::test]
async fn a_bad_password_in_execute_kw_is_access_denied() {
    let sim = Sim::start().await;
    let answer = sim
        .rpc(
            "object",
            "execute_kw",
            json!(["tillbridge", 2, "wrong", "account.move", "search", [[]], {}]),
        )
        .await;
    assert_eq!(answer["error"]["code"], json!(200));
    assert_eq!(
        answer["error"]["data"]["name"],
        "odoo.exceptions.AccessDenied"
    );
}

#[tokio::test]
async fn a_balanced_entry_is_created_as_draft_and_posted_with_a_sequence_name() {
    let sim = Sim::start().await;
    let values = sim.day_entry("POS-PROOF/2026-11-21/store-1").await;
    let id = sim
        .ok("account.move", "create", json!([values]), json!({}))
        .await;
    let id = id.as_i64().expect("a dict creates one id");
    let draft = sim.read_move(id).await;
    assert_eq!(draft["name"], "/");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["date"], "2026-11-21");
    assert_eq!(draft["ref"], "POS-PROOF/2026-11-21/store-1");
    assert_eq!(draft["journal_id"][1], "Miscellaneous Operations");

    let posted = sim
        .kw("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    assert_eq!(posted.get("result"), Some(&json!(false)));
    let after = sim.read_move(id).await;
    assert_eq!(after["name"], "MISC/2026/11/0001");
    assert_eq!(after["state"], "posted");

    let lines = sim.read_lines(id).await;
    let cash = sim.account(1, "101501").await;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["account_id"], json!([cash, "101501 Cash"]));
    assert_eq!(lines[0]["debit"], json!(115.0));
    assert_eq!(lines[2]["credit"], json!(15.0));
    assert_eq!(lines[2]["balance"], json!(-15.0));

    // A list of dicts creates a list of ids.
    let ids = sim
        .ok(
            "account.move",
            "create",
            json!([[sim.day_entry("second").await]]),
            json!({}),
        )
        .await;
    assert!(ids.as_array().is_some_and(|a| a.len() == 1));
    sim.ok("account.move", "action_post", json!([ids]), json!({}))
        .await;
    let second = sim.read_move(ids[0].as_i64().unwrap()).await;
    assert_eq!(second["name"], "MISC/2026/11/0002");
}

#[tokio::test]
async fn amounts_are_rounded_to_the_currency_and_kept_exact() {
    let sim = Sim::start().await;
    let mut values = sim.day_entry("rounding").await;
    values["line_ids"][0][2]["debit"] = json!(115.004);
    let id = sim
        .ok("account.move", "create", json!([values]), json!({}))
        .await;
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    assert_eq!(lines[0]["debit"], json!(115.0));
    let mut values = sim.day_entry("cents").await;
    values["line_ids"][0][2]["debit"] = json!(114.99);
    values["line_ids"][2][2]["credit"] = json!(14.99);
    let id = sim
        .ok("account.move", "create", json!([values]), json!({}))
        .await;
    let lines = sim.read_lines(id.as_i64().unwrap()).await;
    assert_eq!(lines[0]["debit"].to_string(), "114.99");
    assert_eq!(lines[2]["credit"].to_string(), "14.99");
}

#[tokio::test]
async fn an_unbalanced_entry_is_refused_at_create_and_nothing_is_kept() {
    let sim = Sim::start().await;
    let mut values = sim.day_entry("UNBALANCED").await;
    values["line_ids"][2][2]["credit"] = json!(14.0);
    let answer = sim
        .kw("account.move", "create", json!([values]), json!({}))
        .await;
    assert!(answer.get("result").is_none());
    assert_eq!(answer["error"]["code"], json!(200));
    assert_eq!(answer["error"]["message"], "Odoo Server Error");
    assert_eq!(answer["error"]["data"]["name"], "odoo.exceptions.UserError");
    assert_eq!(
        answer["error"]["data"]["message"],
        "The entry is not balanced."
    );
    assert_eq!(
        answer["error"]["data"]["arguments"],
        json!(["The entry is not balanced."])
    );
    assert!(answer["error"]["data"]["debug"]
        .as_str()
        .unwrap()
        .starts_with("Traceback"));
    let count = sim
        .ok(
            "account.move",
            "search_count",
            json!([[["ref", "=", "UNBALANCED"]]]),
            json!({}),
        )
        .await;
    assert_eq!(count, json!(0));
}

#[tokio::test]
async fn a_method_returning_none_answers_without_a_result_key() {
    let sim = Sim::start().await;
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("NONE").await]),
            json!({}),
        )
        .await;
    sim.ok("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    let answer = sim
        .kw("account.move", "button_draft", json!([[id]]), json!({}))
        .await;
    let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["id", "jsonrpc"]);
    assert_eq!(sim.read_move(id.as_i64().unwrap()).await["state"], "draft");
}

#[tokio::test]
async fn private_and_unknown_methods_and_models_are_refused_as_odoo_does() {
    let sim = Sim::start().await;
    let private = sim
        .kw("account.move", "_post", json!([[1]]), json!({}))
        .await;
    assert_eq!(
        private["error"]["data"]["name"],
        "odoo.exceptions.AccessError"
    );
    assert_eq!(
        private["error"]["data"]["message"],
        "Private methods (such as 'account.move._post') cannot be called remotely."
    );
    let unknown = sim
        .kw("account.move", "post_it", json!([[1]]), json!({}))
        .await;
    assert_eq!(unknown["error"]["data"]["name"], "builtins.AttributeError");
    let model = sim.kw("sale.order", "search", json!([[]]), json!({})).await;
    assert_eq!(model["error"]["data"]["name"], "odoo.exceptions.UserError");
    assert_eq!(
        model["error"]["data"]["message"],
        "Object sale.order doesn't exist"
    );
    let field = sim
        .kw(
            "account.move",
            "search_read",
            json!([[]]),
            json!({"fields": ["nope"]}),
        )
        .await;
    assert_eq!(field["error"]["data"]["name"], "builtins.ValueError");
}

#[tokio::test]
async fn posting_twice_and_editing_a_posted_entry_are_refused_and_ref_is_not_unique() {
    let sim = Sim::start().await;
    let a = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("SAME").await]),
            json!({}),
        )
        .await;
    let b = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("SAME").await]),
            json!({}),
        )
        .await;
    sim.ok("account.move", "action_post", json!([[a, b]]), json!({}))
        .await;
    let again = sim
        .kw("account.move", "action_post", json!([[a]]), json!({}))
        .await;
    assert_eq!(again["error"]["data"]["name"], "odoo.exceptions.UserError");
    assert_eq!(
        again["error"]["data"]["message"],
        format!("The entry MISC/2026/11/0001 (id {a}) must be in draft.")
    );
    let write = sim
        .kw(
            "account.move",
            "write",
            json!([[a], {"date": "2026-11-22"}]),
            json!({}),
        )
        .await;
    assert_eq!(
        write["error"]["data"]["message"],
        "You cannot modify the following readonly fields on a posted move: date"
    );
    let ok = sim
        .kw(
            "account.move",
            "write",
            json!([[a], {"ref": "renamed"}]),
            json!({}),
        )
        .await;
    assert_eq!(ok["result"], json!(true));
    let unlink = sim
        .kw("account.move", "unlink", json!([[b]]), json!({}))
        .await;
    assert_eq!(unlink["error"]["data"]["name"], "odoo.exceptions.UserError");
    let found = sim
        .ok(
            "account.move",
            "search",
            json!([[["ref", "=", "SAME"]]]),
            json!({}),
        )
        .await;
    assert_eq!(found, json!([b]));
}

#[tokio::test]
async fn a_draft_can_be_deleted_and_then_reads_as_missing() {
    let sim = Sim::start().await;
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("GONE").await]),
            json!({}),
        )
        .await;
    assert_eq!(
        sim.ok("account.move", "unlink", json!([[id]]), json!({}))
            .await,
        json!(true)
    );
    let read = sim
        .kw(
            "account.move",
            "read",
            json!([[id]]),
            json!({"fields": ["name"]}),
        )
        .await;
    assert_eq!(
        read["error"]["data"]["name"],
        "odoo.exceptions.MissingError"
    );
}

#[tokio::test]
async fn a_deprecated_account_blocks_posting() {
    let sim = Sim::start().await;
    let mut values = sim.day_entry("DEPRECATED").await;
    let old_sales = sim.account(1, "400900").await;
    values["line_ids"][1][2]["account_id"] = json!(old_sales);
    let id = sim
        .ok("account.move", "create", json!([values]), json!({}))
        .await;
    let post = sim
        .kw("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    assert_eq!(
        post["error"]["data"]["message"],
        "A line of this move is using a deprecated account, you cannot post it."
    );
    assert_eq!(sim.read_move(id.as_i64().unwrap()).await["state"], "draft");
}

#[tokio::test]
async fn account_codes_resolve_in_the_company_of_the_context() {
    let sim = Sim::start().await;
    let gbp = sim.account(1, "101501").await;
    let nzd = sim.account(2, "101501").await;
    assert_ne!(gbp, nzd);
    let default = sim
        .ok(
            "account.account",
            "search_read",
            json!([[["code", "=", "101501"]]]),
            json!({"fields": ["code"]}),
        )
        .await;
    assert_eq!(default, json!([{"id": gbp, "code": "101501"}]));
    // The NZD company's cash account read in the GBP company has no code there.
    let read = sim
        .ok(
            "account.account",
            "read",
            json!([[nzd]]),
            json!({"fields": ["code"]}),
        )
        .await;
    assert_eq!(read[0]["code"], json!(false));
    let company = sim
        .ok(
            "res.company",
            "read",
            json!([[2]]),
            json!({"fields": ["currency_id"]}),
        )
        .await;
    assert_eq!(company[0]["currency_id"][1], "NZD");
    let user = sim
        .ok(
            "res.users",
            "search_read",
            json!([[["login", "=", "admin"]]]),
            json!({"fields": ["company_id"]}),
        )
        .await;
    assert_eq!(user[0]["company_id"][0], json!(1));
    // Mixing companies in one entry is refused.
    let mut values = sim.day_entry("MIXED").await;
    values["line_ids"][0][2]["account_id"] = json!(nzd);
    let answer = sim
        .kw("account.move", "create", json!([values]), json!({}))
        .await;
    assert!(answer["error"]["data"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Incompatible companies on records"));
}

#[tokio::test]
async fn domains_combine_operators() {
    let sim = Sim::start().await;
    for r in ["A-1", "A-2", "B-1"] {
        sim.ok(
            "account.move",
            "create",
            json!([sim.day_entry(r).await]),
            json!({}),
        )
        .await;
    }
    let count = |domain: Value| {
        let sim = &sim;
        async move {
            sim.ok("account.move", "search_count", json!([domain]), json!({}))
                .await
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count(json!([["ref", "like", "A-"]])).await, 2);
    assert_eq!(count(json!([["ref", "ilike", "a-"]])).await, 2);
    assert_eq!(count(json!([["ref", "in", ["A-1", "B-1"]]])).await, 2);
    assert_eq!(count(json!([["ref", "not in", ["A-1"]]])).await, 2);
    assert_eq!(
        count(json!(["|", ["ref", "=", "A-1"], ["ref", "=", "B-1"]])).await,
        2
    );
    assert_eq!(
        count(json!(["&", ["ref", "!=", "A-1"], ["state", "=", "draft"]])).await,
        2
    );
    assert_eq!(
        count(json!([
            ["date", ">=", "2026-11-21"],
            ["date", "<=", "2026-11-21"]
        ]))
        .await,
        3
    );
    assert_eq!(count(json!([["date", ">", "2026-11-21"]])).await, 0);
}

#[tokio::test]
async fn the_reversal_wizard_posts_a_reversing_entry_with_swapped_amounts() {
    let sim = Sim::start().await;
    let id = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("TO-REVERSE").await]),
            json!({}),
        )
        .await;
    sim.ok("account.move", "action_post", json!([[id]]), json!({}))
        .await;
    let wizard = sim
        .ok(
            "account.move.reversal",
            "create",
            json!([{"move_ids": [[6, 0, [id]]], "date": "2026-11-23", "reason": "wrong day",
                "journal_id": sim.journal(1, "MISC").await}]),
            json!({}),
        )
        .await;
    let action = sim
        .ok(
            "account.move.reversal",
            "refund_moves",
            json!([[wizard]]),
            json!({}),
        )
        .await;
    assert_eq!(action["type"], "ir.actions.act_window");
    assert_eq!(action["res_model"], "account.move");
    let reversal = action["res_id"].as_i64().unwrap();
    let m = sim.read_move(reversal).await;
    assert_eq!(m["state"], "posted");
    assert_eq!(m["date"], "2026-11-23");
    assert_eq!(m["name"], "MISC/2026/11/0002");
    assert_eq!(m["ref"], "Reversal of: MISC/2026/11/0001, wrong day");
    assert_eq!(m["reversed_entry_id"][0], id);
    let lines = sim.read_lines(reversal).await;
    let pairs: Vec<(f64, f64)> = lines
        .iter()
        .map(|l| (l["debit"].as_f64().unwrap(), l["credit"].as_f64().unwrap()))
        .collect();
    assert_eq!(pairs, vec![(0.0, 115.0), (100.0, 0.0), (15.0, 0.0)]);
    // Drafts cannot be reversed.
    let draft = sim
        .ok(
            "account.move",
            "create",
            json!([sim.day_entry("DRAFT").await]),
            json!({}),
        )
        .await;
    let refused = sim
        .kw(
            "account.move.reversal",
            "create",
            json!([{"move_ids": [draft]}]),
            json!({}),
        )
        .await;
    assert_eq!(
        refused["error"]["data"]["message"],
        "You can only reverse posted moves."
    );
}

#[tokio::test]
async fn concurrent_creates_all_land_with_distinct_ids_and_sequence_names() {
    let sim = Sim::start().await;
    let values = sim.day_entry("CONCURRENT").await;
    let calls = (0..40).map(|_| {
        let sim = &sim;
        let values = values.clone();
        async move {
            let id = sim
                .ok("account.move", "create", json!([values]), json!({}))
                .await;
            sim.ok("account.move", "action_post", json!([[id]]), json!({}))
                .await;
            id.as_i64().unwrap()
        }
    });
    let mut ids = futures::future::join_all(calls).await;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    let names = sim
        .ok(
            "account.move",
            "search_read",
            json!([[["ref", "=", "CONCURRENT"]]]),
            json!({"fields": ["name"]}),
        )
        .await;
    let mut names: Vec<String> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let expected: Vec<String> = (1..=40).map(|n| format!("MISC/2026/11/{n:04}")).collect();
    assert_eq!(names, expected);
}
