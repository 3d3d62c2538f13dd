//! Recipes: lines of ingredients or child recipes, nested to any depth, and the references
//! that keep what a recipe uses from being deleted.
//!
//! Every ingredient and recipe carries a `ref_count`. A save that adds or removes a
//! reference changes the target's count in the same transaction as its own write, with a
//! `version` condition on every item it touches, and writes a "who uses this" item beside
//! it. A delete is conditioned on the version it read with `ref_count == 0`, so a delete and
//! a concurrent save can never both succeed. Saves that add recipe → recipe edges also bump
//! one per-company graph item, which serialises them so two concurrent saves cannot close
//! a cycle the other one did not see.

use std::collections::{BTreeSet, HashMap, VecDeque};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::explode::{self, ExplodeError, Line, LineTarget};
use super::ingredient::Ingredient;
use super::records::{self, CatalogRecord, Created};
use super::validate;
use crate::api::openapi::schemas as doc;
use crate::error::{AppError, ErrorCode};
use crate::ids;
use crate::money::{bounds, check_bounds, Quantity};
use crate::store::occ::{self, Plan};
use crate::store::{attr, from_item, keys, to_item, Condition, Item, ItemStore, Key, Query, Write};

pub const SORT_PREFIX: &str = "RCP#";
pub const MAX_LINES: usize = 50;
/// A transaction holds at most 100 writes: the recipe, the graph item and two per changed
/// reference (the target's counter and the "who uses this" item).
pub const MAX_REFERENCE_CHANGES: usize = 48;
const _: () = assert!(2 + 2 * MAX_REFERENCE_CHANGES <= 100);
/// Users named in an "in use" refusal.
const USERS_NAMED: u32 = 10;

pub fn key(company_id: &str, recipe_id: &str) -> Key {
    keys::catalog(company_id, SORT_PREFIX, recipe_id)
}

/// The per-company item every save adding a recipe → recipe edge rewrites (cycle guard).
fn graph_key(company_id: &str) -> Key {
    Key::new(keys::company(company_id), "RCPGRAPH")
}

/// A line as sent and stored: exactly one of `ingredient_id` / `recipe_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeLine {
    #[serde(default)]
    pub ingredient_id: Option<String>,
    #[serde(default)]
    pub recipe_id: Option<String>,
    pub quantity: Quantity,
    /// Percentage lost in preparation, a decimal string in [0, 100).
    #[serde(default, with = "pct")]
    pub trim_pct: Option<Decimal>,
}

/// Percentages travel as exact decimal strings, like quantities.
mod pct {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Quantity;

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Option::<Quantity>::deserialize(d).map(|o| o.map(Quantity::value))
    }
}

impl RecipeLine {
    pub fn target(&self) -> Option<Target> {
        match (&self.ingredient_id, &self.recipe_id) {
            (Some(id), None) => Some(Target::ingredient(id)),
            (None, Some(id)) => Some(Target::recipe(id)),
            _ => None,
        }
    }

    fn to_line(&self) -> Option<Line> {
        let target = match self.target()? {
            Target {
                kind: TargetKind::Ingredient,
                id,
            } => LineTarget::Ingredient(id),
            Target {
                kind: TargetKind::Recipe,
                id,
            } => LineTarget::Recipe(id),
        };
        Some(Line {
            target,
            quantity: self.quantity,
            trim_pct: self.trim_pct,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipe {
    pub id: String,
    pub company_id: String,
    pub name: String,
    #[schema(value_type = Vec<doc::RecipeLineView>, min_items = 1, max_items = 50)]
    pub lines: Vec<RecipeLine>,
    /// How many recipes (and later mappings) use this recipe.
    #[serde(default)]
    #[schema(required)]
    pub ref_count: u64,
    #[schema(schema_with = doc::time)]
    pub created_at: String,
    #[schema(schema_with = doc::time)]
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    #[schema(schema_with = doc::name_text)]
    pub name: String,
    #[schema(value_type = Vec<doc::RecipeLine>, min_items = 1, max_items = 50)]
    pub lines: Vec<RecipeLine>,
}

/// `lines`, when present, replaces every line.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipePatch {
    #[serde(default)]
    #[schema(schema_with = doc::name_text)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<doc::RecipeLine>, min_items = 1, max_items = 50)]
    pub lines: Option<Vec<RecipeLine>>,
}

/// Checks and normalises lines (pure): 1..=50, one target each, quantity > 0,
/// trim in [0, 100), at most [`MAX_REFERENCE_CHANGES`] distinct targets (so a save or a
/// delete always fits one transaction).
pub fn validate_lines(lines: Vec<RecipeLine>) -> Result<Vec<RecipeLine>, AppError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::validation(format!(
            "a recipe needs 1 to {MAX_LINES} lines (got {})",
            lines.len()
        )));
    }
    let lines = lines
        .into_iter()
        .enumerate()
        .map(|(index, mut line)| {
            let n = index + 1;
            line.ingredient_id = line.ingredient_id.map(|s| s.trim().to_string());
            line.recipe_id = line.recipe_id.map(|s| s.trim().to_string());
            if line.target().is_none() {
                return Err(AppError::validation(format!(
                    "line {n}: give exactly one of `ingredient_id` or `recipe_id`"
                )));
            }
            if line.quantity.value() <= Decimal::ZERO {
                return Err(AppError::validation(format!(
                    "line {n}: `quantity` must be greater than zero (got {})",
                    line.quantity
                )));
            }
            check_bounds(
                &format!("lines[{index}].quantity"),
                line.quantity.value(),
                bounds::QUANTITY_MAX,
                bounds::SCALE_MAX,
            )?;
            if let Some(trim) = line.trim_pct {
                if explode::required(Decimal::ONE, Some(trim)).is_err()
                    || trim.normalize().scale() > bounds::TRIM_SCALE_MAX
                {
                    return Err(AppError::new(
                        ErrorCode::InvalidTrimPct,
                        format!(
                            "line {n}: `trim_pct` {trim} is outside [0, 100) or has more than \
                             {} decimals; it is the percentage lost in preparation, e.g. \"12.5\"",
                            bounds::TRIM_SCALE_MAX
                        ),
                    ));
                }
            }
            Ok(line)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let distinct = targets(&lines).len();
    if distinct > MAX_REFERENCE_CHANGES {
        return Err(AppError::validation(format!(
            "a recipe may use at most {MAX_REFERENCE_CHANGES} different ingredients and recipes \
             (got {distinct}); group some of them into a child recipe"
        )));
    }
    Ok(lines)
}

impl CatalogRecord for Recipe {
    const KIND: &'static str = "recipe";
    const SORT_PREFIX: &'static str = SORT_PREFIX;
    const NOT_FOUND: ErrorCode = ErrorCode::RecipeNotFound;
    type Input = RecipeInput;
    type Patch = RecipePatch;

    /// Validation only; [`create`] writes the record with its references.
    fn create(
        company_id: &str,
        id: String,
        input: RecipeInput,
        now: &str,
    ) -> Result<Self, AppError> {
        Ok(Self {
            id,
            company_id: company_id.to_string(),
            name: validate::name("name", &input.name)?,
            lines: validate_lines(input.lines)?,
            ref_count: 0,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
        })
    }

    /// Validation only; [`update`] writes the record with its references.
    fn apply(&mut self, patch: RecipePatch, now: &str) -> Result<(), AppError> {
        if patch.name.is_none() && patch.lines.is_none() {
            return Err(AppError::validation(
                "nothing to update: send `name` and/or `lines`",
            ));
        }
        if let Some(name) = patch.name {
            self.name = validate::name("name", &name)?;
        }
        if let Some(lines) = patch.lines {
            self.lines = validate_lines(lines)?;
        }
        self.updated_at = now.to_string();
        Ok(())
    }

    super::records::versioned!();
}

// ---------------------------------------------------------------------------------------
// References ("who uses this") and their counters, shared with mappings.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    Ingredient,
    Recipe,
}

impl TargetKind {
    pub fn code(self) -> &'static str {
        match self {
            TargetKind::Ingredient => "ING",
            TargetKind::Recipe => "RCP",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            TargetKind::Ingredient => "ingredient",
            TargetKind::Recipe => "recipe",
        }
    }
    fn not_found(self) -> ErrorCode {
        match self {
            TargetKind::Ingredient => ErrorCode::IngredientNotFound,
            TargetKind::Recipe => ErrorCode::RecipeNotFound,
        }
    }
    fn in_use(self) -> ErrorCode {
        match self {
            TargetKind::Ingredient => ErrorCode::IngredientInUse,
            TargetKind::Recipe => ErrorCode::RecipeInUse,
        }
    }
}

/// Something a recipe line or a mapping points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub kind: TargetKind,
    pub id: String,
}

impl Target {
    pub fn ingredient(id: &str) -> Self {
        Self {
            kind: TargetKind::Ingredient,
            id: id.to_string(),
        }
    }
    pub fn recipe(id: &str) -> Self {
        Self {
            kind: TargetKind::Recipe,
            id: id.to_string(),
        }
    }
    pub fn key(&self, company_id: &str) -> Key {
        match self.kind {
            TargetKind::Ingredient => Ingredient::key(company_id, &self.id),
            TargetKind::Recipe => key(company_id, &self.id),
        }
    }
    fn not_found(&self) -> AppError {
        AppError::new(
            self.kind.not_found(),
            format!(
                "{} `{}` does not exist in this company",
                self.kind.noun(),
                self.id
            ),
        )
    }
}

/// Partition of the "who uses this" items of a target.
pub fn users_partition(company_id: &str, target: &Target) -> String {
    format!(
        "{}#REF#{}#{}",
        keys::company(company_id),
        target.kind.code(),
        target.id
    )
}

/// Who holds a reference: `kind` is `RCP` for recipes (`MAP` for mappings later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub name: &'a str,
}

/// A target as read, with the version its counter write is conditioned on.
#[derive(Debug, Clone)]
pub struct LoadedTarget {
    pub target: Target,
    pub name: String,
    pub ref_count: u64,
    pub version: u64,
    item: Item,
}

fn number(item: &Item, name: &str) -> u64 {
    item.get(name).and_then(Value::as_u64).unwrap_or(0)
}

/// Reads a target of this company; `None` when it does not exist.
pub async fn load_target(
    store: &dyn ItemStore,
    company_id: &str,
    target: &Target,
) -> Result<Option<LoadedTarget>, AppError> {
    if !ids::is_valid_id(&target.id) {
        return Ok(None);
    }
    Ok(store
        .get(&target.key(company_id))
        .await?
        .map(|item| LoadedTarget {
            target: target.clone(),
            name: item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            ref_count: number(&item, "ref_count"),
            version: number(&item, attr::VERSION),
            item,
        }))
}

fn counter_write(target: &LoadedTarget, ref_count: u64) -> Write {
    let mut item = target.item.clone();
    item.insert("ref_count".into(), Value::from(ref_count));
    item.insert(attr::VERSION.into(), Value::from(target.version + 1));
    Write::Put(item, Condition::VersionIs(target.version))
}

fn user_key(company_id: &str, target: &Target, referrer_kind: &str, referrer_id: &str) -> Key {
    Key::new(
        users_partition(company_id, target),
        format!("{referrer_kind}#{referrer_id}"),
    )
}

/// The writes that record `referrer` using `target`; put them in the referrer's own
/// transaction. The counter write fails the transaction if the target changed (or was
/// deleted) since it was read.
pub fn add_reference(company_id: &str, target: &LoadedTarget, referrer: &Referrer) -> Vec<Write> {
    let mut user = Item::new();
    let key = user_key(company_id, &target.target, referrer.kind, referrer.id);
    user.insert(attr::PK.into(), Value::from(key.pk));
    user.insert(attr::SK.into(), Value::from(key.sk));
    user.insert("referrer_kind".into(), Value::from(referrer.kind));
    user.insert("referrer_id".into(), Value::from(referrer.id));
    user.insert("referrer_name".into(), Value::from(referrer.name));
    vec![
        counter_write(target, target.ref_count + 1),
        // Unconditional: the counter's version condition already makes this exact.
        Write::Put(user, Condition::None),
    ]
}

/// The writes that record `referrer` no longer using `target`.
pub fn remove_reference(
    company_id: &str,
    target: &LoadedTarget,
    referrer: &Referrer,
) -> Vec<Write> {
    vec![
        counter_write(target, target.ref_count.saturating_sub(1)),
        Write::Delete(
            user_key(company_id, &target.target, referrer.kind, referrer.id),
            Condition::None,
        ),
    ]
}

/// The refusal for deleting a target still in use, naming (some of) its users.
async fn in_use(
    store: &dyn ItemStore,
    company_id: &str,
    target: &LoadedTarget,
) -> Result<AppError, AppError> {
    let page = store
        .query(&Query::partition(users_partition(company_id, &target.target)).limit(USERS_NAMED))
        .await?;
    let mut named = Vec::new();
    for item in &page.items {
        let kind = item
            .get("referrer_kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let id = item
            .get("referrer_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut name = item
            .get("referrer_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // Recipes may have been renamed since; show the current name.
        if kind == "RCP" {
            if let Some(current) = store.get(&key(company_id, id)).await? {
                if let Some(n) = current.get("name").and_then(Value::as_str) {
                    name = n.to_string();
                }
            }
        }
        let noun = if kind == "RCP" { "recipe" } else { "mapping" };
        named.push(format!("{noun} \"{name}\" ({id})"));
    }
    let more = target.ref_count.saturating_sub(named.len() as u64);
    let mut users = named.join(", ");
    if more > 0 {
        users.push_str(&format!(" and {more} more"));
    }
    Ok(AppError::new(
        target.target.kind.in_use(),
        format!(
            "{} \"{}\" ({}) is used by {users}; remove it from them before deleting it",
            target.target.kind.noun(),
            target.name,
            target.target.id
        ),
    ))
}

// ---------------------------------------------------------------------------------------
// Use cases.

fn targets(lines: &[RecipeLine]) -> BTreeSet<Target> {
    lines.iter().filter_map(RecipeLine::target).collect()
}

/// The recipes reachable from `root`, with `root` taken as `root_lines` (the version being
/// saved) rather than as stored. Missing children are left out; explosion reports them.
async fn load_reachable(
    store: &dyn ItemStore,
    company_id: &str,
    root: &Recipe,
) -> Result<HashMap<String, Recipe>, AppError> {
    let mut book: HashMap<String, Recipe> = HashMap::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    book.insert(root.id.clone(), root.clone());
    queue.extend(root.lines.iter().filter_map(|l| l.recipe_id.clone()));
    while let Some(id) = queue.pop_front() {
        if book.contains_key(&id) || !ids::is_valid_id(&id) {
            continue;
        }
        if let Some(item) = store.get(&key(company_id, &id)).await? {
            let recipe: Recipe = from_item(item)?;
            queue.extend(recipe.lines.iter().filter_map(|l| l.recipe_id.clone()));
            book.insert(id, recipe);
        }
    }
    Ok(book)
}

/// Every recipe's lines in the explosion's terms, keyed by recipe id.
pub fn explode_lines(book: &HashMap<String, Recipe>) -> HashMap<String, Vec<Line>> {
    book.iter()
        .map(|(id, r)| {
            (
                id.clone(),
                r.lines.iter().filter_map(RecipeLine::to_line).collect(),
            )
        })
        .collect()
}

fn cycle_error(book: &HashMap<String, Recipe>, cycle: &[String]) -> AppError {
    let path = cycle
        .iter()
        .map(|id| match book.get(id) {
            Some(r) => format!("\"{}\" ({id})", r.name),
            None => id.clone(),
        })
        .collect::<Vec<_>>()
        .join(" → ");
    AppError::new(
        ErrorCode::RecipeCycle,
        format!("recipes would contain themselves: {path}; remove one of these lines"),
    )
}

/// The writes besides the recipe's own that saving `recipe` (previously `old_lines`) needs:
/// reference changes and, when recipe edges are added, the cycle check and graph bump.
/// The write that bumps the company's recipe-graph item (creating it the first time).
async fn graph_bump(store: &dyn ItemStore, company_id: &str) -> Result<Write, AppError> {
    Ok(match store.get(&graph_key(company_id)).await? {
        Some(mut item) => {
            let version = number(&item, attr::VERSION);
            item.insert(attr::VERSION.into(), Value::from(version + 1));
            Write::Put(item, Condition::VersionIs(version))
        }
        None => {
            let key = graph_key(company_id);
            let mut item = Item::new();
            item.insert(attr::PK.into(), Value::from(key.pk));
            item.insert(attr::SK.into(), Value::from(key.sk));
            item.insert(attr::VERSION.into(), Value::from(1u64));
            Write::Put(item, Condition::NotExists)
        }
    })
}

/// What the recipe reaches has no cycle, and one portion of it stays inside the decimal
/// range (nested quantities multiply; recipes using it are still checked at each
/// explosion).
async fn check_nesting(
    store: &dyn ItemStore,
    company_id: &str,
    recipe: &Recipe,
) -> Result<(), AppError> {
    let book = load_reachable(store, company_id, recipe).await?;
    let lines = explode_lines(&book);
    let lookup = |id: &str| lines.get(id).map(Vec::as_slice);
    if let Some(cycle) = explode::find_cycle(&recipe.id, lookup) {
        return Err(cycle_error(&book, &cycle));
    }
    if let Err(ExplodeError::OutOfRange(_)) =
        explode::explode(&recipe.id, Quantity(Decimal::ONE), lookup)
    {
        return Err(AppError::new(
            ErrorCode::ValueOutOfRange,
            format!(
                "the nested quantities of recipe \"{}\" multiply beyond the exact decimal \
                 range; use smaller quantities or units",
                recipe.name
            ),
        ));
    }
    Ok(())
}

async fn plan(
    store: &dyn ItemStore,
    company_id: &str,
    recipe: &Recipe,
    old_lines: &[RecipeLine],
) -> Result<Vec<Write>, AppError> {
    let before = targets(old_lines);
    let after = targets(&recipe.lines);
    let added: Vec<&Target> = after.difference(&before).collect();
    let removed: Vec<&Target> = before.difference(&after).collect();
    if added.len() + removed.len() > MAX_REFERENCE_CHANGES {
        return Err(AppError::validation(format!(
            "this save adds or removes {} different ingredients/recipes; one save may change \
             at most {MAX_REFERENCE_CHANGES}, so split it into several saves",
            added.len() + removed.len()
        )));
    }
    let referrer = Referrer {
        kind: TargetKind::Recipe.code(),
        id: &recipe.id,
        name: &recipe.name,
    };
    let mut writes = Vec::new();
    let adds_recipe_edge = added.iter().any(|t| t.kind == TargetKind::Recipe);
    if adds_recipe_edge {
        // Read the graph item before the recipes, so any edge saved after this read
        // changes its version and fails this transaction.
        writes.push(graph_bump(store, company_id).await?);
    }
    for target in &added {
        if target.kind == TargetKind::Recipe && target.id == recipe.id {
            return Err(AppError::new(
                ErrorCode::RecipeCycle,
                format!(
                    "recipe \"{}\" ({}) cannot contain itself",
                    recipe.name, recipe.id
                ),
            ));
        }
        let loaded = load_target(store, company_id, target)
            .await?
            .ok_or_else(|| target.not_found())?;
        writes.extend(add_reference(company_id, &loaded, &referrer));
    }
    let uses_recipes = recipe.lines.iter().any(|l| l.recipe_id.is_some());
    if adds_recipe_edge || uses_recipes {
        check_nesting(store, company_id, recipe).await?;
    }
    for target in &removed {
        match load_target(store, company_id, target).await? {
            Some(loaded) => writes.extend(remove_reference(company_id, &loaded, &referrer)),
            // The guards make this impossible; still drop the stale "who uses this" item.
            None => writes.push(Write::Delete(
                user_key(company_id, target, referrer.kind, referrer.id),
                Condition::None,
            )),
        }
    }
    Ok(writes)
}

pub async fn create(
    store: &dyn ItemStore,
    company_id: &str,
    input: RecipeInput,
    idempotency_key: Option<&str>,
    now: &str,
) -> Result<Created<Recipe>, AppError> {
    let id = ids::new_id(company_id, Recipe::KIND, idempotency_key);
    let fingerprint = ids::request_fingerprint(&input);
    let recipe = Recipe::create(company_id, id.clone(), input, now)?;
    let (id, fingerprint, recipe) = (&id, &fingerprint, &recipe);
    occ::retry(
        store,
        "an ingredient or recipe this recipe uses",
        move || async move {
            // Only an idempotency key makes ids collide: return what the first call created,
            // if this is the same request.
            if idempotency_key.is_some() {
                if let Some(item) = store.get(&key(company_id, id)).await? {
                    ids::check_replay(&item, fingerprint)?;
                    return Ok(Plan::Keep(Created {
                        record: from_item(item)?,
                        replayed: true,
                    }));
                }
            }
            let mut item = to_item(&recipe, &key(company_id, id))?;
            if idempotency_key.is_some() {
                item.insert(
                    ids::REQUEST_FINGERPRINT_ATTR.into(),
                    fingerprint.clone().into(),
                );
            }
            let mut writes = vec![Write::Put(item, Condition::NotExists)];
            writes.extend(plan(store, company_id, recipe, &[]).await?);
            let created = Created {
                record: recipe.clone(),
                replayed: false,
            };
            Ok(Plan::Write(writes, created))
        },
    )
    .await
}

pub async fn update(
    store: &dyn ItemStore,
    company_id: &str,
    id: &str,
    patch: RecipePatch,
    now: &str,
) -> Result<Recipe, AppError> {
    let patch = &patch;
    occ::retry(store, &format!("recipe `{id}`"), move || async move {
        let current = records::get::<Recipe>(store, company_id, id).await?;
        let mut recipe = current.clone();
        recipe.apply(patch.clone(), now)?;
        recipe.version = current.version + 1;
        let mut writes = vec![Write::Put(
            to_item(&recipe, &key(company_id, id))?,
            Condition::VersionIs(current.version),
        )];
        writes.extend(plan(store, company_id, &recipe, &current.lines).await?);
        Ok(Plan::Write(writes, recipe))
    })
    .await
}

/// Deletes a recipe nothing uses, releasing its own references in the same transaction.
pub async fn delete(store: &dyn ItemStore, company_id: &str, id: &str) -> Result<(), AppError> {
    occ::retry(store, &format!("recipe `{id}`"), move || async move {
        let recipe = records::get::<Recipe>(store, company_id, id).await?;
        let target = Target::recipe(id);
        if recipe.ref_count > 0 {
            let loaded = load_target(store, company_id, &target)
                .await?
                .ok_or_else(|| target.not_found())?;
            return Err(in_use(store, company_id, &loaded).await?);
        }
        let mut writes = vec![Write::Delete(
            key(company_id, id),
            Condition::VersionIs(recipe.version),
        )];
        let deleted = Recipe {
            lines: Vec::new(),
            ..recipe.clone()
        };
        writes.extend(plan(store, company_id, &deleted, &recipe.lines).await?);
        Ok(Plan::Write(writes, ()))
    })
    .await
}

/// Deletes an ingredient nothing uses. Its stock receipts stay as history.
pub async fn delete_ingredient(
    store: &dyn ItemStore,
    company_id: &str,
    id: &str,
) -> Result<(), AppError> {
    let target = Target::ingredient(id);
    let target = &target;
    occ::retry(store, &format!("ingredient `{id}`"), move || async move {
        let loaded = load_target(store, company_id, target)
            .await?
            .ok_or_else(|| target.not_found())?;
        if loaded.ref_count > 0 {
            return Err(in_use(store, company_id, &loaded).await?);
        }
        let write = Write::Delete(target.key(company_id), Condition::VersionIs(loaded.version));
        Ok(Plan::one(write, ()))
    })
    .await
}

/// One ingredient's share of an explosion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplodedIngredient {
    pub ingredient_id: String,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub quantity: Quantity,
}

/// `quantity` sold of a recipe as ingredient quantities (ordered by ingredient id).
pub async fn explosion(
    store: &dyn ItemStore,
    company_id: &str,
    id: &str,
    quantity: Quantity,
) -> Result<Vec<ExplodedIngredient>, AppError> {
    let root = records::get::<Recipe>(store, company_id, id).await?;
    let book = load_reachable(store, company_id, &root).await?;
    let lines = explode_lines(&book);
    let totals = explode::explode(id, quantity, |r| lines.get(r).map(Vec::as_slice)).map_err(
        |err| match err {
            ExplodeError::Cycle(cycle) => cycle_error(&book, &cycle),
            ExplodeError::RecipeNotFound(child) => AppError::new(
                ErrorCode::RecipeNotFound,
                format!(
                    "recipe `{child}`, used under \"{}\", does not exist",
                    root.name
                ),
            ),
            ExplodeError::InvalidTrim(trim) => AppError::new(
                ErrorCode::InvalidTrimPct,
                format!(
                    "a line under \"{}\" has trim {trim} outside [0, 100)",
                    root.name
                ),
            ),
            ExplodeError::OutOfRange(_) => AppError::new(
                ErrorCode::ValueOutOfRange,
                format!(
                    "{quantity} of \"{}\" needs ingredient quantities beyond the exact decimal \
                     range",
                    root.name
                ),
            ),
        },
    )?;
    let mut out = Vec::with_capacity(totals.len());
    for (ingredient_id, quantity) in totals {
        let ingredient = match ids::is_valid_id(&ingredient_id) {
            true => store
                .get(&Ingredient::key(company_id, &ingredient_id))
                .await?
                .map(from_item::<Ingredient>)
                .transpose()?,
            false => None,
        };
        out.push(ExplodedIngredient {
            ingredient_id,
            name: ingredient.as_ref().map(|i| i.name.clone()),
            unit: ingredient.map(|i| i.unit),
            quantity,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: serde_json::Value) -> RecipeLine {
        serde_json::from_value(json).unwrap()
    }

    fn code(result: Result<Vec<RecipeLine>, AppError>) -> ErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn lines_parse_exact_decimals_and_refuse_floats() {
        let l = line(
            serde_json::json!({"ingredient_id": "flour", "quantity": "0.250", "trim_pct": "12.5"}),
        );
        assert_eq!(l.quantity, "0.250".parse().unwrap());
        assert_eq!(l.trim_pct, Some(Decimal::new(125, 1)));
        assert_eq!(l.target(), Some(Target::ingredient("flour")));
        let back = serde_json::to_value(&l).unwrap();
        assert_eq!(back["trim_pct"], "12.5");
        assert_eq!(back["quantity"], "0.250");
        assert!(serde_json::from_value::<RecipeLine>(
            serde_json::json!({"ingredient_id": "a", "quantity": 0.1})
        )
        .is_err());
        assert!(serde_json::from_value::<RecipeLine>(
            serde_json::json!({"ingredient_id": "a", "quantity": "1", "trim_pct": 2.5})
        )
        .is_err());
        assert!(serde_json::from_value::<RecipeLine>(
            serde_json::json!({"ingredient_id": "a", "quantity": "1", "colour": "red"})
        )
        .is_err());
    }

    #[test]
    fn line_count_is_one_to_fifty() {
        let one = || line(serde_json::json!({"ingredient_id": "a", "quantity": "1"}));
        assert_eq!(code(validate_lines(vec![])), ErrorCode::ValidationFailed);
        assert!(validate_lines(vec![one(); MAX_LINES]).is_ok());
        assert_eq!(
            code(validate_lines(vec![one(); MAX_LINES + 1])),
            ErrorCode::ValidationFailed
        );
    }

    #[test]
    fn distinct_targets_are_bounded_so_every_save_fits_one_transaction() {
        let to =
            |i: usize| line(serde_json::json!({"ingredient_id": format!("i{i}"), "quantity": "1"}));
        assert!(validate_lines((0..MAX_REFERENCE_CHANGES).map(to).collect()).is_ok());
        let err = validate_lines((0..MAX_LINES).map(to).collect()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert!(err.message.contains("child recipe"), "{}", err.message);
    }

    #[test]
    fn each_line_names_exactly_one_target() {
        let both =
            line(serde_json::json!({"ingredient_id": "a", "recipe_id": "b", "quantity": "1"}));
        let neither = line(serde_json::json!({"quantity": "1"}));
        for bad in [both, neither] {
            let err = validate_lines(vec![bad]).unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed);
            assert!(err.message.contains("line 1"), "{}", err.message);
        }
        let child = line(serde_json::json!({"recipe_id": " sauce ", "quantity": "2"}));
        let ok = validate_lines(vec![child]).unwrap();
        assert_eq!(ok[0].target(), Some(Target::recipe("sauce")));
    }

    #[test]
    fn quantity_must_be_positive_and_trim_within_zero_and_one_hundred() {
        for q in ["0", "-1", "0.000"] {
            let l = line(serde_json::json!({"ingredient_id": "a", "quantity": q}));
            assert_eq!(
                code(validate_lines(vec![l])),
                ErrorCode::ValidationFailed,
                "{q}"
            );
        }
        for t in ["100", "-0.1", "250"] {
            let l = line(serde_json::json!({"ingredient_id": "a", "quantity": "1", "trim_pct": t}));
            let err = validate_lines(vec![l]).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidTrimPct, "{t}");
            assert_eq!(err.code.http_status(), 422);
        }
        for t in ["0", "99.99"] {
            let l = line(serde_json::json!({"ingredient_id": "a", "quantity": "1", "trim_pct": t}));
            assert!(validate_lines(vec![l]).is_ok(), "{t}");
        }
    }

    #[test]
    fn recipe_names_follow_the_catalogue_rules_and_patches_need_a_field() {
        let input = |name: &str| RecipeInput {
            name: name.into(),
            lines: vec![line(
                serde_json::json!({"ingredient_id": "a", "quantity": "1"}),
            )],
        };
        let mut recipe = Recipe::create("acme", "r1".into(), input("  Burger "), "t0").unwrap();
        assert_eq!(recipe.name, "Burger");
        assert!(Recipe::create("acme", "r2".into(), input("  "), "t0").is_err());
        assert!(recipe.apply(RecipePatch::default(), "t1").is_err());
        recipe
            .apply(
                RecipePatch {
                    name: Some("Cheeseburger".into()),
                    lines: None,
                },
                "t1",
            )
            .unwrap();
        assert_eq!(
            (recipe.name.as_str(), recipe.lines.len()),
            ("Cheeseburger", 1)
        );
    }

    #[test]
    fn reference_writes_bump_the_counter_under_the_version_read() {
        let mut item = Item::new();
        item.insert("name".into(), "Flour".into());
        item.insert("version".into(), 4.into());
        item.insert("ref_count".into(), 2.into());
        let loaded = LoadedTarget {
            target: Target::ingredient("flour"),
            name: "Flour".into(),
            ref_count: 2,
            version: 4,
            item,
        };
        let referrer = Referrer {
            kind: "RCP",
            id: "bread",
            name: "Bread",
        };
        let added = add_reference("acme", &loaded, &referrer);
        let Write::Put(counter, Condition::VersionIs(4)) = &added[0] else {
            panic!("{added:?}")
        };
        assert_eq!(
            (counter["ref_count"].as_u64(), counter["version"].as_u64()),
            (Some(3), Some(5))
        );
        let Write::Put(user, _) = &added[1] else {
            panic!()
        };
        assert_eq!(user["pk"], "CO#acme#REF#ING#flour");
        assert_eq!(user["sk"], "RCP#bread");
        let removed = remove_reference("acme", &loaded, &referrer);
        let Write::Put(counter, Condition::VersionIs(4)) = &removed[0] else {
            panic!()
        };
        assert_eq!(counter["ref_count"].as_u64(), Some(1));
        assert!(matches!(&removed[1], Write::Delete(k, _) if k.sk == "RCP#bread"));
    }
}
