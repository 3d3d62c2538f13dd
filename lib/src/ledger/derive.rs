//! From a day's sales to ledger entries (pure). Every sales line that counts is matched to
//! its mapping, exploded into ingredient quantities and summed per (ingredient, stream):
//! that is what the ledger of the day *should* hold. Comparing it with what *is* posted
//! gives the new entries: the first posting, then corrections for late sales, edits, voids
//! and mapping changes. Running it again on the same data gives nothing new, which is what
//! makes repeated and concurrent transfers safe.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher as _;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::entry::{
    entry_id, group, EntryReason, EntryType, LedgerEntry, Stream, MONEY_DECIMALS, QUANTITY_DECIMALS,
};
pub use super::line_list::LineList;
use crate::catalog::explode::{explode_fractions, fractions_value, ExplodeError, Fractions, Line};
use crate::mapping::matching::MappingIndex;
use crate::mapping::record::{Mapping, TargetKind};
use crate::money::{Money, Quantity};
use crate::sales::{CanonicalLine, CanonicalSale, SaleKind};
use rustc_hash::{FxBuildHasher, FxHashMap};

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
/// Lines of the same item, quantity and stream feed the same, so a day's lines share
/// these lists instead of each holding a copy (cheap to clone, small in memory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineState {
    #[serde(with = "shared_list")]
    pub contributions: Arc<[Contribution]>,
    #[serde(with = "shared_list")]
    pub entries: Arc<[String]>,
}

/// A shared list as a plain JSON array.
mod shared_list {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        list: &Arc<[T]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        list[..].serialize(serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<[T]>, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Arc::from)
    }
}

/// Line key → state, for looking lines up (a run's [`Prior`]). Fx-hashed: a day holds tens
/// of thousands of keys, and SipHash was a fifth of the derivation's time.
pub type LineStates = FxHashMap<String, LineState>;

/// The previous completed run of the same day and storage unit.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Line key → state, as the previous run left it.
    pub lines: LineStates,
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
    pub lines: LineList,
    /// Group → revisions posted once the new entries are written.
    pub revisions: BTreeMap<String, u32>,
    pub stats: DerivedStats,
}

/// `{sale_id}/{line_id}`: how a sales line is named in the cache and the API.
pub fn line_key(sale_id: &str, line_id: &str) -> String {
    let mut key = String::with_capacity(sale_id.len() + 1 + line_id.len());
    key.push_str(sale_id);
    key.push('/');
    key.push_str(line_id);
    key
}

fn round(value: Decimal, decimals: u32) -> Decimal {
    value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven)
}

/// Ingredient quantities per unit of a target (exact fractions), or the exception that
/// prevents its lines from posting: the target cannot be exploded, or one of its
/// ingredients has no usable cost.
fn per_unit_of(catalogue: &Catalogue, kind: TargetKind, id: &str) -> PerUnit {
    let per_unit: Vec<(String, Fractions)> = match kind {
        TargetKind::Ingredient => vec![(
            id.to_string(),
            Fractions::from([(Decimal::ONE, Decimal::ONE)]),
        )],
        TargetKind::Recipe => explode_fractions(id, Quantity(Decimal::ONE), |r| {
            catalogue.recipes.get(r).map(Vec::as_slice)
        })
        .map(|totals| totals.into_iter().collect())
        .map_err(|err| match err {
            ExplodeError::Cycle(path) => format!("recipe_cycle:{}", path.join("→")),
            ExplodeError::InvalidTrim(_) => format!("invalid_trim_pct:{id}"),
            ExplodeError::RecipeNotFound(missing) => format!("recipe_not_found:{missing}"),
            ExplodeError::OutOfRange(_) => format!("value_out_of_range:recipe:{id}"),
        })?,
    };
    if let Some((missing, _)) = per_unit
        .iter()
        .find(|(id, _)| !catalogue.costs.contains_key(id))
    {
        return Err(catalogue
            .refused_costs
            .get(missing)
            .cloned()
            .unwrap_or_else(|| format!("ingredient_not_found:{missing}")));
    }
    Ok(per_unit)
}

type PerUnit = Result<Vec<(String, Fractions)>, String>;

/// A mapping's target as the day's lines use it, worked out once per day.
struct Target {
    /// (interned ingredient, fractions per unit), or the exception that skips its lines.
    per_unit: Result<Vec<(u32, Fractions)>, String>,
    /// `recipe:<id>` / `ingredient:<id>`.
    label: String,
    /// Lines mapped to it that fed the ledger.
    lines: usize,
}

/// Upper bounds (in floating point, far from the decimal range) of `Σ |numerator|` and
/// `Σ |numerator| / denominator` over fractions added together. While both stay below
/// [`SAFE_BOUND`], no sum of numerators and no value of the fractions can leave the decimal
/// range (about 7.9e28), so the exact range check can be skipped: it would pass.
#[derive(Clone, Copy, Default)]
struct Bound {
    numerators: f64,
    value: f64,
}

const SAFE_BOUND: f64 = 1e26;

impl Bound {
    fn of(fractions: &Fractions) -> Bound {
        let mut bound = Bound::default();
        for (denominator, numerator) in fractions {
            let n = numerator.abs().to_f64().unwrap_or(f64::INFINITY);
            let d = denominator.abs().to_f64().unwrap_or(0.0);
            bound.numerators += n;
            // A zero (or unrepresentable) denominator gives infinity or NaN: never safe.
            bound.value += n / d;
        }
        bound
    }

    fn plus(self, other: Bound) -> Bound {
        Bound {
            numerators: self.numerators + other.numerators,
            value: self.value + other.value,
        }
    }

    /// False for NaN too.
    fn is_safe(self) -> bool {
        self.numerators < SAFE_BOUND && self.value < SAFE_BOUND
    }
}

/// What one line of a given item and quantity wants of one ingredient.
struct IngredientAmount {
    ingredient: u32,
    /// `sold × per-unit fractions`, exact.
    wanted: Fractions,
    /// Its value (the line's contribution).
    amount: Decimal,
    bound: Bound,
}

/// What a line of one mapped item and one sold quantity wants, worked out once per day.
struct ItemAmounts {
    target: u32,
    ingredients: Vec<IngredientAmount>,
}

/// What the day's lines want of one (ingredient, stream): exact fractions, divided once.
#[derive(Default)]
struct Group {
    desired: Fractions,
    original_sales: BTreeSet<String>,
}

/// A [`Group`] while the day's lines are added: the fractions as a short list (a group has
/// one numerator per distinct denominator, rarely more than two), its denominators
/// distinct by value as the keys of [`Fractions`] are.
#[derive(Default)]
struct Sums {
    fractions: Vec<(Decimal, Decimal)>,
    original_sales: BTreeSet<String>,
    /// Of everything added to `fractions`.
    bound: Bound,
}

impl Sums {
    fn numerator(&self, denominator: &Decimal) -> Option<Decimal> {
        self.fractions
            .iter()
            .find(|(d, _)| d == denominator)
            .map(|(_, n)| *n)
    }

    fn set(&mut self, denominator: Decimal, numerator: Decimal) {
        match self.fractions.iter_mut().find(|(d, _)| *d == denominator) {
            Some((_, n)) => *n = numerator,
            None => self.fractions.push((denominator, numerator)),
        }
    }

    fn into_group(self) -> Group {
        Group {
            desired: self.fractions.into_iter().collect(),
            original_sales: self.original_sales,
        }
    }
}

/// One line's deduction of one ingredient: `sold × mapping quantity × direction` times the
/// target's per-unit fractions; `None` beyond the decimal range.
fn line_fractions(sold: Decimal, per_unit: &Fractions) -> Option<Fractions> {
    per_unit
        .iter()
        .map(|(denominator, numerator)| Some((*denominator, sold.checked_mul(*numerator)?)))
        .collect()
}

/// What one line sold wants of each ingredient of its target: `sold × mapping quantity`
/// (negative for a subtraction) times the per-unit fractions; `None` beyond the range.
fn line_amounts(
    quantity: Decimal,
    mapping: &Mapping,
    per_unit: &[(u32, Fractions)],
) -> Option<Vec<IngredientAmount>> {
    let sold = quantity.checked_mul(mapping.quantity.value())?;
    let sold = if mapping.is_subtraction { -sold } else { sold };
    per_unit
        .iter()
        .map(|(ingredient, fractions)| {
            let wanted = line_fractions(sold, fractions)?;
            let amount = fractions_value(&wanted)?;
            Some(IngredientAmount {
                ingredient: *ingredient,
                bound: Bound::of(&wanted),
                wanted,
                amount,
            })
        })
        .collect()
}

/// The index of an (ingredient, stream) group.
fn group_index(ingredient: u32, stream: Stream) -> usize {
    let stream = match stream {
        Stream::Sales => 0,
        Stream::Refunds => 1,
    };
    ingredient as usize * 2 + stream
}

/// Adds one line's amounts to their groups, all or nothing: false (and nothing changed)
/// when a sum, or a group's value, would leave the decimal range.
fn add_line(
    groups: &mut [Option<Sums>],
    stream: Stream,
    amounts: &[IngredientAmount],
    scratch: &mut Vec<(usize, Decimal, Decimal)>,
) -> bool {
    fn group_of(groups: &[Option<Sums>], ingredient: u32, stream: Stream) -> Option<&Sums> {
        groups
            .get(group_index(ingredient, stream))
            .and_then(Option::as_ref)
    }
    let safe = amounts.iter().all(|a| {
        group_of(groups, a.ingredient, stream)
            .map_or(Bound::default(), |g| g.bound)
            .plus(a.bound)
            .is_safe()
    });
    if safe {
        // The totals' values stay far within the range: only the sums need checking.
        scratch.clear();
        for a in amounts {
            let sums = group_of(groups, a.ingredient, stream);
            for (denominator, numerator) in &a.wanted {
                let sum = sums
                    .and_then(|g| g.numerator(denominator))
                    .unwrap_or_default();
                let Some(sum) = sum.checked_add(*numerator) else {
                    return false;
                };
                scratch.push((group_index(a.ingredient, stream), *denominator, sum));
            }
        }
        for (index, denominator, sum) in scratch.drain(..) {
            if let Some(slot) = groups.get_mut(index) {
                slot.get_or_insert_with(Sums::default).set(denominator, sum);
            }
        }
    } else {
        // Near the range: each total in full, and its value, exactly as checked before.
        let totals: Option<Vec<Fractions>> = amounts
            .iter()
            .map(|a| {
                let mut total: Fractions = group_of(groups, a.ingredient, stream)
                    .map(|g| g.fractions.iter().copied().collect())
                    .unwrap_or_default();
                for (denominator, numerator) in &a.wanted {
                    let sum = total.entry(*denominator).or_default();
                    *sum = sum.checked_add(*numerator)?;
                }
                fractions_value(&total)?;
                Some(total)
            })
            .collect();
        let Some(totals) = totals else {
            return false;
        };
        for (a, total) in amounts.iter().zip(totals) {
            if let Some(slot) = groups.get_mut(group_index(a.ingredient, stream)) {
                slot.get_or_insert_with(Sums::default).fractions = total.into_iter().collect();
            }
        }
    }
    for a in amounts {
        if let Some(slot) = groups.get_mut(group_index(a.ingredient, stream)) {
            let group = slot.get_or_insert_with(Sums::default);
            group.bound = group.bound.plus(a.bound);
        }
    }
    true
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
    wanted
        .current
        .reserve(input.sales.iter().map(|s| s.lines.len()).sum());
    for sale in input.sales {
        wanted.sale(sale);
    }
    let current = std::mem::take(&mut wanted.current);
    let current = if keys_are_unique(input.sales) {
        current
    } else {
        current.number_repeated_keys()
    };
    let Wanted {
        mut stats,
        mut exceptions,
        groups: group_slots,
        ingredients,
        targets,
        ..
    } = wanted;
    let mut groups: BTreeMap<(String, Stream), Group> = BTreeMap::new();
    for (index, group) in group_slots.into_iter().enumerate() {
        let Some(group) = group else {
            continue;
        };
        let stream = if index % 2 == 0 {
            Stream::Sales
        } else {
            Stream::Refunds
        };
        if let Some(ingredient_id) = ingredients.names.get(index / 2) {
            groups.insert((ingredient_id.clone(), stream), group.into_group());
        }
    }
    for target in targets {
        if target.lines > 0 {
            *stats.recipes_used.entry(target.label).or_insert(0) += target.lines;
        }
    }
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

/// Whether no two lines of the day can have the same [`line_key`], proven cheaply: when no
/// sale id holds a `/`, a key splits back into its sale and line id, so distinct sale ids
/// and distinct line ids within each sale make distinct keys. Otherwise (false) the keys
/// are checked one by one.
fn keys_are_unique(sales: &[CanonicalSale]) -> bool {
    let mut sale_ids: FxHashMap<&str, ()> =
        FxHashMap::with_capacity_and_hasher(sales.len(), Default::default());
    for sale in sales {
        if sale.sale_id.contains('/') || sale_ids.insert(&sale.sale_id, ()).is_some() {
            return false;
        }
        let lines = &sale.lines;
        if lines.len() <= 16 {
            // Pairs compared by hash first: a string comparison per pair cost more.
            let mut hashes = [0u64; 16];
            for (n, line) in lines.iter().enumerate() {
                let hash = FxBuildHasher.hash_one(line.line_id.as_str());
                let seen = hashes.get(..n).unwrap_or_default();
                if seen.contains(&hash) && lines[..n].iter().any(|l| l.line_id == line.line_id) {
                    return false;
                }
                if let Some(slot) = hashes.get_mut(n) {
                    *slot = hash;
                }
            }
        } else {
            let mut line_ids: FxHashMap<&str, ()> =
                FxHashMap::with_capacity_and_hasher(lines.len(), Default::default());
            if lines
                .iter()
                .any(|l| line_ids.insert(&l.line_id, ()).is_some())
            {
                return false;
            }
        }
    }
    true
}

/// Ingredient ids as small numbers, for the day.
#[derive(Default)]
struct Ingredients {
    index: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Ingredients {
    fn intern(&mut self, id: String) -> u32 {
        if let Some(index) = self.index.get(&id) {
            return *index;
        }
        let index = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(id.clone());
        self.index.insert(id, index);
        index
    }
}

/// One sales line as the day sees it now.
struct CurrentLine {
    /// Where its key ends in [`CurrentLines::keys`] (it starts where the one before ends).
    key_end: usize,
    contributions: Arc<[Contribution]>,
    /// The target and stream its contributions come from, when it feeds something: lines
    /// of the same shape touch the same groups.
    shape: Option<(u32, Stream)>,
}

/// What the day's lines want of the ledger, line by line.
struct Wanted<'a> {
    catalogue: &'a Catalogue,
    stats: DerivedStats,
    exceptions: BTreeSet<String>,
    /// By [`group_index`].
    groups: Vec<Option<Sums>>,
    ingredients: Ingredients,
    targets: Vec<Target>,
    /// (Target kind, id) → index in `targets`.
    target_index: FxHashMap<(TargetKind, String), u32>,
    /// Mapped item (its position in the mapping index) → index in `targets`.
    item_target: Vec<Option<u32>>,
    /// (Mapped item, sold quantity as stored) → index in `amounts`, or `None` beyond the
    /// range. The stored form keeps the scale, which the contributions carry.
    amount_index: FxHashMap<(usize, [u8; 16]), Option<u32>>,
    amounts: Vec<ItemAmounts>,
    /// By `amounts` index × 2 + stream: the contributions every such line shares.
    contributions: Vec<Option<Arc<[Contribution]>>>,
    /// What a line that feeds nothing holds.
    nothing: Arc<[Contribution]>,
    current: CurrentLines,
    scratch: Vec<(usize, Decimal, Decimal)>,
}

/// The day's lines in order, their keys one after another in one string (a `String` per
/// key was a fifth of a 50,000-line day).
#[derive(Default)]
struct CurrentLines {
    keys: String,
    lines: Vec<CurrentLine>,
}

impl CurrentLines {
    fn reserve(&mut self, lines: usize) {
        self.lines.reserve(lines);
        // About a sale id, a slash and a line id; the string grows past it if need be.
        self.keys.reserve(lines * 16);
    }

    /// A line, its key `{sale_id}/{line_id}` as [`line_key`] makes it.
    fn push(
        &mut self,
        sale_id: &str,
        line_id: &str,
        contributions: Arc<[Contribution]>,
        shape: Option<(u32, Stream)>,
    ) {
        self.keys.push_str(sale_id);
        self.keys.push('/');
        self.keys.push_str(line_id);
        self.lines.push(CurrentLine {
            key_end: self.keys.len(),
            contributions,
            shape,
        });
    }

    /// The same lines, a key seen before numbered `key#2`, `key#3`… in order.
    fn number_repeated_keys(self) -> CurrentLines {
        let CurrentLines { keys, lines } = self;
        let mut numbered = CurrentLines {
            keys: String::with_capacity(keys.len()),
            lines: Vec::with_capacity(lines.len()),
        };
        let mut seen: FxHashMap<&str, usize> =
            FxHashMap::with_capacity_and_hasher(lines.len(), Default::default());
        let mut start = 0;
        for line in lines {
            let key = keys.get(start..line.key_end).unwrap_or_default();
            start = line.key_end;
            let repeat = seen.entry(key).or_insert(0);
            *repeat += 1;
            numbered.keys.push_str(key);
            if *repeat > 1 {
                numbered.keys.push('#');
                numbered.keys.push_str(&repeat.to_string());
            }
            numbered.lines.push(CurrentLine {
                key_end: numbered.keys.len(),
                ..line
            });
        }
        numbered
    }
}

impl<'a> Wanted<'a> {
    fn new(catalogue: &'a Catalogue) -> Self {
        Self {
            catalogue,
            stats: DerivedStats::default(),
            exceptions: BTreeSet::new(),
            groups: Vec::new(),
            ingredients: Ingredients::default(),
            targets: Vec::new(),
            target_index: FxHashMap::default(),
            item_target: vec![None; catalogue.mappings.len()],
            amount_index: FxHashMap::default(),
            amounts: Vec::new(),
            contributions: Vec::new(),
            nothing: Arc::from([]),
            current: CurrentLines::default(),
            scratch: Vec::new(),
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
            let contributions = match stream {
                None => Err(SkipReason::NotASale),
                Some(stream) => self.line(sale, line, stream),
            };
            let (contributions, shape) = match contributions {
                Ok((contributions, target)) => (contributions, stream.map(|s| (target, s))),
                Err(reason) => {
                    *self.stats.skipped.entry(reason).or_insert(0) += 1;
                    (self.nothing.clone(), None)
                }
            };
            self.current
                .push(&sale.sale_id, &line.line_id, contributions, shape);
        }
    }

    /// The target of a mapped item, worked out on its first line of the day.
    fn target_of(&mut self, item: usize, mapping: &Mapping) -> u32 {
        if let Some(Some(target)) = self.item_target.get(item) {
            return *target;
        }
        let key = (mapping.target_kind, mapping.target_id.clone());
        let target = match self.target_index.get(&key) {
            Some(target) => *target,
            None => {
                let per_unit = per_unit_of(self.catalogue, mapping.target_kind, &mapping.target_id)
                    .map(|per_unit| {
                        per_unit
                            .into_iter()
                            .map(|(id, fractions)| (self.ingredients.intern(id), fractions))
                            .collect::<Vec<_>>()
                    });
                let slots = self.ingredients.names.len() * 2;
                if self.groups.len() < slots {
                    self.groups.resize_with(slots, || None);
                }
                let label = match mapping.target_kind {
                    TargetKind::Ingredient => format!("ingredient:{}", mapping.target_id),
                    TargetKind::Recipe => format!("recipe:{}", mapping.target_id),
                };
                let target = u32::try_from(self.targets.len()).unwrap_or(u32::MAX);
                self.targets.push(Target {
                    per_unit,
                    label,
                    lines: 0,
                });
                self.target_index.insert(key, target);
                target
            }
        };
        if let Some(slot) = self.item_target.get_mut(item) {
            *slot = Some(target);
        }
        target
    }

    /// What a line of `item` selling `quantity` wants, worked out once per item and
    /// quantity; `None` beyond the decimal range.
    fn amounts_of(
        &mut self,
        item: usize,
        mapping: &Mapping,
        target: u32,
        quantity: Decimal,
    ) -> Option<u32> {
        let key = (item, quantity.serialize());
        if let Some(found) = self.amount_index.get(&key) {
            return *found;
        }
        let per_unit = self
            .targets
            .get(target as usize)
            .and_then(|t| t.per_unit.as_ref().ok())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let found = line_amounts(quantity, mapping, per_unit).map(|ingredients| {
            let index = u32::try_from(self.amounts.len()).unwrap_or(u32::MAX);
            self.amounts.push(ItemAmounts {
                target,
                ingredients,
            });
            index
        });
        self.amount_index.insert(key, found);
        found
    }

    /// One line's contributions (already added to the groups) and the target they come
    /// from, or why it is skipped.
    fn line(
        &mut self,
        sale: &CanonicalSale,
        line: &CanonicalLine,
        stream: Stream,
    ) -> Result<(Arc<[Contribution]>, u32), SkipReason> {
        let quantity = line.quantity.value();
        let name = line.item.name.trim();
        check_line(name, quantity, stream)?;
        let catalogue = self.catalogue;
        let Some((item, mapped)) = catalogue
            .mappings
            .find_index(&line.item)
            .and_then(|(item, _)| Some((item, catalogue.mappings.get(item)?)))
        else {
            // A ranking figure: saturate rather than fail the day.
            if let Some(sold) = self.stats.unmapped.get_mut(name) {
                *sold = sold.checked_add(line.quantity).unwrap_or(*sold);
            } else {
                self.exceptions.insert(format!("unmapped_pos_name:{name}"));
                let sold = self.stats.unmapped.entry(name.to_string()).or_default();
                *sold = sold.checked_add(line.quantity).unwrap_or(*sold);
            }
            return Err(SkipReason::Unmapped);
        };
        let mapping = &mapped.mapping;
        let target = self.target_of(item, mapping);
        if let Some(Err(exception)) = self.targets.get(target as usize).map(|t| &t.per_unit) {
            if !self.exceptions.contains(exception) {
                self.exceptions.insert(exception.clone());
            }
            return Err(SkipReason::UnresolvedTarget);
        }
        // Every figure here may come from outside: checked, and a line that leaves the
        // range is skipped with an exception while the rest of the day goes on.
        let index = self.amounts_of(item, mapping, target, quantity);
        let amounts = index.and_then(|index| self.amounts.get(index as usize));
        let added = amounts.is_some_and(|amounts| {
            add_line(
                &mut self.groups,
                stream,
                &amounts.ingredients,
                &mut self.scratch,
            )
        });
        let (Some(index), Some(amounts), true) = (index, amounts, added) else {
            self.exceptions.insert(format!("value_out_of_range:{name}"));
            return Err(SkipReason::ValueOutOfRange);
        };
        if let Some(target) = self.targets.get_mut(amounts.target as usize) {
            target.lines += 1;
        }
        if let Some(original) = &sale.original_sale_id {
            for a in &amounts.ingredients {
                if let Some(Some(group)) = self.groups.get_mut(group_index(a.ingredient, stream)) {
                    if !group.original_sales.contains(original) {
                        group.original_sales.insert(original.clone());
                    }
                }
            }
        }
        self.stats.deductions += amounts.ingredients.len();
        // Laid out like the groups: (amounts, stream) pairs.
        let slot = group_index(index, stream);
        if self.contributions.len() <= slot {
            self.contributions.resize(slot + 1, None);
        }
        let names = &self.ingredients.names;
        let shared = self.contributions.get_mut(slot).map(|shared| {
            shared
                .get_or_insert_with(|| {
                    amounts
                        .ingredients
                        .iter()
                        .map(|a| Contribution {
                            ingredient_id: names
                                .get(a.ingredient as usize)
                                .cloned()
                                .unwrap_or_default(),
                            stream,
                            quantity: Quantity(a.amount),
                        })
                        .collect()
                })
                .clone()
        });
        Ok((shared.unwrap_or_else(|| self.nothing.clone()), target))
    }
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

/// The entries every new line of one shape feeds, and how many such lines there are.
type FedByShape = (Arc<[String]>, u32);

/// Attribution: which entries each line fed, and how many lines fed each new entry.
fn attribute(
    input: &DayInput,
    current: CurrentLines,
    new_entries: &mut [LedgerEntry],
    stats: &mut DerivedStats,
) -> LineList {
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
    // A line new to the ledger feeds what every new line of its shape feeds: worked out
    // once per shape, with the number of such lines.
    let mut by_shape: FxHashMap<(u32, Stream), FedByShape> = FxHashMap::default();
    let CurrentLines {
        keys,
        lines: current,
    } = current;
    let mut lines = LineList::with_capacity(current.len(), keys.len());
    let mut start = 0;
    for CurrentLine {
        key_end,
        contributions,
        shape,
    } in current
    {
        let key = keys.get(start..key_end).unwrap_or_default();
        start = key_end;
        let before = if input.prior.lines.is_empty() {
            None
        } else {
            input.prior.lines.get(key)
        };
        // Seen by the last completed run with the same contributions: already accounted for
        // (even when its ingredient netted to zero that day and no entry names it).
        if before.is_some_and(|b| b.contributions == contributions) {
            // A line skipped for another reason keeps the history of what it once fed.
            if !contributions.is_empty() {
                *stats.skipped.entry(SkipReason::AlreadyPosted).or_insert(0) += 1;
            }
            if let Some(before) = before {
                lines.push(key, before.clone());
            }
            continue;
        }
        let fed_before = before.map(|b| !b.contributions.is_empty()).unwrap_or(false);
        if contributions.is_empty() && !fed_before {
            continue;
        }
        stats.lines_processed += 1;
        let entries = match (before, shape) {
            (None, Some(shape)) => {
                let (entries, count) = by_shape.entry(shape).or_insert_with(|| {
                    (
                        fed_entries(input, None, &contributions, &by_group).into(),
                        0,
                    )
                });
                *count += 1;
                entries.clone()
            }
            _ => {
                let entries = fed_entries(input, before, &contributions, &by_group);
                for id in &entries {
                    *fed_by_entry.entry(id.clone()).or_insert(0) += 1;
                }
                entries.into()
            }
        };
        lines.push(
            key,
            LineState {
                contributions,
                entries,
            },
        );
    }
    for (entries, count) in by_shape.into_values() {
        for id in entries.iter() {
            *fed_by_entry.entry(id.clone()).or_insert(0) += count;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::explode::LineTarget;
    use crate::connection::PosProduct;
    use crate::mapping::matching::MappedItem;
    use crate::sales::canonical::fixtures::line;
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
            lines: derived.lines.to_states(),
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
            register_id: None,
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
            d.lines.get("s1/1").unwrap().entries[..],
            [
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
    fn line_states_are_stored_as_the_object_a_map_was_and_read_back_in_order() {
        let lines = run(&day(), &[], &Prior::default()).lines;
        assert!(lines.len() >= 2, "{lines:?}");
        // Caches written before the list hold the map's JSON: the same object either way.
        let as_map: BTreeMap<String, LineState> = lines
            .iter()
            .map(|(key, state)| (key.to_string(), state.clone()))
            .collect();
        let stored = serde_json::to_value(&lines).unwrap();
        assert_eq!(stored, serde_json::to_value(&as_map).unwrap());
        let from_map: LineList =
            serde_json::from_str(&serde_json::to_string(&as_map).unwrap()).unwrap();
        assert_eq!(from_map.into_states(), lines.to_states());
        // Our own text comes back as the same list, in the same order (a `Value` would
        // sort the keys; the cache writes text).
        let back: LineList = serde_json::from_str(&serde_json::to_string(&lines).unwrap()).unwrap();
        assert_eq!(back, lines);
        // Not an object: refused, not read as an empty day.
        assert!(serde_json::from_str::<LineList>("[]").is_err());
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
        for key in ["s1/1", "s9/1"] {
            let fed = &second.lines.get(key).unwrap().entries;
            assert!(fed.contains(&flour.entry_id), "{key}: {fed:?}");
        }
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

/// The fast derivation against the straightforward one it replaced (kept verbatim in
/// `derive_reference`, tests only), on many generated days and their re-runs: every entry,
/// line state, revision and figure must be the same, scales of decimals included.
#[cfg(test)]
mod differential {
    use super::*;
    use crate::catalog::explode::LineTarget;
    use crate::connection::PosProduct;
    use crate::ledger::derive_reference;
    use crate::mapping::matching::{LineItemRef, MappedItem};

    /// A small deterministic generator (no shrinking needed: the seed names the case).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len() as u64) as usize]
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    const QUANTITIES: &[&str] = &[
        "1", "2", "3", "1.0", "1.00", "0.5", "0.125", "2.50", "0", "-1", "-2", "-0.5", "-1.0", "7",
        "0.333", "12.345",
    ];
    const HUGE: &[&str] = &[
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "1000000000000000000000000000",
        "-3000000000000000000000000",
        "0.0000000000000000000000000001",
        "40000000000000000",
        "-60000000000000000",
    ];
    const TRIMS: &[&str] = &["0", "5", "12.5", "4", "33.3", "99.9999999999", "50"];

    fn catalogue(rng: &mut Rng) -> Catalogue {
        let ingredients = ["i0", "i1", "i2", "i3", "i4", "i5"];
        let mut recipes: HashMap<String, Vec<Line>> = HashMap::new();
        for k in 0..6u64 {
            let mut lines = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let target = if rng.chance(30) && k < 5 {
                    // Children have larger numbers: no cycle, unless one is made below.
                    LineTarget::Recipe(format!("r{}", k + 1 + rng.below(5 - k)))
                } else {
                    LineTarget::Ingredient(rng.pick(&ingredients).to_string())
                };
                let quantity = if rng.chance(3) {
                    rng.pick(HUGE)
                } else {
                    rng.pick(&["0.2", "0.05", "1", "0.125", "0.03", "2", "0.001"])
                };
                let trim_pct = if rng.chance(50) {
                    Some(dec(rng.pick(TRIMS)))
                } else {
                    None
                };
                lines.push(Line {
                    target,
                    quantity: Quantity(dec(quantity)),
                    trim_pct,
                });
            }
            recipes.insert(format!("r{k}"), lines);
        }
        if rng.chance(15) {
            recipes.insert(
                "r5".into(),
                vec![Line {
                    target: LineTarget::Recipe("r4".into()),
                    quantity: Quantity(Decimal::ONE),
                    trim_pct: None,
                }],
            );
        }
        if rng.chance(15) {
            recipes.insert(
                "r3".into(),
                vec![Line {
                    target: LineTarget::Ingredient("i1".into()),
                    quantity: Quantity(Decimal::ONE),
                    trim_pct: Some(Decimal::ONE_HUNDRED),
                }],
            );
        }
        let mut costs = HashMap::new();
        let mut refused_costs = HashMap::new();
        for (n, ingredient) in ingredients.iter().enumerate() {
            if n == 5 && rng.chance(50) {
                continue; // no cost: ingredient_not_found
            }
            if n == 4 && rng.chance(30) {
                refused_costs.insert(
                    ingredient.to_string(),
                    format!("currency_mismatch:{ingredient}:NZD"),
                );
                continue;
            }
            let cost = if rng.chance(3) {
                rng.pick(HUGE)
            } else {
                rng.pick(&["0.85", "2.43", "0.45", "1", "0.1234567"])
            };
            costs.insert(ingredient.to_string(), Money(dec(cost)));
        }
        let mut mapped = Vec::new();
        for m in 0..8u64 {
            let (kind, target) = match rng.below(10) {
                0..=5 => (TargetKind::Recipe, format!("r{}", rng.below(6))),
                6 => (TargetKind::Recipe, "r-missing".to_string()),
                _ => (TargetKind::Ingredient, rng.pick(&ingredients).to_string()),
            };
            let quantity = if rng.chance(3) {
                rng.pick(HUGE)
            } else {
                rng.pick(&["1", "2", "0.5", "1.0", "0.25"])
            };
            let code = match rng.below(4) {
                0 => None,
                1 => Some("DUP".to_string()),
                _ => Some(format!("SKU{m}")),
            };
            let name = if rng.chance(20) {
                "Shared".to_string()
            } else {
                format!("Item {m}")
            };
            mapped.push(MappedItem {
                item_id: format!("m{m}"),
                code: code.clone(),
                name: name.clone(),
                mapping: Mapping {
                    company_id: "c".into(),
                    product: PosProduct::KSeries,
                    item_id: format!("m{m}"),
                    target_kind: kind,
                    target_id: target,
                    quantity: Quantity(dec(quantity)),
                    is_subtraction: rng.chance(15),
                    item_name: name,
                    item_sku: code,
                    created_at: String::new(),
                    updated_at: String::new(),
                    version: 1,
                },
            });
        }
        Catalogue {
            mappings: MappingIndex::new(mapped),
            recipes,
            costs,
            currency: Some("GBP".into()),
            refused_costs,
        }
    }

    fn line(rng: &mut Rng, refund: bool) -> CanonicalLine {
        let m = rng.below(10);
        let item = match rng.below(5) {
            0 => LineItemRef {
                item_id: Some(format!("m{m}").into()),
                sku: None,
                name: format!("Item {m}").into(),
            },
            1 => LineItemRef {
                item_id: None,
                sku: Some(format!(" SKU{m} ").into()),
                name: format!("Item {m}").into(),
            },
            2 => LineItemRef {
                item_id: None,
                sku: Some("DUP".into()),
                name: rng
                    .pick(&[
                        "Item 1", " Item 2 ", "Shared", "", "  ", "Unknown", "Item 9",
                    ])
                    .into(),
            },
            _ => LineItemRef {
                item_id: None,
                sku: None,
                name: format!("Item {m}").into(),
            },
        };
        let mut quantity = if rng.chance(2) {
            dec(rng.pick(HUGE))
        } else {
            dec(rng.pick(QUANTITIES))
        };
        if refund && rng.chance(80) {
            quantity = -quantity.abs();
        } else if !refund && rng.chance(80) {
            quantity = quantity.abs();
        }
        CanonicalLine {
            line_id: rng.pick(&["1", "2", "3", "4", "1", "5/6"]).into(),
            parent_line_id: None,
            item,
            quantity: Quantity(quantity),
            net: Money::ZERO,
            gross: Money::ZERO,
            tax: Money::ZERO,
            discount: Money::ZERO,
            service_charge: Money::ZERO,
            tax_code: None,
            accounting_group: None,
        }
    }

    fn day(rng: &mut Rng) -> Vec<CanonicalSale> {
        (0..rng.below(9))
            .map(|s| {
                let kind = match rng.below(10) {
                    0..=5 => SaleKind::Sale,
                    6 | 7 => SaleKind::Refund,
                    8 => SaleKind::Void,
                    _ => SaleKind::Other("float".into()),
                };
                let refund = kind == SaleKind::Refund;
                let lines = (0..rng.below(7)).map(|_| line(rng, refund)).collect();
                CanonicalSale {
                    sale_id: rng.pick(&["s1", "s2", "s3", "s1/5", "r1"]).to_string()
                        + &s.to_string(),
                    receipt: None,
                    kind,
                    closed_at: chrono::DateTime::UNIX_EPOCH,
                    original_sale_id: (refund && rng.chance(70))
                        .then(|| rng.pick(&["s10", "s21", "s32"]).to_string()),
                    currency: None,
                    lines,
                    payments: Vec::new(),
                    register_id: None,
                }
            })
            .collect()
    }

    /// A later version of `sales`: sales voided, lines changed, late sales added.
    fn edited(rng: &mut Rng, sales: &[CanonicalSale]) -> Vec<CanonicalSale> {
        let mut out: Vec<CanonicalSale> = sales.to_vec();
        for sale in &mut out {
            if rng.chance(15) {
                sale.kind = SaleKind::Void;
            }
            for line in &mut sale.lines {
                if rng.chance(15) {
                    line.quantity = Quantity(dec(rng.pick(QUANTITIES)));
                }
            }
        }
        if rng.chance(20) && !out.is_empty() {
            out.remove(0);
        }
        out.extend(day(rng));
        out
    }

    fn input<'a>(
        catalogue: &'a Catalogue,
        sales: &'a [CanonicalSale],
        posted: &'a [LedgerEntry],
        prior: &'a Prior,
    ) -> DayInput<'a> {
        DayInput {
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
            now: "2026-03-02T05:00:00Z",
        }
    }

    /// Everything a derivation returns, in a stable order; `Debug` shows decimal scales.
    fn shown(derived: &Derived) -> String {
        let lines: BTreeMap<&str, &LineState> = derived.lines.iter().collect();
        assert_eq!(lines.len(), derived.lines.len(), "a line key twice");
        format!(
            "{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:?}",
            derived.new_entries,
            lines,
            derived.revisions,
            derived.stats,
            derived.stats.unmapped_ranked()
        )
    }

    /// Both derivations of one input, which must agree; the fast one is returned.
    fn both(input: &DayInput, seed: u64, run: &str) -> Derived {
        let fast = derive(input);
        let reference = derive_reference::derive(input);
        let (fast_shown, reference_shown) = (shown(&fast), shown(&reference));
        assert!(
            fast_shown == reference_shown,
            "seed {seed}, {run}: the fast derivation differs\n--- fast\n{fast_shown}\n--- reference\n{reference_shown}"
        );
        fast
    }

    #[test]
    fn the_fast_derivation_equals_the_straightforward_one_on_generated_days() {
        let mut entries = 0;
        for seed in 0..400u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5151);
            let catalogue = catalogue(&mut rng);
            let first_day = day(&mut rng);
            let first = both(
                &input(&catalogue, &first_day, &[], &Prior::default()),
                seed,
                "first run",
            );
            let prior = Prior {
                lines: first.lines.to_states(),
                revisions: first.revisions.clone(),
            };
            // The same day again, then a changed day on top of what the first run posted.
            both(
                &input(&catalogue, &first_day, &first.new_entries, &prior),
                seed,
                "again",
            );
            let second_day = edited(&mut rng, &first_day);
            let second = both(
                &input(&catalogue, &second_day, &first.new_entries, &prior),
                seed,
                "edited",
            );
            // And back to nothing, with both runs' entries posted.
            let posted: Vec<LedgerEntry> = first
                .new_entries
                .iter()
                .chain(&second.new_entries)
                .cloned()
                .collect();
            let prior = Prior {
                lines: second.lines.to_states(),
                revisions: second.revisions.clone(),
            };
            both(&input(&catalogue, &[], &posted, &prior), seed, "emptied");
            entries += first.new_entries.len() + second.new_entries.len();
        }
        assert!(
            entries > 1000,
            "the generated days post something: {entries}"
        );
    }

    #[test]
    fn a_total_whose_value_leaves_the_range_while_its_sums_fit_is_checked_exactly() {
        // 4e16 / 1e-12 = 4e28 fits; two of them (8e28) do not, though 8e16 does.
        let mut rng = Rng(11);
        let mut catalogue = catalogue(&mut rng);
        catalogue.recipes.insert(
            "r0".into(),
            vec![Line {
                target: LineTarget::Ingredient("i0".into()),
                quantity: Quantity(Decimal::ONE),
                trim_pct: Some(dec("99.9999999999")),
            }],
        );
        catalogue.costs.insert("i0".into(), Money(Decimal::ONE));
        let mut item = catalogue.mappings.get(0).cloned().unwrap();
        item.mapping.target_kind = TargetKind::Recipe;
        item.mapping.target_id = "r0".into();
        item.mapping.quantity = Quantity(Decimal::ONE);
        item.mapping.is_subtraction = false;
        catalogue.mappings = MappingIndex::new(vec![item]);
        let mut sales = day(&mut rng);
        let mut big = line(&mut rng, false);
        big.item = LineItemRef {
            item_id: Some("m0".into()),
            sku: None,
            name: "Big".into(),
        };
        big.quantity = Quantity(dec("40000000000000000"));
        let mut small = big.clone();
        small.quantity = Quantity(dec("3"));
        sales.push(CanonicalSale {
            sale_id: "big".into(),
            receipt: None,
            kind: SaleKind::Sale,
            closed_at: chrono::DateTime::UNIX_EPOCH,
            original_sale_id: None,
            currency: None,
            lines: vec![big.clone(), small, big],
            payments: Vec::new(),
            register_id: None,
        });
        let d = both(
            &input(&catalogue, &sales, &[], &Prior::default()),
            11,
            "near the range",
        );
        assert_eq!(d.stats.skipped.get(&SkipReason::ValueOutOfRange), Some(&1));
    }

    #[test]
    fn the_fast_derivation_equals_the_straightforward_one_on_a_large_day() {
        // Many lines of the same items: the per-day memos are hit thousands of times.
        let mut rng = Rng(7);
        let catalogue = catalogue(&mut rng);
        let mut sales = Vec::new();
        while sales.len() < 600 {
            sales.extend(day(&mut rng));
        }
        both(
            &input(&catalogue, &sales, &[], &Prior::default()),
            7,
            "large day",
        );
    }
}
