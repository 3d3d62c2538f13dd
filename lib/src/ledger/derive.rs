//! From a day's sales to ledger entries (pure). Every sales line that counts is matched to
//! its mapping, exploded into ingredient quantities and summed per (ingredient, stream):
//! that is what the ledger of the day *should* hold. Comparing it with what *is* posted
//! gives the new entries: the first posting, then corrections for late sales, edits, voids
//! and mapping changes. Running it again on the same data gives nothing new, which is what
//! makes repeated and concurrent transfers safe.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::entry::{
    entry_id, group, EntryReason, EntryType, LedgerEntry, Stream, MONEY_DECIMALS, QUANTITY_DECIMALS,
};
use crate::catalog::explode::{explode_fractions, fractions_value, ExplodeError, Fractions, Line};
use crate::mapping::matching::MappingIndex;
use crate::mapping::record::{Mapping, TargetKind};
use crate::money::{Money, Quantity};
use crate::sales::{CanonicalLine, CanonicalSale, SaleKind};

/// What the derivation needs of the company's catalogue.
pub struct Catalogue {
    pub mappings: MappingIndex<Mapping>,
    /// Recipe id → its lines.
    pub recipes: HashMap<String, Vec<Line>>,
    /// Ingredient id → weighted average cost (unrounded) in the location's currency.
    pub costs: HashMap<String, Money>,
    /// The location's currency, in which `costs` are kept and entries are valued.
    pub currency: Option<String>,
    /// Ingredient id → the exception that makes its cost unusable here
    /// (`currency_mismatch:…`, `value_out_of_range:…`); lines feeding it are skipped.
    pub refused_costs: HashMap<String, String>,
}

/// One ingredient quantity a line feeds (unrounded; rounding happens per entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub ingredient_id: String,
    pub stream: Stream,
    pub quantity: Quantity,
}

/// What the ledger knows about one sales line: what it feeds and the entries it fed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineState {
    pub contributions: Vec<Contribution>,
    pub entries: Vec<String>,
}

/// The previous completed run of the same day and storage unit.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Line key → state, as the previous run left it.
    pub lines: HashMap<String, LineState>,
    /// Group → number of revisions posted when the previous run completed.
    pub revisions: BTreeMap<String, u32>,
}

pub struct DayInput<'a> {
    pub company_id: &'a str,
    pub storage_unit_id: &'a str,
    pub location_id: &'a str,
    pub business_date: &'a str,
    pub sales: &'a [CanonicalSale],
    pub catalogue: &'a Catalogue,
    /// Entries already in the ledger for this storage unit, location and day.
    pub posted: &'a [LedgerEntry],
    pub prior: &'a Prior,
    pub transfer_log_id: &'a str,
    pub request_uuid: &'a str,
    pub now: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    MissingName,
    ZeroQuantity,
    NegativeQuantity,
    Unmapped,
    UnresolvedTarget,
    AlreadyPosted,
    NotASale,
    /// Quantities so large that the line's deduction leaves the exact decimal range.
    ValueOutOfRange,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedStats {
    /// Sales and refunds (voids and other accounts are not counted).
    pub sales_count: usize,
    pub lines_total: usize,
    pub lines_processed: usize,
    pub lines_skipped: usize,
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Line × ingredient quantities computed (the engine's unit of work).
    pub deductions: usize,
    pub exceptions: Vec<String>,
    /// Unmapped POS names with the quantity sold, largest first in [`Self::unmapped_ranked`].
    pub unmapped: BTreeMap<String, Quantity>,
    /// `recipe:<id>` / `ingredient:<id>` → lines mapped to it.
    pub recipes_used: BTreeMap<String, usize>,
}

impl DerivedStats {
    pub fn unmapped_ranked(&self) -> Vec<(String, Quantity)> {
        let mut ranked: Vec<(String, Quantity)> =
            self.unmapped.iter().map(|(n, q)| (n.clone(), *q)).collect();
        ranked.sort_by(|a, b| {
            b.1.value()
                .abs()
                .cmp(&a.1.value().abs())
                .then(a.0.cmp(&b.0))
        });
        ranked
    }
}

#[derive(Debug, Clone, Default)]
pub struct Derived {
    pub new_entries: Vec<LedgerEntry>,
    /// Line key → state after this run (lines that feed or fed something).
    pub lines: HashMap<String, LineState>,
    /// Group → revisions posted once the new entries are written.
    pub revisions: BTreeMap<String, u32>,
    pub stats: DerivedStats,
}

/// `{sale_id}/{line_id}`: how a sales line is named in the cache and the API.
pub fn line_key(sale_id: &str, line_id: &str) -> String {
    format!("{sale_id}/{line_id}")
}

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
        lines,
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
) -> HashMap<String, LineState> {
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
    let mut lines: HashMap<String, LineState> = HashMap::with_capacity(current.len());
    for (key, contributions) in current {
        let before = input.prior.lines.get(&key);
        // Seen by the last completed run with the same contributions: already accounted for
        // (even when its ingredient netted to zero that day and no entry names it).
        if before.is_some_and(|b| b.contributions == contributions) {
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
                contributions,
                entries,
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
    let mut entries: Vec<String> = before.map(|b| b.entries.clone()).unwrap_or_default();
    let touched: BTreeSet<String> = contributions
        .iter()
        .chain(before.map(|b| b.contributions.as_slice()).unwrap_or(&[]))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::explode::LineTarget;
    use crate::connection::PosProduct;
    use crate::mapping::matching::{LineItemRef, MappedItem};
    use crate::sales::CanonicalLine;

    fn q(text: &str) -> Quantity {
        text.parse().unwrap()
    }

    fn mapping(
        item: &str,
        kind: TargetKind,
        target: &str,
        quantity: &str,
        subtraction: bool,
    ) -> MappedItem<Mapping> {
        MappedItem {
            item_id: item.into(),
            code: None,
            name: item.into(),
            mapping: Mapping {
                company_id: "c".into(),
                product: PosProduct::KSeries,
                item_id: item.into(),
                target_kind: kind,
                target_id: target.into(),
                quantity: q(quantity),
                is_subtraction: subtraction,
                item_name: item.into(),
                item_sku: None,
                created_at: String::new(),
                updated_at: String::new(),
                version: 1,
            },
        }
    }

    /// Sold `item` is one of `recipe`.
    fn to_recipe(item: &str, recipe: &str) -> MappedItem<Mapping> {
        mapping(item, TargetKind::Recipe, recipe, "1", false)
    }

    /// Sold `item` is one of `ingredient`.
    fn to_ingredient(item: &str, ingredient: &str) -> MappedItem<Mapping> {
        mapping(item, TargetKind::Ingredient, ingredient, "1", false)
    }

    /// What a later run of the day knows of `derived`.
    fn prior_of(derived: &Derived) -> Prior {
        Prior {
            lines: derived.lines.clone(),
            revisions: derived.revisions.clone(),
        }
    }

    /// The first of `entries` for `ingredient`.
    fn entry_of<'a>(entries: &'a [LedgerEntry], ingredient: &str) -> &'a LedgerEntry {
        entries
            .iter()
            .find(|e| e.ingredient_id == ingredient)
            .unwrap()
    }

    /// Pizza = 0.2 flour + 0.05 tomato at 12.5 % trim; cola is an ingredient.
    fn catalogue() -> Catalogue {
        Catalogue {
            mappings: MappingIndex::new(vec![
                to_recipe("pizza", "r-pizza"),
                to_ingredient("cola", "cola"),
                mapping("deposit", TargetKind::Ingredient, "cola", "1", true),
                to_recipe("broken", "r-missing"),
            ]),
            recipes: HashMap::from([(
                "r-pizza".to_string(),
                vec![
                    uses(LineTarget::Ingredient("flour".into()), "0.2", None),
                    uses(
                        LineTarget::Ingredient("tomato".into()),
                        "0.05",
                        Some(Decimal::new(125, 1)),
                    ),
                ],
            )]),
            costs: HashMap::from([
                ("flour".to_string(), Money(Decimal::new(85, 2))),
                ("tomato".to_string(), Money(Decimal::new(243, 2))),
                ("cola".to_string(), Money(Decimal::new(45, 2))),
            ]),
            currency: Some("GBP".into()),
            refused_costs: HashMap::new(),
        }
    }

    /// A recipe line.
    fn uses(target: LineTarget, quantity: &str, trim_pct: Option<Decimal>) -> Line {
        Line {
            target,
            quantity: q(quantity),
            trim_pct,
        }
    }

    fn line(id: &str, item: &str, quantity: &str) -> CanonicalLine {
        CanonicalLine {
            line_id: id.into(),
            parent_line_id: None,
            item: LineItemRef {
                item_id: Some(item.into()),
                sku: None,
                name: item.into(),
            },
            quantity: q(quantity),
            net: Money::ZERO,
            gross: Money::ZERO,
            tax: Money::ZERO,
            discount: Money::ZERO,
            service_charge: Money::ZERO,
            tax_code: None,
            accounting_group: None,
        }
    }

    fn sale(id: &str, kind: SaleKind, lines: Vec<CanonicalLine>) -> CanonicalSale {
        CanonicalSale {
            sale_id: id.into(),
            receipt: None,
            kind,
            closed_at: chrono::DateTime::UNIX_EPOCH,
            original_sale_id: (id == "r1").then(|| "s1".to_string()),
            currency: None,
            lines,
            payments: Vec::new(),
        }
    }

    /// A day's sales of one sale, `s1`.
    fn one_sale(lines: Vec<CanonicalLine>) -> Vec<CanonicalSale> {
        vec![sale("s1", SaleKind::Sale, lines)]
    }

    /// Derives the day of location `loc` on 2026-03-01 at `now`.
    fn derive_at(
        catalogue: &Catalogue,
        sales: &[CanonicalSale],
        posted: &[LedgerEntry],
        prior: &Prior,
        now: &str,
    ) -> Derived {
        derive(&DayInput {
            company_id: "c",
            storage_unit_id: "su",
            location_id: "loc",
            business_date: "2026-03-01",
            sales,
            catalogue,
            posted,
            prior,
            transfer_log_id: "log",
            request_uuid: "req",
            now,
        })
    }

    /// Derives with the standard [`catalogue`], the morning after.
    fn run(sales: &[CanonicalSale], posted: &[LedgerEntry], prior: &Prior) -> Derived {
        derive_at(&catalogue(), sales, posted, prior, "2026-03-02T05:00:00Z")
    }

    fn totals(entries: &[LedgerEntry]) -> BTreeMap<String, Decimal> {
        let mut out = BTreeMap::new();
        for e in entries {
            *out.entry(e.ingredient_id.clone()).or_insert(Decimal::ZERO) += e.quantity.value();
        }
        out.retain(|_, v| !v.is_zero());
        out
    }

    fn day() -> Vec<CanonicalSale> {
        vec![
            sale(
                "s1",
                SaleKind::Sale,
                vec![
                    line("1", "pizza", "3"),
                    line("2", "cola", "2"),
                    line("3", "espresso", "1"),
                    line("4", "cola", "0"),
                ],
            ),
            sale(
                "s2",
                SaleKind::Sale,
                vec![line("1", "broken", "1"), line("2", "deposit", "1")],
            ),
            sale("r1", SaleKind::Refund, vec![line("1", "cola", "-1")]),
            sale("v1", SaleKind::Void, vec![line("1", "pizza", "5")]),
        ]
    }

    #[test]
    fn sales_become_exact_issues_and_refunds_reversals() {
        let d = run(&day(), &[], &Prior::default());
        // flour 3 × 0.2; tomato 3 × 0.05 / 0.875 = 0.171428571… → 0.171429 (half-even, once).
        let t = totals(&d.new_entries);
        assert_eq!(t["flour"], Decimal::new(6, 1));
        assert_eq!(t["tomato"], Decimal::new(171_429, 6));
        // cola: 2 sold − 1 deposit returned (subtraction) − 1 refunded.
        assert_eq!(t.get("cola"), None, "nets to zero across streams");
        let cola_refund = d
            .new_entries
            .iter()
            .find(|e| e.ingredient_id == "cola" && e.stream == Stream::Refunds)
            .unwrap();
        assert_eq!(cola_refund.entry_type, EntryType::Reversal);
        assert_eq!(cola_refund.reason, EntryReason::Refund);
        assert_eq!(cola_refund.original_sale_ids, vec!["s1".to_string()]);
        let flour = entry_of(&d.new_entries, "flour");
        assert_eq!(
            (flour.entry_type, flour.value.value()),
            (EntryType::Issue, Decimal::new(51, 2))
        );
        assert_eq!(flour.entry_id, "su:loc:2026-03-01:flour:S0");
        assert_eq!(d.stats.sales_count, 3);
        assert_eq!(d.stats.lines_total, 8);
        assert_eq!(d.stats.lines_processed, 4); // pizza, cola, deposit, refunded cola
        assert_eq!(d.stats.lines_skipped, 4);
        assert_eq!(d.stats.skipped[&SkipReason::Unmapped], 1);
        assert_eq!(d.stats.skipped[&SkipReason::ZeroQuantity], 1);
        assert_eq!(d.stats.skipped[&SkipReason::UnresolvedTarget], 1);
        assert_eq!(d.stats.skipped[&SkipReason::NotASale], 1);
        assert_eq!(
            d.stats.exceptions,
            ["recipe_not_found:r-missing", "unmapped_pos_name:espresso"]
        );
        assert_eq!(
            d.lines["s1/1"].entries,
            vec![
                "su:loc:2026-03-01:flour:S0".to_string(),
                "su:loc:2026-03-01:tomato:S0".to_string()
            ]
        );
        assert_eq!(flour.source_lines, 1);
    }

    #[test]
    fn the_same_day_again_posts_nothing_and_skips_posted_lines() {
        let first = run(&day(), &[], &Prior::default());
        let prior = prior_of(&first);
        let again = run(&day(), &first.new_entries, &prior);
        assert!(again.new_entries.is_empty());
        assert_eq!(again.stats.lines_processed, 0);
        assert_eq!(again.stats.skipped[&SkipReason::AlreadyPosted], 4);
        assert_eq!(again.lines, first.lines);
    }

    #[test]
    fn late_sales_and_voids_post_corrections_that_net_out() {
        let first = run(&day(), &[], &Prior::default());
        let prior = prior_of(&first);
        // The pizza sale is voided afterwards and a late pizza arrives.
        let mut edited = day();
        edited[0].kind = SaleKind::Void;
        edited.push(sale("s9", SaleKind::Sale, vec![line("1", "pizza", "1")]));
        let second = run(&edited, &first.new_entries, &prior);
        let all: Vec<LedgerEntry> = first
            .new_entries
            .iter()
            .chain(&second.new_entries)
            .cloned()
            .collect();
        let independent = run(&edited, &[], &Prior::default());
        assert_eq!(
            totals(&all),
            totals(&independent.new_entries),
            "ledger = what the fresh data implies"
        );
        let flour = entry_of(&second.new_entries, "flour");
        assert_eq!(
            (flour.entry_type, flour.reason, flour.revision),
            (EntryType::Reversal, EntryReason::Correction, 1)
        );
        assert_eq!(flour.quantity.value(), Decimal::new(-4, 1));
        assert_eq!(
            flour.reverses,
            vec!["su:loc:2026-03-01:flour:S0".to_string()]
        );
        assert_eq!(flour.unit_cost.value(), Decimal::new(85, 2));
        // The voided line now lists the correction it caused; the late line feeds it too.
        assert!(second.lines["s1/1"].entries.contains(&flour.entry_id));
        assert!(second.lines["s9/1"].entries.contains(&flour.entry_id));
        // Back to nothing: values reverse exactly, to the cent.
        let third = run(&[], &all, &prior_of(&second));
        let everything: Vec<LedgerEntry> = all.iter().chain(&third.new_entries).cloned().collect();
        assert!(totals(&everything).is_empty());
        let value: Decimal = everything.iter().map(|e| e.value.value()).sum();
        assert_eq!(value, Decimal::ZERO);
    }

    #[test]
    fn recipe_cycles_and_bad_trim_are_exceptions_not_failures() {
        let mut catalogue = catalogue();
        catalogue.recipes.insert(
            "a".into(),
            vec![uses(LineTarget::Recipe("b".into()), "1", None)],
        );
        catalogue.recipes.insert(
            "b".into(),
            vec![uses(LineTarget::Recipe("a".into()), "1", None)],
        );
        catalogue.recipes.insert(
            "t".into(),
            vec![uses(
                LineTarget::Ingredient("flour".into()),
                "1",
                Some(Decimal::ONE_HUNDRED),
            )],
        );
        catalogue.mappings = MappingIndex::new(vec![
            to_recipe("loop", "a"),
            to_recipe("trim", "t"),
            to_ingredient("cola", "cola"),
        ]);
        let sales = one_sale(vec![
            line("1", "loop", "1"),
            line("2", "trim", "1"),
            line("3", "cola", "4"),
        ]);
        let d = derive_with(&catalogue, &sales, &[]);
        assert_eq!(
            d.stats.exceptions,
            ["invalid_trim_pct:t", "recipe_cycle:a→b→a"]
        );
        assert_eq!(totals(&d.new_entries)["cola"], Decimal::from(4));
        assert_eq!(d.stats.lines_processed, 1);
    }

    /// Derives with `catalogue` and nothing derived before.
    fn derive_with(
        catalogue: &Catalogue,
        sales: &[CanonicalSale],
        posted: &[LedgerEntry],
    ) -> Derived {
        derive_at(catalogue, sales, posted, &Prior::default(), "now")
    }

    #[test]
    fn a_day_whose_exact_total_is_a_tie_rounds_from_the_exact_total() {
        // Sauce 0.125 at 4 % trim: 0.125 / 0.96 never terminates. Six lines of 1.782 sold
        // are exactly 10.692 × 0.125 / 0.96 = 1.3921875, a tie that half-even rounds up.
        let mut catalogue = catalogue();
        catalogue.recipes.insert(
            "r-dish".into(),
            vec![uses(
                LineTarget::Ingredient("tomato".into()),
                "0.125",
                Some(Decimal::from(4)),
            )],
        );
        catalogue.mappings = MappingIndex::new(vec![to_recipe("dish", "r-dish")]);
        let lines = (1..=6)
            .map(|i| line(&i.to_string(), "dish", "1.782"))
            .collect();
        let d = derive_with(&catalogue, &one_sale(lines), &[]);
        assert_eq!(totals(&d.new_entries)["tomato"], Decimal::new(1_392_188, 6));
    }

    #[test]
    fn figures_beyond_the_range_skip_their_line_and_the_rest_of_the_day_posts() {
        let max = "79228162514264337593543950335";
        let mut catalogue = catalogue();
        catalogue.mappings = MappingIndex::new(vec![
            mapping("huge", TargetKind::Ingredient, "flour", max, false),
            to_recipe("pizza", "r-pizza"),
            to_ingredient("cola", "cola"),
        ]);
        let sales = one_sale(vec![
            line("1", "huge", "2"),
            line("2", "cola", "3"),
            // Fits alone, but not added to the 3 before it.
            line("3", "cola", max),
            line("4", "pizza", "1"),
        ]);
        let d = derive_with(&catalogue, &sales, &[]);
        assert_eq!(
            d.stats.exceptions,
            ["value_out_of_range:cola", "value_out_of_range:huge"]
        );
        assert_eq!(d.stats.skipped[&SkipReason::ValueOutOfRange], 2);
        let t = totals(&d.new_entries);
        assert_eq!(t["cola"], Decimal::from(3));
        assert_eq!(t["flour"], Decimal::new(2, 1));
    }

    #[test]
    fn an_unusable_cost_skips_the_lines_using_it_by_name() {
        let mut catalogue = catalogue();
        catalogue.costs.remove("cola");
        catalogue
            .refused_costs
            .insert("cola".into(), "currency_mismatch:cola:NZD".into());
        let sales = one_sale(vec![line("1", "cola", "2"), line("2", "pizza", "1")]);
        let d = derive_with(&catalogue, &sales, &[]);
        assert_eq!(d.stats.exceptions, ["currency_mismatch:cola:NZD"]);
        let t = totals(&d.new_entries);
        assert!(!t.contains_key("cola"));
        assert_eq!(t["flour"], Decimal::new(2, 1));
        assert!(d
            .new_entries
            .iter()
            .all(|e| e.currency.as_deref() == Some("GBP")));
    }

    #[test]
    fn stored_entries_beyond_the_range_name_their_ingredient_and_change_nothing() {
        let first = run(&day(), &[], &Prior::default());
        let mut posted = first.new_entries.clone();
        for entry in posted.iter_mut().filter(|e| e.ingredient_id == "flour") {
            entry.value = "79228162514264337593543950335".parse().unwrap();
        }
        let mut extra = posted
            .iter()
            .find(|e| e.ingredient_id == "flour")
            .cloned()
            .unwrap();
        extra.revision += 1;
        posted.push(extra);
        let mut sales = day();
        sales[0].lines[0].quantity = q("4");
        let d = derive_with(&catalogue(), &sales, &posted);
        assert!(
            d.stats
                .exceptions
                .contains(&"value_out_of_range:ingredient:flour".to_string()),
            "{:?}",
            d.stats.exceptions
        );
        assert!(d.new_entries.iter().all(|e| e.ingredient_id != "flour"));
        assert!(
            d.new_entries.iter().any(|e| e.ingredient_id == "tomato"),
            "the other ingredients of the changed line still post"
        );
    }

    /// An exact rational, independent of the decimal code under test.
    #[derive(Clone, Copy)]
    struct Ratio(i128, i128);

    impl Ratio {
        fn add(self, other: Ratio) -> Ratio {
            fn gcd(a: i128, b: i128) -> i128 {
                if b == 0 {
                    a.abs()
                } else {
                    gcd(b, a % b)
                }
            }
            let (n, d) = (self.0 * other.1 + other.0 * self.1, self.1 * other.1);
            let g = gcd(n, d).max(1);
            Ratio(n / g, d / g)
        }

        /// Half-even at six decimals, for a non-negative ratio.
        fn round6(self) -> Decimal {
            let scaled = self.0 * 1_000_000;
            let (q, r) = (scaled / self.1, scaled % self.1);
            let up = match (2 * r).cmp(&self.1) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => q % 2 == 1,
                std::cmp::Ordering::Less => false,
            };
            Decimal::from_i128_with_scale(q + i128::from(up), 6)
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever the split of a day into lines, and with one ingredient reached through
        /// two trims, the posted quantity is the exact day total rounded half-even.
        #[test]
        fn posted_quantities_are_the_exactly_rounded_day_total(
            lines in proptest::collection::vec((proptest::bool::ANY, 1i128..20_000), 1..40),
            c1 in 1i64..2000, c2 in 1i64..2000, c3 in 1i64..2000, m in 1i64..2000,
            d1 in 0i64..9999, d3 in 0i64..9999,
        ) {
            let quantity = |n: i64| Quantity(Decimal::new(n, 3));
            let mut catalogue = catalogue();
            let sauce = |c: i64, d: i64| Line {
                target: LineTarget::Ingredient("tomato".into()),
                quantity: quantity(c),
                trim_pct: Some(Decimal::new(d, 2)),
            };
            catalogue.recipes.insert("r-dish".into(), vec![
                sauce(c1, d1),
                Line { target: LineTarget::Recipe("r-base".into()), quantity: quantity(c2), trim_pct: None },
            ]);
            catalogue.recipes.insert("r-base".into(), vec![sauce(c3, d3)]);
            catalogue.mappings = MappingIndex::new(vec![
                to_recipe("dish", "r-dish"),
                mapping("jar", TargetKind::Ingredient, "tomato", &quantity(m).to_string(), false),
            ]);
            let mut expected = Ratio(0, 1);
            let mut sold = Vec::new();
            for (i, (is_dish, a)) in lines.iter().enumerate() {
                let a = *a;
                let share = |d: i64| i128::from(10_000 - d);
                expected = if *is_dish {
                    expected
                        .add(Ratio(a * i128::from(c1) * 10_000, 1_000_000 * share(d1)))
                        .add(Ratio(a * i128::from(c2) * i128::from(c3) * 10_000, 1_000_000_000 * share(d3)))
                } else {
                    expected.add(Ratio(a * i128::from(m), 1_000_000))
                };
                let item = if *is_dish { "dish" } else { "jar" };
                let n = i64::try_from(a).unwrap_or_default();
                sold.push(line(&i.to_string(), item, &quantity(n).to_string()));
            }
            let d = derive_with(&catalogue, &one_sale(sold), &[]);
            let posted = totals(&d.new_entries).get("tomato").copied().unwrap_or_default();
            proptest::prop_assert_eq!(posted, expected.round6());
        }
    }
}
