//! Step: recipes and items, the editable mapping file, storage units linked and locations
//! activated (activation requests each 90-day migration).

use serde_json::{json, Value};

use super::catalogue::STORAGE_UNITS;
use super::{ok, step, Demo, DEMO_COMPANY};
use crate::Error;

/// What the summary reports of the setup.
pub struct Setup {
    pub items_seen: Value,
    pub mapped: usize,
    pub activated: usize,
}

pub async fn map_and_activate(demo: &Demo, locations: &[Value]) -> Result<Setup, Error> {
    step("Recipes (infra/local/demo/recipes.json) and items synced per location");
    create_recipes(demo).await?;
    let (status, item_sync) = demo
        .api
        .post(
            &format!("{}/items/sync", demo.company),
            &json!({"product": "k_series"}),
            None,
        )
        .await?;
    ok("item sync", status, &item_sync)?;
    println!(
        "    items        {} distinct across locations, {} Items API requests",
        item_sync["seen"], item_sync["requests"]
    );

    step("Mappings from infra/local/demo/mappings.csv (checked whole before anything is written)");
    let mapping_text =
        std::fs::read_to_string(crate::paths::root().join("infra/local/demo/mappings.csv"))?;
    let (rows, mapped) = crate::mapping_file::apply(&demo.api, DEMO_COMPANY, &mapping_text).await?;
    println!("    {rows} rows → {mapped} item mappings (a menu name sold by both businesses maps both items)");

    step("Storage units linked, locations activated (activation requests each 90-day migration)");
    let activated = link_and_activate(demo, locations).await?;
    Ok(Setup {
        items_seen: item_sync["seen"].clone(),
        mapped,
        activated,
    })
}

/// The recipes of `infra/local/demo/recipes.json`, their lines naming ingredients by SKU.
async fn create_recipes(demo: &Demo) -> Result<(), Error> {
    let (api, company) = (&demo.api, &demo.company);
    let recipes_file = crate::paths::root().join("infra/local/demo/recipes.json");
    let recipes: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&recipes_file)?)?;
    let (ingredients, _) = api.list_all(&format!("{company}/ingredients"), 100).await?;
    for recipe in &recipes {
        let lines: Vec<Value> = recipe["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|line| {
                let sku = line["ingredient"].as_str().unwrap_or_default();
                let id = ingredients
                    .iter()
                    .find(|i| i["sku"] == sku)
                    .map(|i| i["id"].clone())
                    .unwrap_or(Value::Null);
                let mut out = json!({"ingredient_id": id, "quantity": line["quantity"]});
                if !line["trim_pct"].is_null() {
                    out["trim_pct"] = line["trim_pct"].clone();
                }
                out
            })
            .collect();
        let name = recipe["name"].as_str().unwrap_or("?");
        let (status, body) = api
            .post(
                &format!("{company}/recipes"),
                &json!({"name": name, "lines": lines}),
                Some(name),
            )
            .await?;
        ok(&format!("recipe {name}"), status, &body)?;
        println!(
            "    recipe       {name:<20} {} lines",
            body["lines"].as_array().map(Vec::len).unwrap_or(0)
        );
    }
    Ok(())
}

/// Each site deducts from its own storage unit, paired in the order of `STORAGE_UNITS`.
async fn link_and_activate(demo: &Demo, locations: &[Value]) -> Result<usize, Error> {
    let (units, _) = demo
        .api
        .list_all(&format!("{}/storage-units", demo.company), 100)
        .await?;
    let mut activated = 0;
    for (location, (unit_name, _)) in locations.iter().zip(STORAGE_UNITS) {
        let Some(unit) = units.iter().find(|u| u["name"] == unit_name) else {
            return Err(format!("storage unit {unit_name} is missing").into());
        };
        link_and_activate_one(demo, location, unit).await?;
        activated += 1;
    }
    Ok(activated)
}

/// Links `location` to storage unit `unit` and activates it (which requests its 90-day
/// migration).
pub async fn link_and_activate_one(
    demo: &Demo,
    location: &Value,
    unit: &Value,
) -> Result<(), Error> {
    let (api, company) = (&demo.api, &demo.company);
    let id = location["location_id"].as_str().unwrap_or_default();
    let body = json!({"storage_unit_id": unit["id"]})
        .to_string()
        .into_bytes();
    let (status, linked) = api
        .request(
            reqwest::Method::PUT,
            &format!("{company}/locations/{id}/storage-unit"),
            Some(("application/json", body)),
            &[],
        )
        .await?;
    ok(&format!("link {id}"), status, &linked)?;
    let (status, result) = api
        .request(
            reqwest::Method::POST,
            &format!("{company}/locations/{id}/activate"),
            None,
            &[],
        )
        .await?;
    ok(&format!("activate {id}"), status, &result)?;
    println!(
        "    {:<28} → {:<24} activated {}{}",
        location["name"].as_str().unwrap_or("?"),
        unit["name"].as_str().unwrap_or("?"),
        result["location"]["activated_at"].as_str().unwrap_or("?"),
        if result["migration_requested"] == true {
            ", migration requested"
        } else {
            ""
        }
    );
    Ok(())
}
