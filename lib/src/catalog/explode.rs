//! Recipe explosion (pure): a sold quantity of a recipe becomes ingredient quantities.
//! Lines are ingredients or child recipes; a line's required quantity is
//! `quantity / (1 − trim% / 100)`. Cycles are reported, never followed; the walk uses an
//! explicit stack, so deep nesting cannot overflow the call stack.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::Quantity;

/// Decimals kept in exploded quantities (rounded half-even once, at the end).
pub const QUANTITY_DECIMALS: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineTarget {
    Ingredient(String),
    Recipe(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub target: LineTarget,
    pub quantity: Quantity,
    /// Percentage lost in preparation, in [0, 100).
    pub trim_pct: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplodeError {
    #[error("recipe cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("recipe `{0}` does not exist")]
    RecipeNotFound(String),
    #[error("trim percentage {0} is outside [0, 100)")]
    InvalidTrim(Decimal),
    /// The nested quantities of this recipe multiply past the exact decimal range.
    #[error("the quantities of recipe `{0}` multiply beyond the exact decimal range")]
    OutOfRange(String),
}

/// `1 − trim/100`, the share of a line left after preparation, or the trim error.
fn kept_share(trim_pct: Option<Decimal>) -> Result<Decimal, ExplodeError> {
    match trim_pct {
        None => Ok(Decimal::ONE),
        Some(trim) if trim < Decimal::ZERO || trim >= Decimal::ONE_HUNDRED => {
            Err(ExplodeError::InvalidTrim(trim))
        }
        Some(trim) => Ok(Decimal::ONE - trim / Decimal::ONE_HUNDRED),
    }
}

/// `quantity / (1 − trim/100)`, or the trim error.
pub fn required(quantity: Decimal, trim_pct: Option<Decimal>) -> Result<Decimal, ExplodeError> {
    let share = kept_share(trim_pct)?;
    quantity
        .checked_div(share)
        .ok_or_else(|| ExplodeError::OutOfRange(String::new()))
}

/// An ingredient's exact quantity as numerators summed per denominator (the product of the
/// trim shares on its path). Trims divide, and `0.125 / 0.96` never terminates: dividing
/// once, after everything sold is summed, keeps a day whose exact total is a rounding tie on
/// the right side of it.
pub type Fractions = BTreeMap<Decimal, Decimal>;

/// `Σ numerator / denominator`, or `None` beyond the decimal range. The fractions are first
/// brought to one common denominator when that is exact (decimal products silently round
/// once their scale passes 28), so a single division decides the rounding: an exact tie
/// terminates and is represented exactly. Otherwise each fraction is divided on its own.
pub fn fractions_value(fractions: &Fractions) -> Option<Decimal> {
    let common = fractions.iter().try_fold(
        (Decimal::ZERO, Decimal::ONE),
        |(numerator, denominator), (d, n)| {
            let numerator = exact_add(exact_mul(numerator, *d)?, exact_mul(*n, denominator)?)?;
            Some((numerator, exact_mul(denominator, *d)?))
        },
    );
    if let Some(value) = common.and_then(|(n, d)| n.checked_div(d)) {
        return Some(value);
    }
    fractions
        .iter()
        .try_fold(Decimal::ZERO, |total, (denominator, numerator)| {
            total.checked_add(numerator.checked_div(*denominator)?)
        })
}

/// `a × b` when the product is exact (no rounding of the scale), else `None`.
fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_mul(b)
        .filter(|p| p.scale() == a.scale() + b.scale())
}

/// `a + b` when the sum is exact, else `None`.
fn exact_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_add(b)
        .filter(|s| s.scale() == a.scale().max(b.scale()))
}

/// Explodes `quantity` of `recipe_id` into ingredient quantities. `lines_of` returns a
/// recipe's lines, or `None` when it does not exist.
pub fn explode<'a>(
    recipe_id: &str,
    quantity: Quantity,
    lines_of: impl Fn(&str) -> Option<&'a [Line]>,
) -> Result<BTreeMap<String, Quantity>, ExplodeError> {
    Ok(explode_exact(recipe_id, quantity, lines_of)?
        .into_iter()
        .map(|(id, q)| {
            (
                id,
                Quantity(q.round_dp_with_strategy(
                    QUANTITY_DECIMALS,
                    RoundingStrategy::MidpointNearestEven,
                )),
            )
        })
        .collect())
}

/// Like [`explode`] but unrounded, for callers that sum many explosions and round once
/// (the transfer engine rounds each ledger entry, not each sales line).
pub fn explode_exact<'a>(
    recipe_id: &str,
    quantity: Quantity,
    lines_of: impl Fn(&str) -> Option<&'a [Line]>,
) -> Result<BTreeMap<String, Decimal>, ExplodeError> {
    explode_fractions(recipe_id, quantity, lines_of)?
        .into_iter()
        .map(|(id, fractions)| match fractions_value(&fractions) {
            Some(total) => Ok((id, total)),
            None => Err(ExplodeError::OutOfRange(recipe_id.to_string())),
        })
        .collect()
}

/// Like [`explode_exact`] but with every quantity kept as [`Fractions`]. Every product and
/// sum is checked: quantities from outside can be as large as the range allows.
pub fn explode_fractions<'a>(
    recipe_id: &str,
    quantity: Quantity,
    lines_of: impl Fn(&str) -> Option<&'a [Line]>,
) -> Result<BTreeMap<String, Fractions>, ExplodeError> {
    enum Step {
        /// A recipe entered with the numerator and denominator of its multiplier.
        Enter(String, Decimal, Decimal),
        Leave(String),
    }
    let out_of_range = || ExplodeError::OutOfRange(recipe_id.to_string());
    let mut totals: BTreeMap<String, Fractions> = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    let mut on_path: HashSet<String> = HashSet::new();
    let mut stack = vec![Step::Enter(
        recipe_id.to_string(),
        quantity.value(),
        Decimal::ONE,
    )];
    while let Some(step) = stack.pop() {
        match step {
            Step::Leave(id) => {
                on_path.remove(&id);
                path.pop();
            }
            Step::Enter(id, numerator, denominator) => {
                if on_path.contains(&id) {
                    let start = path.iter().position(|p| *p == id).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(id);
                    return Err(ExplodeError::Cycle(cycle));
                }
                let lines =
                    lines_of(&id).ok_or_else(|| ExplodeError::RecipeNotFound(id.clone()))?;
                on_path.insert(id.clone());
                path.push(id.clone());
                stack.push(Step::Leave(id));
                for line in lines.iter().rev() {
                    let share = kept_share(line.trim_pct)?;
                    let numerator = numerator
                        .checked_mul(line.quantity.value())
                        .ok_or_else(out_of_range)?;
                    let denominator = denominator.checked_mul(share).ok_or_else(out_of_range)?;
                    match &line.target {
                        LineTarget::Ingredient(ingredient) => {
                            let sum = totals
                                .entry(ingredient.clone())
                                .or_default()
                                .entry(denominator)
                                .or_default();
                            *sum = sum.checked_add(numerator).ok_or_else(out_of_range)?;
                        }
                        LineTarget::Recipe(child) => {
                            stack.push(Step::Enter(child.clone(), numerator, denominator))
                        }
                    }
                }
            }
        }
    }
    Ok(totals)
}

/// The first cycle reachable from `recipe_id`, if any (save-time check).
pub fn find_cycle<'a>(
    recipe_id: &str,
    lines_of: impl Fn(&str) -> Option<&'a [Line]>,
) -> Option<Vec<String>> {
    match explode(recipe_id, Quantity(Decimal::ONE), lines_of) {
        Err(ExplodeError::Cycle(cycle)) => Some(cycle),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn q(text: &str) -> Quantity {
        text.parse().unwrap()
    }

    fn ing(id: &str, quantity: &str, trim: Option<&str>) -> Line {
        Line {
            target: LineTarget::Ingredient(id.into()),
            quantity: q(quantity),
            trim_pct: trim.map(|t| t.parse().unwrap()),
        }
    }

    fn rec(id: &str, quantity: &str) -> Line {
        Line {
            target: LineTarget::Recipe(id.into()),
            quantity: q(quantity),
            trim_pct: None,
        }
    }

    #[test]
    fn a_burger_with_a_nested_sauce() {
        let book: HashMap<&str, Vec<Line>> = HashMap::from([
            (
                "burger",
                vec![
                    ing("bun", "1", None),
                    ing("patty", "0.180", None),
                    ing("tomato", "0.030", Some("25")),
                    rec("sauce", "0.020"),
                ],
            ),
            (
                "sauce",
                vec![ing("mayo", "0.5", None), ing("ketchup", "0.5", Some("0"))],
            ),
        ]);
        let out = explode("burger", q("3"), |id| book.get(id).map(Vec::as_slice)).unwrap();
        assert_eq!(out["bun"], q("3"));
        assert_eq!(out["patty"], q("0.54"));
        assert_eq!(out["tomato"], q("0.12"), "0.030 / 0.75 × 3");
        assert_eq!(out["mayo"], q("0.03"));
        assert_eq!(out["ketchup"], q("0.03"));
    }

    #[test]
    fn cycles_and_missing_children_are_reported() {
        let book: HashMap<&str, Vec<Line>> = HashMap::from([
            ("a", vec![rec("b", "1")]),
            ("b", vec![ing("x", "1", None), rec("c", "2")]),
            ("c", vec![rec("a", "1")]),
            ("d", vec![rec("missing", "1")]),
            ("self", vec![rec("self", "1")]),
        ]);
        let lookup = |id: &str| book.get(id).map(Vec::as_slice);
        assert_eq!(
            explode("a", q("1"), lookup),
            Err(ExplodeError::Cycle(vec![
                "a".into(),
                "b".into(),
                "c".into(),
                "a".into()
            ]))
        );
        assert_eq!(
            find_cycle("self", lookup),
            Some(vec!["self".into(), "self".into()])
        );
        assert_eq!(
            explode("d", q("1"), lookup),
            Err(ExplodeError::RecipeNotFound("missing".into()))
        );
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        // top uses `base` twice through two branches.
        let book: HashMap<&str, Vec<Line>> = HashMap::from([
            ("top", vec![rec("left", "1"), rec("right", "1")]),
            ("left", vec![rec("base", "2")]),
            ("right", vec![rec("base", "3")]),
            ("base", vec![ing("flour", "0.1", None)]),
        ]);
        let out = explode("top", q("1"), |id| book.get(id).map(Vec::as_slice)).unwrap();
        assert_eq!(out["flour"], q("0.5"));
    }

    #[test]
    fn trim_must_be_within_zero_and_one_hundred() {
        assert_eq!(
            required(Decimal::ONE, Some(Decimal::ONE_HUNDRED)),
            Err(ExplodeError::InvalidTrim(Decimal::ONE_HUNDRED))
        );
        assert!(required(Decimal::ONE, Some(Decimal::NEGATIVE_ONE)).is_err());
        assert_eq!(
            required(Decimal::ONE, Some(Decimal::from(50))).unwrap(),
            Decimal::from(2)
        );
    }

    #[test]
    fn quantities_beyond_the_range_are_an_error_not_a_panic() {
        let max = "79228162514264337593543950335";
        let book: HashMap<&str, Vec<Line>> = HashMap::from([
            ("big", vec![ing("flour", "1000", None)]),
            (
                "trimmed",
                vec![ing("flour", "1", Some("99.9999999999999999999999999"))],
            ),
            ("nested", vec![rec("inner", max)]),
            ("inner", vec![ing("flour", "2", None)]),
        ]);
        let lookup = |id: &str| book.get(id).map(Vec::as_slice);
        assert_eq!(
            explode("big", q(max), lookup),
            Err(ExplodeError::OutOfRange("big".into()))
        );
        assert_eq!(
            explode("trimmed", q("1000"), lookup),
            Err(ExplodeError::OutOfRange("trimmed".into()))
        );
        assert_eq!(
            explode("nested", q("1"), lookup),
            Err(ExplodeError::OutOfRange("nested".into()))
        );
        assert_eq!(explode("inner", q("1"), lookup).unwrap()["flour"], q("2"));
    }

    #[test]
    fn a_total_that_is_an_exact_tie_rounds_half_even_from_the_exact_value() {
        // 0.125 / 0.96 never terminates; 10.692 sold × 0.125 / 0.96 is exactly 1.3921875, a
        // tie at six decimals that half-even rounds up to 1.392188.
        let book: HashMap<&str, Vec<Line>> =
            HashMap::from([("dish", vec![ing("sauce", "0.125", Some("4"))])]);
        let out = explode("dish", q("10.692"), |id| book.get(id).map(Vec::as_slice)).unwrap();
        assert_eq!(out["sauce"], q("1.392188"));
    }

    #[test]
    fn a_chain_ten_thousand_deep_does_not_overflow() {
        let mut book: HashMap<String, Vec<Line>> = HashMap::new();
        for i in 0..10_000 {
            book.insert(format!("r{i}"), vec![rec(&format!("r{}", i + 1), "1")]);
        }
        book.insert("r10000".into(), vec![ing("salt", "0.001", None)]);
        let out = explode("r0", q("2"), |id| book.get(id).map(Vec::as_slice)).unwrap();
        assert_eq!(out["salt"], q("0.002"));
        book.insert("r10000".into(), vec![rec("r0", "1")]);
        assert!(
            matches!(explode("r0", q("1"), |id| book.get(id).map(Vec::as_slice)), Err(ExplodeError::Cycle(c)) if c.len() == 10_002)
        );
    }

    /// A straightforward recursive explosion to compare against.
    fn reference(
        book: &HashMap<String, Vec<Line>>,
        id: &str,
        multiplier: Decimal,
        out: &mut BTreeMap<String, Decimal>,
    ) {
        for line in &book[id] {
            let trim = line.trim_pct.unwrap_or_default();
            let amount =
                multiplier * line.quantity.value() / (Decimal::ONE - trim / Decimal::ONE_HUNDRED);
            match &line.target {
                LineTarget::Ingredient(i) => *out.entry(i.clone()).or_default() += amount,
                LineTarget::Recipe(r) => reference(book, r, amount, out),
            }
        }
    }

    /// Random acyclic recipe books at least `depth` levels deep: recipe `k` may only use
    /// recipes with a larger index, so there is never a cycle; recipe 0 → 1 → … → depth.
    fn acyclic_book() -> impl Strategy<Value = HashMap<String, Vec<Line>>> {
        (6usize..12).prop_flat_map(|recipes| {
            let line = (
                0usize..recipes + 4,
                1u32..5000,
                prop::option::of(0u32..9000),
            );
            prop::collection::vec(prop::collection::vec(line, 1..5), recipes).prop_map(move |raw| {
                let mut book = HashMap::new();
                for (k, lines) in raw.into_iter().enumerate() {
                    let mut out = Vec::new();
                    if k + 1 < recipes && k < 5 {
                        out.push(rec(&format!("r{}", k + 1), "1.5"));
                    }
                    for (target, qty, trim) in lines {
                        let quantity = Quantity(Decimal::new(i64::from(qty), 3));
                        let trim_pct = trim.map(|t| Decimal::new(i64::from(t), 2));
                        let target = if target > k && target < recipes {
                            LineTarget::Recipe(format!("r{target}"))
                        } else {
                            LineTarget::Ingredient(format!("i{}", target % 4))
                        };
                        out.push(Line {
                            target,
                            quantity,
                            trim_pct,
                        });
                    }
                    book.insert(format!("r{k}"), out);
                }
                book
            })
        })
    }

    proptest! {
        #[test]
        fn explosion_equals_an_independent_recursive_calculation(book in acyclic_book(), sold in 1u32..20) {
            let sold = Decimal::from(sold);
            let got = explode("r0", Quantity(sold), |id| book.get(id).map(Vec::as_slice)).unwrap();
            let mut expected = BTreeMap::new();
            reference(&book, "r0", sold, &mut expected);
            let expected: BTreeMap<String, Quantity> = expected
                .into_iter()
                .map(|(k, v)| (k, Quantity(v.round_dp_with_strategy(QUANTITY_DECIMALS, RoundingStrategy::MidpointNearestEven))))
                .collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn any_back_edge_is_reported_as_a_cycle(book in acyclic_book(), from in 0usize..5) {
            // Close the chain r0 → … → r{from+1} back onto r{from}.
            let mut book = book;
            let target = format!("r{}", from + 1);
            if let Some(lines) = book.get_mut(&target) {
                lines.push(rec(&format!("r{from}"), "1"));
                let result = explode("r0", Quantity(Decimal::ONE), |id| book.get(id).map(Vec::as_slice));
                prop_assert!(matches!(result, Err(ExplodeError::Cycle(_))), "{:?}", result);
            }
        }
    }
}
