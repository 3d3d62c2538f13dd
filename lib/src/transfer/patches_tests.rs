use std::sync::Arc;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::ledger::derive::Contribution;
use crate::ledger::entry::Stream;
use crate::money::Quantity;
use crate::sales::canonical::fixtures::line;
use crate::sales::SaleKind;
use crate::store::memory::MemoryStore;

fn sale(id: &str, kind: SaleKind, quantities: &[i64]) -> CanonicalSale {
    CanonicalSale {
        sale_id: id.into(),
        receipt: None,
        kind,
        closed_at: chrono::DateTime::UNIX_EPOCH,
        original_sale_id: None,
        currency: None,
        lines: quantities
            .iter()
            .enumerate()
            .map(|(n, q)| line(&format!("l{n}"), "flat-white", &q.to_string()))
            .collect(),
        payments: Vec::new(),
        register_id: None,
    }
}

fn state_of(quantity: i64, entry: &str) -> LineState {
    LineState {
        contributions: Arc::from([Contribution {
            ingredient_id: "milk".into(),
            stream: Stream::Sales,
            quantity: Quantity(Decimal::from(quantity)),
        }]),
        entries: Arc::from([entry.to_string()]),
    }
}

/// A day as a derivation leaves it: each line of a sale feeds its quantity of milk.
fn day_of(sales: Vec<CanonicalSale>, entry: &str) -> CachedDay {
    let lines = sales
        .iter()
        .filter(|s| s.kind == SaleKind::Sale)
        .flat_map(|s| {
            s.lines.iter().map(|l| {
                (
                    crate::ledger::derive::line_key(&s.sale_id, &l.line_id),
                    state_of(l.quantity.value().try_into().unwrap_or(0), entry),
                )
            })
        })
        .collect();
    CachedDay {
        fetched_at: "2026-03-01T05:00:00Z".into(),
        sales,
        lines,
        ..CachedDay::default()
    }
}

/// A day's content regardless of order: sales by id, lines by key.
fn content(day: &CachedDay) -> (Vec<CanonicalSale>, Vec<(String, LineState)>) {
    let mut sales = day.sales.clone();
    sales.sort_by(|a, b| a.sale_id.cmp(&b.sale_id));
    let mut lines: Vec<(String, LineState)> = day
        .lines
        .iter()
        .map(|(key, state)| (key.to_string(), state.clone()))
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    (sales, lines)
}

fn patches_between(before: &CachedDay, after: &CachedDay, max: usize) -> Option<Vec<SalePatch>> {
    diff(
        &before.sales,
        &before.lines.to_states(),
        &after.sales,
        &after.lines,
        max,
    )
}

#[test]
fn only_the_sales_that_changed_are_patched() {
    let before = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1, 2]),
            sale("b", SaleKind::Sale, &[3]),
            sale("c", SaleKind::Sale, &[4]),
        ],
        "e1",
    );
    // `b` voided, `c` unchanged, `d` new, and `a`'s second line now fed another entry.
    let mut after = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1, 2]),
            sale("b", SaleKind::Void, &[3]),
            sale("c", SaleKind::Sale, &[4]),
            sale("d", SaleKind::Sale, &[5]),
        ],
        "e1",
    );
    if let Some(state) = after.lines.get_mut("a/l1") {
        *state = state_of(2, "e2");
    }
    let patches = patches_between(&before, &after, 16).unwrap();
    let ids: Vec<&str> = patches.iter().map(|p| p.sale_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "d"]);
    let b = &patches[1];
    assert_eq!(
        b.sale.as_ref().map(|s| s.kind.clone()),
        Some(SaleKind::Void)
    );
    assert!(b.lines.is_empty(), "a void feeds nothing: {:?}", b.lines);
    assert_eq!(patches[0].lines.get("a/l1"), Some(&state_of(2, "e2")));
    assert_eq!(patches[0].lines.len(), 2);

    let mut patched = before.clone();
    apply(&mut patched, patches);
    assert_eq!(content(&patched), content(&after));
    // Unchanged sales keep their place; the new one comes last.
    let order: Vec<&str> = patched.sales.iter().map(|s| s.sale_id.as_str()).collect();
    assert_eq!(order, ["a", "b", "c", "d"]);
}

#[test]
fn a_day_without_changes_has_no_patches_and_too_many_changes_have_none_at_all() {
    let day = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1]),
            sale("b", SaleKind::Sale, &[2]),
        ],
        "e1",
    );
    assert_eq!(patches_between(&day, &day, 16), Some(Vec::new()));
    let after = day_of(
        vec![
            sale("a", SaleKind::Sale, &[7]),
            sale("b", SaleKind::Sale, &[8]),
        ],
        "e2",
    );
    assert_eq!(patches_between(&day, &after, 2).map(|p| p.len()), Some(2));
    assert_eq!(patches_between(&day, &after, 1), None);
}

#[test]
fn sale_ids_that_do_not_split_line_keys_cleanly_are_not_patched() {
    let plain = day_of(vec![sale("a", SaleKind::Sale, &[1])], "e1");
    for id in ["a/b", "a b", ""] {
        let odd = day_of(vec![sale(id, SaleKind::Sale, &[1])], "e1");
        assert_eq!(patches_between(&plain, &odd, 16), None, "{id:?}");
    }
    // The same sale twice in a day.
    let twice = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1]),
            sale("a", SaleKind::Sale, &[2]),
        ],
        "e1",
    );
    assert_eq!(patches_between(&plain, &twice, 16), None);
}

#[test]
fn the_limit_is_a_quarter_of_the_day_and_at_least_sixteen() {
    assert_eq!(limit(0), 16);
    assert_eq!(limit(64), 16);
    assert_eq!(limit(100), 25);
    assert_eq!(limit(10_000), 2_500);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever happens to a day's sales, its cache patched with the diff is the new day.
    #[test]
    fn a_patched_day_is_the_day_it_was_patched_to(
        before in proptest::collection::vec((0u8..12, 0i64..4, 1usize..4), 0..10),
        after in proptest::collection::vec((0u8..12, 0i64..4, 1usize..4), 0..10),
    ) {
        let day = |spec: &[(u8, i64, usize)], entry: &str| {
            let mut seen = std::collections::BTreeSet::new();
            let sales = spec
                .iter()
                .filter(|(id, _, _)| seen.insert(*id))
                .map(|(id, kind, lines)| {
                    let kind = match kind {
                        0 => SaleKind::Void,
                        1 => SaleKind::Refund,
                        _ => SaleKind::Sale,
                    };
                    let quantities: Vec<i64> = (1..=*lines as i64).collect();
                    sale(&format!("s{id}"), kind, &quantities)
                })
                .collect();
            day_of(sales, entry)
        };
        let before = day(&before, "e1");
        let after = day(&after, "e2");
        let patches = patches_between(&before, &after, usize::MAX).unwrap();
        let mut patched = before.clone();
        apply(&mut patched, patches);
        prop_assert_eq!(content(&patched), content(&after));
    }
}

fn day_state(version: u64) -> DayState {
    DayState {
        company_id: "c".into(),
        location_id: "loc".into(),
        business_date: "2026-03-01".into(),
        generation: 1,
        version,
        ..DayState::default()
    }
}

fn encoded(patches: &[SalePatch]) -> Vec<(String, String)> {
    encode(patches).unwrap().unwrap()
}

fn patch(id: &str, quantity: i64) -> SalePatch {
    SalePatch {
        sale_id: id.into(),
        sale: Some(sale(id, SaleKind::Sale, &[quantity])),
        lines: [(format!("{id}/l0"), state_of(quantity, "e"))]
            .into_iter()
            .collect(),
    }
}

fn quantities(patches: &[SalePatch]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = patches
        .iter()
        .map(|p| {
            let q = p
                .sale
                .as_ref()
                .map_or(0, |s| s.lines[0].quantity.value().try_into().unwrap_or(-1));
            (p.sale_id.clone(), q)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_patch_is_read_once_its_run_completed_and_the_latest_run_wins() {
    let store = MemoryStore::new();
    // Run 4 (the state read at version 3) patches `a` and `b` and completes.
    let superseded = write(
        &store,
        &day_state(3),
        &encoded(&[patch("a", 1), patch("b", 1)]),
    )
    .await
    .unwrap();
    assert!(superseded.is_empty());
    // Not read before its run completed: a crash before the state moved on.
    assert!(current(&store, &day_state(3)).await.unwrap().is_empty());
    let read = current(&store, &day_state(4)).await.unwrap();
    assert_eq!(quantities(&read), [("a".into(), 1), ("b".into(), 1)]);

    // Run 5 patches `a` again: the run-4 patch of `a` is superseded, `b`'s is not.
    let superseded = write(&store, &day_state(4), &encoded(&[patch("a", 2)]))
        .await
        .unwrap();
    assert_eq!(superseded.len(), 1);
    assert!(superseded[0].sk.ends_with("#a") && superseded[0].sk.contains("#000000000004#"));
    let read = current(&store, &day_state(5)).await.unwrap();
    assert_eq!(quantities(&read), [("a".into(), 2), ("b".into(), 1)]);
    drop_superseded(&store, &superseded).await;
    assert_eq!(stored(&store, &day_state(5), 1).await.unwrap().len(), 2);
}

#[tokio::test]
async fn what_a_crashed_run_wrote_is_deleted_by_the_next_and_never_read() {
    let store = MemoryStore::new();
    write(&store, &day_state(3), &encoded(&[patch("a", 1)]))
        .await
        .unwrap();
    // Run 5 crashes after patching `x` (the state stays at version 4).
    write(&store, &day_state(4), &encoded(&[patch("x", 9)]))
        .await
        .unwrap();
    // Its retry, also run 5, patches only `b`: `x` must not become current with it.
    write(&store, &day_state(4), &encoded(&[patch("b", 2)]))
        .await
        .unwrap();
    let read = current(&store, &day_state(5)).await.unwrap();
    assert_eq!(quantities(&read), [("a".into(), 1), ("b".into(), 2)]);
}

#[tokio::test]
async fn a_cached_day_is_read_with_its_current_patches() {
    let store = MemoryStore::new();
    let before = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1]),
            sale("b", SaleKind::Sale, &[2]),
        ],
        "e1",
    );
    let after = day_of(
        vec![
            sale("a", SaleKind::Sale, &[1]),
            sale("b", SaleKind::Void, &[2]),
        ],
        "e2",
    );
    let state = DayState {
        chunks: cache::write_generation(&store, &day_state(3), 1, &before)
            .await
            .unwrap(),
        ..day_state(3)
    };
    let patches = patches_between(&before, &after, 16).unwrap();
    write(&store, &state, &encoded(&patches)).await.unwrap();
    let patched = DayState {
        version: 4,
        patches: 1,
        fetched_at: Some("2026-03-01T09:00:00Z".into()),
        ..state.clone()
    };
    let read = cache::load(&store, &patched).await.unwrap().unwrap();
    assert_eq!(content(&read), content(&after));
    assert_eq!(read.fetched_at, "2026-03-01T09:00:00Z");
    // A state that counts no patches reads the generation alone.
    let unpatched = DayState {
        version: 4,
        ..state
    };
    let read = cache::load(&store, &unpatched).await.unwrap().unwrap();
    assert_eq!(content(&read), content(&before));
}
