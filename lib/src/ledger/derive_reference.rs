//! The derivation as it was before the engine was made faster, kept verbatim (tests only)
//! so a differential test can hold the fast path to exactly the same results.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::catalog::explode::{explode_fractions, fractions_value, ExplodeError, Fractions};
use crate::ledger::derive::{
    line_key, Catalogue, Contribution, DayInput, Derived, DerivedStats, LineState, SkipReason,
};
use crate::ledger::entry::{
    entry_id, group, EntryReason, EntryType, LedgerEntry, Stream, MONEY_DECIMALS, QUANTITY_DECIMALS,
};
use crate::mapping::record::{Mapping, TargetKind};
use crate::money::{Money, Quantity};
use crate::sales::{CanonicalLine, CanonicalSale, SaleKind};

fn round(value: Decimal, decimals: u32) -> Decimal {
    value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven)
}

/// Ingredient quantities per unit of a target (exact fractions), or the exception that
/// prevents them.
type PerUnit = Result<Vec<(String, Fractions)>, String>;

/// Ingredient quantities per unit of a mapping's target, memoised per target.
struct Factors<'a> {
    catalogue: &'a Catalogue,
    memo: HashMap<(TargetKind, String), PerUnit>,
}

impl Factors<'_> {
    fn of(&mut self, kind: TargetKind, id: &str) -> &PerUnit {
        let catalogue = self.catalogue;
        self.memo
            .entry((kind, id.to_string()))
            .or_insert_with(|| match kind {
                TargetKind::Ingredient => Ok(vec![(
                    id.to_string(),
                    Fractions::from([(Decimal::ONE, Decimal::ONE)]),
                )]),
                TargetKind::Recipe => explode_fractions(id, Quantity(Decimal::ONE), |r| {
                    catalogue.recipes.get(r).map(Vec::as_slice)
                })
                .map(|totals| totals.into_iter().collect())
                .map_err(|err| match err {
                    ExplodeError::Cycle(path) => format!("recipe_cycle:{}", path.join("→")),
                    ExplodeError::InvalidTrim(_) => format!("invalid_trim_pct:{id}"),
                    ExplodeError::RecipeNotFound(missing) => {
                        format!("recipe_not_found:{missing}")
                    }
                    ExplodeError::OutOfRange(_) => format!("value_out_of_range:recipe:{id}"),
                }),
            })
    }
}

/// What the day's lines want of one (ingredient, stream): exact fractions, divided once.
#[derive(Default)]
struct Group {
    desired: Fractions,
    original_sales: BTreeSet<String>,
}

/// One line's deduction of one ingredient: `sold × mapping quantity × direction` times the
/// target's per-unit fractions; `None` beyond the decimal range.
fn line_fractions(sold: Decimal, per_unit: &Fractions) -> Option<Fractions> {
    per_unit
        .iter()
        .map(|(denominator, numerator)| Some((*denominator, sold.checked_mul(*numerator)?)))
        .collect()
}

/// One line's wanted fractions per ingredient, with their value.
type LineAmounts<'a> = Vec<(&'a String, Fractions, Decimal)>;

/// What one line sold wants of each ingredient of its target: `sold × mapping quantity`
/// (negative for a subtraction) times the per-unit fractions; `None` beyond the range.
fn line_amounts<'p>(
    quantity: Decimal,
    mapping: &Mapping,
    per_unit: &'p [(String, Fractions)],
) -> Option<LineAmounts<'p>> {
    let sold = quantity.checked_mul(mapping.quantity.value())?;
    let sold = if mapping.is_subtraction { -sold } else { sold };
    per_unit
        .iter()
        .map(|(ingredient_id, fractions)| {
            let wanted = line_fractions(sold, fractions)?;
            let amount = fractions_value(&wanted)?;
            Some((ingredient_id, wanted, amount))
        })
        .collect()
}

/// Each ingredient's group total once this line is added, all or nothing: `None` when a sum
/// (or its value) would leave the decimal range.
fn totals_with_line(
    groups: &BTreeMap<(String, Stream), Group>,
    stream: Stream,
    amounts: &[(&String, Fractions, Decimal)],
) -> Option<Vec<Fractions>> {
    amounts
        .iter()
        .map(|(ingredient_id, wanted, _)| {
            let mut total = groups
                .get(&((*ingredient_id).clone(), stream))
                .map(|g| g.desired.clone())
                .unwrap_or_default();
            for (denominator, numerator) in wanted {
                let sum = total.entry(*denominator).or_default();
                *sum = sum.checked_add(*numerator)?;
            }
            fractions_value(&total)?;
            Some(total)
        })
        .collect()
}

/// The change one group needs and how it is valued.
struct Posting {
    delta: Decimal,
    /// The change goes against what is posted (valued at what was posted, not today's cost).
    reduces: bool,
    unit_cost: Decimal,
    value: Decimal,
}

/// From `desired` (rounded) and what is posted to the entry that makes them equal; `None`
/// when a stored figure is so large that the arithmetic leaves the decimal range.
fn value_posting(desired: Decimal, earlier: &[&LedgerEntry], cost: Money) -> Option<Posting> {
    let posted_qty = Quantity::checked_sum(earlier.iter().map(|e| e.quantity))?.value();
    let posted_value = Money::checked_sum(earlier.iter().map(|e| e.value))?.value();
    let delta = desired.checked_sub(posted_qty)?;
    let reduces =
        !posted_qty.is_zero() && (delta.is_sign_negative() != posted_qty.is_sign_negative());
    if delta.is_zero() {
        return Some(Posting {
            delta,
            reduces,
            unit_cost: Decimal::ZERO,
            value: Decimal::ZERO,
        });
    }
    let (unit_cost, value) = if desired.is_zero() && !posted_qty.is_zero() {
        // Back to nothing: reverse exactly what was posted, value included.
        (
            round(posted_value.checked_div(posted_qty)?, QUANTITY_DECIMALS),
            -posted_value,
        )
    } else if reduces {
        let cost = round(posted_value.checked_div(posted_qty)?, QUANTITY_DECIMALS);
        (cost, round(delta.checked_mul(cost)?, MONEY_DECIMALS))
    } else {
        let cost = round(cost.value(), QUANTITY_DECIMALS);
        (cost, round(delta.checked_mul(cost)?, MONEY_DECIMALS))
    };
    Some(Posting {
        delta,
        reduces,
        unit_cost,
        value,
    })
}

/// Derives the day's new entries and line states. See the module comment.
pub fn derive(input: &DayInput) -> Derived {
    let mut wanted = Wanted::new(input.catalogue);
    for sale in input.sales {
        wanted.sale(sale);
    }
    let Wanted {
        mut stats,
        mut exceptions,
        mut groups,
        current,
        ..
    } = wanted;
    let posted = posted_by_group(input.posted);
    // Groups posted before but fed by nothing now must go back to zero.
    for entry in input.posted {
        groups
            .entry((entry.ingredient_id.clone(), entry.stream))
            .or_default();
    }
    let rounded = round_per_ingredient(&groups, &mut exceptions);
    let (mut new_entries, revisions) =
        post_differences(input, &groups, &posted, &rounded, &mut exceptions);
    let lines = attribute(input, current, &mut new_entries, &mut stats);
    stats.lines_skipped = stats.lines_total - stats.lines_processed;
    stats.exceptions = exceptions.into_iter().collect();
    Derived {
        new_entries,
        lines: lines.into_iter().collect(),
        revisions,
        stats,
    }
}

/// What the day's lines want of the ledger, line by line.
struct Wanted<'a> {
    catalogue: &'a Catalogue,
    factors: Factors<'a>,
    stats: DerivedStats,
    exceptions: BTreeSet<String>,
    groups: BTreeMap<(String, Stream), Group>,
    /// Line key → contributions now (only lines that feed something).
    current: Vec<(String, Vec<Contribution>)>,
    seen_keys: HashMap<String, usize>,
}

impl<'a> Wanted<'a> {
    fn new(catalogue: &'a Catalogue) -> Self {
        Self {
            catalogue,
            factors: Factors {
                catalogue,
                memo: HashMap::new(),
            },
            stats: DerivedStats::default(),
            exceptions: BTreeSet::new(),
            groups: BTreeMap::new(),
            current: Vec::new(),
            seen_keys: HashMap::new(),
        }
    }

    fn sale(&mut self, sale: &CanonicalSale) {
        if sale.counts() {
            self.stats.sales_count += 1;
        }
        let stream = match sale.kind {
            SaleKind::Sale => Some(Stream::Sales),
            SaleKind::Refund => Some(Stream::Refunds),
            _ => None,
        };
        for line in &sale.lines {
            self.stats.lines_total += 1;
            let mut key = line_key(&sale.sale_id, &line.line_id);
            let repeat = self.seen_keys.entry(key.clone()).or_insert(0);
            *repeat += 1;
            if *repeat > 1 {
                key = format!("{key}#{repeat}");
            }
            let contributions = match stream {
                None => Err(SkipReason::NotASale),
                Some(stream) => self.line(sale, line, stream),
            };
            match contributions {
                Ok(contributions) => self.current.push((key, contributions)),
                Err(reason) => {
                    *self.stats.skipped.entry(reason).or_insert(0) += 1;
                    self.current.push((key, Vec::new()));
                }
            }
        }
    }

    /// One line's contributions (already added to the groups), or why it is skipped.
    fn line(
        &mut self,
        sale: &CanonicalSale,
        line: &CanonicalLine,
        stream: Stream,
    ) -> Result<Vec<Contribution>, SkipReason> {
        let quantity = line.quantity.value();
        let name = line.item.name.trim();
        check_line(name, quantity, stream)?;
        let Some((mapped, _)) = self.catalogue.mappings.find(&line.item) else {
            self.exceptions.insert(format!("unmapped_pos_name:{name}"));
            let sold = self.stats.unmapped.entry(name.to_string()).or_default();
            // A ranking figure: saturate rather than fail the day.
            *sold = sold.checked_add(line.quantity).unwrap_or(*sold);
            return Err(SkipReason::Unmapped);
        };
        let mapping = &mapped.mapping;
        let per_unit = match self.factors.of(mapping.target_kind, &mapping.target_id) {
            Ok(per_unit) => per_unit,
            Err(exception) => {
                self.exceptions.insert(exception.clone());
                return Err(SkipReason::UnresolvedTarget);
            }
        };
        if let Some((missing, _)) = per_unit
            .iter()
            .find(|(id, _)| !self.catalogue.costs.contains_key(id))
        {
            let exception = self
                .catalogue
                .refused_costs
                .get(missing)
                .cloned()
                .unwrap_or_else(|| format!("ingredient_not_found:{missing}"));
            self.exceptions.insert(exception);
            return Err(SkipReason::UnresolvedTarget);
        }
        // Every figure here may come from outside: checked, and a line that leaves the
        // range is skipped with an exception while the rest of the day goes on.
        let amounts = line_amounts(quantity, mapping, per_unit);
        let totals = amounts
            .as_deref()
            .and_then(|amounts| totals_with_line(&self.groups, stream, amounts));
        let (Some(amounts), Some(totals)) = (amounts, totals) else {
            self.exceptions.insert(format!("value_out_of_range:{name}"));
            return Err(SkipReason::ValueOutOfRange);
        };
        let label = match mapping.target_kind {
            TargetKind::Ingredient => format!("ingredient:{}", mapping.target_id),
            TargetKind::Recipe => format!("recipe:{}", mapping.target_id),
        };
        *self.stats.recipes_used.entry(label).or_insert(0) += 1;
        let contributions = contribute(&mut self.groups, sale, stream, amounts, totals);
        self.stats.deductions += contributions.len();
        Ok(contributions)
    }
}

/// Adds a checked line's amounts to their groups, whose day totals become `totals`.
fn contribute(
    groups: &mut BTreeMap<(String, Stream), Group>,
    sale: &CanonicalSale,
    stream: Stream,
    amounts: LineAmounts<'_>,
    totals: Vec<Fractions>,
) -> Vec<Contribution> {
    let mut contributions = Vec::with_capacity(amounts.len());
    for ((ingredient_id, _, amount), total) in amounts.into_iter().zip(totals) {
        let group = groups.entry((ingredient_id.clone(), stream)).or_default();
        group.desired = total;
        if let Some(original) = &sale.original_sale_id {
            group.original_sales.insert(original.clone());
        }
        contributions.push(Contribution {
            ingredient_id: ingredient_id.clone(),
            stream,
            quantity: Quantity(amount),
        });
    }
    contributions
}

/// Why a line cannot be used whatever it is mapped to: no name, nothing sold, or a quantity
/// of the wrong sign for its stream.
fn check_line(name: &str, quantity: Decimal, stream: Stream) -> Result<(), SkipReason> {
    let wrong_sign = match stream {
        Stream::Sales => quantity < Decimal::ZERO,
        Stream::Refunds => quantity > Decimal::ZERO,
    };
    if name.is_empty() {
        Err(SkipReason::MissingName)
    } else if quantity.is_zero() {
        Err(SkipReason::ZeroQuantity)
    } else if wrong_sign {
        Err(SkipReason::NegativeQuantity)
    } else {
        Ok(())
    }
}

/// What is posted, per group, oldest revision first.
fn posted_by_group(posted: &[LedgerEntry]) -> BTreeMap<String, Vec<&LedgerEntry>> {
    let mut by_group: BTreeMap<String, Vec<&LedgerEntry>> = BTreeMap::new();
    for entry in posted {
        by_group.entry(entry.group()).or_default().push(entry);
    }
    for entries in by_group.values_mut() {
        entries.sort_by_key(|e| e.revision);
    }
    by_group
}

/// Rounded once per ingredient and day: refunds are rounded on their own and sales take
/// the rest, so an ingredient's day total is exact however the streams split it. An
/// ingredient whose totals leave the decimal range is left out, with an exception.
fn round_per_ingredient(
    groups: &BTreeMap<(String, Stream), Group>,
    exceptions: &mut BTreeSet<String>,
) -> HashMap<(String, Stream), Decimal> {
    let mut rounded = HashMap::new();
    let mut by_ingredient: BTreeMap<&String, (Fractions, Fractions)> = BTreeMap::new();
    for ((ingredient_id, stream), wanted) in groups {
        let sums = by_ingredient.entry(ingredient_id).or_default();
        match stream {
            Stream::Sales => sums.0 = wanted.desired.clone(),
            Stream::Refunds => sums.1 = wanted.desired.clone(),
        }
    }
    for (ingredient_id, (sales, refunds)) in by_ingredient {
        let mut both = sales;
        let split = refunds.iter().try_for_each(|(denominator, numerator)| {
            let sum = both.entry(*denominator).or_default();
            *sum = sum.checked_add(*numerator)?;
            Some(())
        });
        let total = split.and_then(|()| fractions_value(&both));
        let refunds = fractions_value(&refunds);
        let sales = total.zip(refunds).and_then(|(total, refunds)| {
            round(total, QUANTITY_DECIMALS).checked_sub(round(refunds, QUANTITY_DECIMALS))
        });
        match (sales, refunds) {
            (Some(sales), Some(refunds)) => {
                rounded.insert((ingredient_id.clone(), Stream::Sales), sales);
                rounded.insert(
                    (ingredient_id.clone(), Stream::Refunds),
                    round(refunds, QUANTITY_DECIMALS),
                );
            }
            _ => {
                exceptions.insert(format!("value_out_of_range:ingredient:{ingredient_id}"));
            }
        }
    }
    rounded
}

/// The entries that make each group's posted total equal what is wanted, and each group's
/// revision count once they are written.
fn post_differences(
    input: &DayInput,
    groups: &BTreeMap<(String, Stream), Group>,
    posted: &BTreeMap<String, Vec<&LedgerEntry>>,
    rounded: &HashMap<(String, Stream), Decimal>,
    exceptions: &mut BTreeSet<String>,
) -> (Vec<LedgerEntry>, BTreeMap<String, u32>) {
    let mut new_entries = Vec::new();
    let mut revisions: BTreeMap<String, u32> = BTreeMap::new();
    for ((ingredient_id, stream), wanted) in groups {
        let group_key = group(ingredient_id, *stream);
        let earlier = posted.get(&group_key).map(Vec::as_slice).unwrap_or(&[]);
        let next_revision = earlier.last().map(|e| e.revision + 1).unwrap_or(0);
        revisions.insert(group_key, next_revision);
        // Out of range (the exception names it): what is posted stays as it is.
        let Some(&desired) = rounded.get(&(ingredient_id.clone(), *stream)) else {
            continue;
        };
        let cost = input.catalogue.costs.get(ingredient_id).copied();
        let Some(posting) = value_posting(desired, earlier, cost.unwrap_or(Money::ZERO)) else {
            exceptions.insert(format!("value_out_of_range:ingredient:{ingredient_id}"));
            continue;
        };
        if posting.delta.is_zero() {
            continue;
        }
        new_entries.push(entry(
            input,
            ingredient_id,
            *stream,
            next_revision,
            earlier,
            wanted,
            posting,
        ));
        revisions.insert(group(ingredient_id, *stream), next_revision + 1);
    }
    (new_entries, revisions)
}

/// The ledger entry of one group's change.
fn entry(
    input: &DayInput,
    ingredient_id: &str,
    stream: Stream,
    revision: u32,
    earlier: &[&LedgerEntry],
    wanted: &Group,
    posting: Posting,
) -> LedgerEntry {
    let reason = match (revision, stream) {
        (0, Stream::Sales) => EntryReason::Sale,
        (0, Stream::Refunds) => EntryReason::Refund,
        _ => EntryReason::Correction,
    };
    let reverses = if posting.reduces {
        earlier.iter().map(|e| e.entry_id.clone()).collect()
    } else {
        Vec::new()
    };
    LedgerEntry {
        entry_id: entry_id(
            input.storage_unit_id,
            input.location_id,
            input.business_date,
            ingredient_id,
            stream,
            revision,
        ),
        company_id: input.company_id.to_string(),
        storage_unit_id: input.storage_unit_id.to_string(),
        location_id: input.location_id.to_string(),
        business_date: input.business_date.to_string(),
        ingredient_id: ingredient_id.to_string(),
        stream,
        revision,
        entry_type: if posting.delta > Decimal::ZERO {
            EntryType::Issue
        } else {
            EntryType::Reversal
        },
        reason,
        quantity: Quantity(posting.delta),
        unit_cost: Money(posting.unit_cost),
        value: Money(posting.value),
        currency: input.catalogue.currency.clone(),
        source_lines: 0,
        reverses,
        original_sale_ids: wanted.original_sales.iter().take(50).cloned().collect(),
        transfer_log_id: input.transfer_log_id.to_string(),
        request_uuid: input.request_uuid.to_string(),
        created_at: input.now.to_string(),
    }
}

/// Attribution: which entries each line fed, and how many lines fed each new entry.
fn attribute(
    input: &DayInput,
    current: Vec<(String, Vec<Contribution>)>,
    new_entries: &mut [LedgerEntry],
    stats: &mut DerivedStats,
) -> super::derive::LineStates {
    let mut by_group: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for entry in input.posted.iter().chain(new_entries.iter()) {
        by_group
            .entry(entry.group())
            .or_default()
            .push((entry.revision, entry.entry_id.clone()));
    }
    for entries in by_group.values_mut() {
        entries.sort();
    }
    let mut fed_by_entry: HashMap<String, u32> = HashMap::new();
    let mut lines = super::derive::LineStates::default();
    for (key, contributions) in current {
        let before = input.prior.lines.get(&key);
        // Seen by the last completed run with the same contributions: already accounted for
        // (even when its ingredient netted to zero that day and no entry names it).
        if before.is_some_and(|b| b.contributions[..] == contributions[..]) {
            // A line skipped for another reason keeps the history of what it once fed.
            if !contributions.is_empty() {
                *stats.skipped.entry(SkipReason::AlreadyPosted).or_insert(0) += 1;
            }
            if let Some(before) = before {
                lines.insert(key, before.clone());
            }
            continue;
        }
        let fed_before = before.map(|b| !b.contributions.is_empty()).unwrap_or(false);
        if contributions.is_empty() && !fed_before {
            continue;
        }
        stats.lines_processed += 1;
        let entries = fed_entries(input, before, &contributions, &by_group);
        for id in &entries {
            *fed_by_entry.entry(id.clone()).or_insert(0) += 1;
        }
        lines.insert(
            key,
            LineState {
                contributions: contributions.into(),
                entries: entries.into(),
            },
        );
    }
    for entry in new_entries {
        entry.source_lines = fed_by_entry.get(&entry.entry_id).copied().unwrap_or(0);
    }
    lines
}

/// The entries a changed line fed: what it fed before plus the postings of its groups since
/// the last completed run (or the latest posting, when nothing new was needed).
fn fed_entries(
    input: &DayInput,
    before: Option<&LineState>,
    contributions: &[Contribution],
    by_group: &BTreeMap<String, Vec<(u32, String)>>,
) -> Vec<String> {
    let mut entries: Vec<String> = before.map(|b| b.entries.to_vec()).unwrap_or_default();
    let touched: BTreeSet<String> = contributions
        .iter()
        .chain(before.map(|b| &b.contributions[..]).unwrap_or(&[]))
        .map(|c| group(&c.ingredient_id, c.stream))
        .collect();
    for group_key in touched {
        let Some(all) = by_group.get(&group_key) else {
            continue;
        };
        let since = input.prior.revisions.get(&group_key).copied().unwrap_or(0);
        let mut fresh: Vec<&String> = all
            .iter()
            .filter(|(rev, _)| *rev >= since)
            .map(|(_, id)| id)
            .collect();
        if fresh.is_empty() {
            // Nothing new was needed (e.g. a line replaced another): point at the latest
            // posting of the group, which still holds this line's quantity.
            fresh.extend(all.last().map(|(_, id)| id));
        }
        for id in fresh {
            if !entries.contains(id) {
                entries.push(id.clone());
            }
        }
    }
    entries
}
