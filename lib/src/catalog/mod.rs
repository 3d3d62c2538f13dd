//! Inventory catalogue (SPEC C2): storage units and ingredients, company-scoped.
//! Recipes, receipts and costing join them in the catalogue issue.

pub mod explode;
pub mod ingredient;
pub mod receipt;
pub mod recipe;
pub mod records;
pub mod storage_unit;
pub mod validate;

pub use ingredient::{Ingredient, IngredientInput, IngredientPatch};
pub use recipe::{Recipe, RecipeInput, RecipePatch};
pub use records::{CatalogRecord, Created, ListPage};
pub use storage_unit::{StorageUnit, StorageUnitInput, StorageUnitPatch};
