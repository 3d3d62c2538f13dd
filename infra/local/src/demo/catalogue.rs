//! Step: the demo catalogue through the admin API (idempotency keys make re-runs create
//! nothing new): storage units, ingredients and their opening stock in each currency.

use serde_json::json;

use super::{ok, step, Demo, DEMO_COMPANY};
use crate::Error;

pub const STORAGE_UNITS: [(&str, &str); 3] = [
    ("Main Kitchen", "MK"),
    ("Bar Storage", "BAR"),
    ("Terrace Storage", "TER"),
];

/// Name, unit, SKU, opening quantity, and its value in GBP (London) and NZD (Auckland):
/// costs are kept per currency, so each location is valued in its own.
const INGREDIENTS: [(&str, &str, &str, &str, &str, &str); 8] = [
    ("Coffee beans", "kg", "ING-COFFEE", "20", "366.00", "752.00"),
    (
        "Cola bottle 0.33 l",
        "bottle",
        "ING-COLA",
        "960",
        "432.00",
        "873.60",
    ),
    ("Burger bun", "piece", "ING-BUN", "1200", "348.00", "720.00"),
    (
        "Beef patty 180 g",
        "piece",
        "ING-PATTY",
        "1000",
        "1690.00",
        "3420.00",
    ),
    ("Tomato", "kg", "ING-TOMATO", "60", "145.80", "297.00"),
    ("Mozzarella", "kg", "ING-MOZZ", "40", "335.60", "688.00"),
    (
        "Pizza dough ball",
        "piece",
        "ING-DOUGH",
        "800",
        "312.00",
        "640.00",
    ),
    ("Vodka", "l", "ING-VODKA", "30", "474.00", "969.00"),
];

/// What the summary reports of the catalogue.
pub struct Catalogue {
    pub units: usize,
    pub unit_pages: usize,
    pub ingredients: usize,
    pub ingredient_pages: usize,
}

fn created_or_there(status: u16) -> &'static str {
    if status == 201 {
        "created"
    } else {
        "already there"
    }
}

pub async fn create(demo: &Demo) -> Result<Catalogue, Error> {
    step(&format!("Catalogue of company `{DEMO_COMPANY}` through the admin API (idempotent: re-runs create nothing new)"));
    let (api, company) = (&demo.api, &demo.company);
    for (name, code) in STORAGE_UNITS {
        let (status, body) = api
            .post(
                &format!("{company}/storage-units"),
                &json!({"name": name, "code": code}),
                Some(code),
            )
            .await?;
        ok(&format!("creating storage unit {name}"), status, &body)?;
        println!(
            "    storage unit {:<16} {} ({})",
            name,
            body["id"].as_str().unwrap_or("?"),
            created_or_there(status)
        );
    }
    for (name, unit, sku, quantity, gbp, nzd) in INGREDIENTS {
        let (status, body) = api
            .post(
                &format!("{company}/ingredients"),
                &json!({"name": name, "unit": unit, "sku": sku}),
                Some(sku),
            )
            .await?;
        ok(&format!("creating ingredient {name}"), status, &body)?;
        let id = body["id"].as_str().unwrap_or_default();
        for (currency, value) in [("GBP", gbp), ("NZD", nzd)] {
            let (status, receipt) = api
                .post(
                    &format!("{company}/ingredients/{id}/receipts"),
                    &json!({"quantity": quantity, "value": value, "currency": currency,
                            "reference": "opening stock"}),
                    Some(&format!("opening-{currency}-{sku}")),
                )
                .await?;
            ok(&format!("opening stock of {name}"), status, &receipt)?;
        }
        println!(
            "    ingredient   {:<20} {:<7} ({})",
            name,
            unit,
            created_or_there(status)
        );
    }
    // Read back through small pages, as a client would.
    let (units, unit_pages) = api.list_all(&format!("{company}/storage-units"), 2).await?;
    let (ingredients, ingredient_pages) =
        api.list_all(&format!("{company}/ingredients"), 5).await?;
    Ok(Catalogue {
        units: units.len(),
        unit_pages,
        ingredients: ingredients.len(),
        ingredient_pages,
    })
}
