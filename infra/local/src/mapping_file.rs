//! The mapping file an operations person edits (CSV): which ingredient or recipe each menu
//! item uses. Every row is checked before anything is written, and problems are reported
//! with their row numbers, so a file is applied whole or not at all.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::admin_client::AdminClient;
use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Name(String),
    Sku(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef {
    /// By the ingredient's SKU.
    Ingredient(String),
    /// By the recipe's name.
    Recipe(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub item: ItemRef,
    pub target: TargetRef,
    pub quantity: String,
    pub is_subtraction: bool,
}

/// Parses the whole file with the `csv` reader (quoted fields may hold commas, quotes and
/// line breaks); `#` starts a comment line. `Err` lists every bad row, by the line it
/// starts on.
pub fn parse(text: &str) -> Result<Vec<Row>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut header_seen = false;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map(|p| p.line()).unwrap_or_default();
                problems.push(format!("row {line}: not readable as CSV ({err})"));
                continue;
            }
        };
        let line = usize::try_from(record.position().map(|p| p.line()).unwrap_or_default())
            .unwrap_or_default();
        let cols: Vec<&str> = record.iter().collect();
        if cols.iter().all(|c| c.is_empty()) {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if cols.first() == Some(&"item") {
                continue;
            }
        }
        match row(line, &cols) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(format!("row {line}: {problem}")),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// One data row, checked.
fn row(line: usize, cols: &[&str]) -> Result<Row, String> {
    let [item, target, quantity, subtraction] = cols else {
        return Err(format!(
            "expected 4 columns (item,target,quantity,is_subtraction), found {}",
            cols.len()
        ));
    };
    let item = match item.strip_prefix("sku:") {
        Some(sku) if !sku.is_empty() => ItemRef::Sku(sku.to_string()),
        _ if !item.is_empty() => ItemRef::Name(item.to_string()),
        _ => return Err("the item is empty".into()),
    };
    let target = match target.split_once(':') {
        Some(("ingredient", sku)) if !sku.is_empty() => TargetRef::Ingredient(sku.to_string()),
        Some(("recipe", name)) if !name.is_empty() => TargetRef::Recipe(name.to_string()),
        _ => {
            return Err(format!(
                "target `{target}` must be ingredient:<SKU> or recipe:<name>"
            ))
        }
    };
    if tillbridge::money::parse_decimal(quantity)
        .map(|q| q <= rust_decimal::Decimal::ZERO)
        .unwrap_or(true)
    {
        return Err(format!(
            "quantity `{quantity}` must be a decimal greater than zero"
        ));
    }
    let is_subtraction = match subtraction.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => true,
        "false" | "no" | "0" | "" => false,
        other => return Err(format!("is_subtraction `{other}` must be true or false")),
    };
    Ok(Row {
        line,
        item,
        target,
        quantity: quantity.to_string(),
        is_subtraction,
    })
}

/// Resolves every row against the company's items, ingredients and recipes, then writes
/// the mappings. Returns (rows, items mapped).
pub async fn apply(api: &AdminClient, company: &str, text: &str) -> Result<(usize, usize), Error> {
    let rows = parse(text).map_err(|problems| problems.join("\n"))?;
    let base = format!("/v1/companies/{company}");
    let (items, _) = api.list_all(&format!("{base}/items"), 100).await?;
    let (ingredients, _) = api.list_all(&format!("{base}/ingredients"), 100).await?;
    let (recipes, _) = api.list_all(&format!("{base}/recipes"), 100).await?;
    let by = |list: &[Value], field: &str| -> HashMap<String, String> {
        list.iter()
            .filter_map(|v| {
                Some((
                    v[field].as_str()?.to_string(),
                    v["id"].as_str()?.to_string(),
                ))
            })
            .collect()
    };
    let ingredient_ids = by(&ingredients, "sku");
    let recipe_ids = by(&recipes, "name");
    let mut problems = Vec::new();
    let mut writes = Vec::new();
    for row in &rows {
        let matching: Vec<&Value> = items
            .iter()
            .filter(|i| match &row.item {
                ItemRef::Name(name) => i["name"].as_str() == Some(name),
                ItemRef::Sku(sku) => i["sku"].as_str() == Some(sku),
            })
            .collect();
        if matching.is_empty() {
            problems.push(format!(
                "row {}: no synced item matches {:?}",
                row.line, row.item
            ));
        }
        let target = match &row.target {
            TargetRef::Ingredient(sku) => ingredient_ids
                .get(sku)
                .map(|id| json!({"ingredient_id": id})),
            TargetRef::Recipe(name) => recipe_ids.get(name).map(|id| json!({"recipe_id": id})),
        };
        let Some(mut body) = target else {
            problems.push(format!("row {}: {:?} does not exist", row.line, row.target));
            continue;
        };
        body["quantity"] = json!(row.quantity);
        body["is_subtraction"] = json!(row.is_subtraction);
        for item in matching {
            let path = format!(
                "{base}/items/{}/{}/mapping",
                item["product"].as_str().unwrap_or("k_series"),
                item["item_id"].as_str().unwrap_or_default()
            );
            writes.push((path, body.clone()));
        }
    }
    if !problems.is_empty() {
        return Err(format!("the mapping file was not applied:\n{}", problems.join("\n")).into());
    }
    for (path, body) in &writes {
        let (status, reply) = api
            .request(
                reqwest::Method::PUT,
                path,
                Some(("application/json", body.to_string().into_bytes())),
                &[],
            )
            .await?;
        if status != 200 {
            return Err(format!("PUT {path}: {status} {reply}").into());
        }
    }
    Ok((rows.len(), writes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_comments_and_quotes() {
        let text = "# comment\nitem,target,quantity,is_subtraction\nBurger,recipe:Classic Burger,1,false\n\"Fish, chips\",ingredient:ING-FISH,0.2,true\nsku:SF-001,ingredient:ING-COLA,1,\n";
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].item, ItemRef::Name("Fish, chips".into()));
        assert!(rows[1].is_subtraction);
        assert_eq!(rows[2].item, ItemRef::Sku("SF-001".into()));
        assert_eq!(rows[0].target, TargetRef::Recipe("Classic Burger".into()));
    }

    #[test]
    fn quoted_fields_may_span_lines_and_rows_keep_their_own_line_numbers() {
        let text = "item,target,quantity,is_subtraction\n\"Pie\nof the day\",recipe:Pie,1,false\nCola,ingredient:ING-COLA,x,false\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("row 4:"), "{problems:?}");
        let rows = parse("\"Pie\nof the day\",recipe:Pie,1,false\n").unwrap();
        assert_eq!(rows[0].item, ItemRef::Name("Pie\nof the day".into()));
    }

    #[test]
    fn every_bad_row_is_named_by_its_line() {
        let text = "item,target,quantity,is_subtraction\nBurger,soup:x,1,false\nCola,ingredient:ING-COLA,-1,false\nTea,ingredient:ING-TEA,1,maybe\nonly,three,cols\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 4);
        for (problem, line) in problems.iter().zip([2, 3, 4, 5]) {
            assert!(problem.starts_with(&format!("row {line}:")), "{problem}");
        }
    }

    #[test]
    fn the_demo_file_parses() {
        let text =
            std::fs::read_to_string(crate::paths::root().join("infra/local/demo/mappings.csv"))
                .unwrap();
        assert!(parse(&text).unwrap().len() >= 5);
    }
}
