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

/// Splits one CSV line; fields may be double-quoted (with `""` for a quote).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field).trim().to_string()),
            (c, _) => field.push(c),
        }
    }
    out.push(field.trim().to_string());
    out
}

/// Parses the whole file; `Err` lists every bad row.
pub fn parse(text: &str) -> Result<Vec<Row>, Vec<String>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut header_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let cols = fields(trimmed);
        if !header_seen {
            header_seen = true;
            if cols.first().map(String::as_str) == Some("item") {
                continue;
            }
        }
        if cols.len() != 4 {
            problems.push(format!(
                "row {line}: expected 4 columns (item,target,quantity,is_subtraction), found {}",
                cols.len()
            ));
            continue;
        }
        let item = match cols[0].strip_prefix("sku:") {
            Some(sku) if !sku.is_empty() => ItemRef::Sku(sku.to_string()),
            _ if !cols[0].is_empty() => ItemRef::Name(cols[0].clone()),
            _ => {
                problems.push(format!("row {line}: the item is empty"));
                continue;
            }
        };
        let target = match cols[1].split_once(':') {
            Some(("ingredient", sku)) if !sku.is_empty() => TargetRef::Ingredient(sku.to_string()),
            Some(("recipe", name)) if !name.is_empty() => TargetRef::Recipe(name.to_string()),
            _ => {
                problems.push(format!(
                    "row {line}: target `{}` must be ingredient:<SKU> or recipe:<name>",
                    cols[1]
                ));
                continue;
            }
        };
        if tillbridge::money::parse_decimal(&cols[2])
            .map(|q| q <= rust_decimal::Decimal::ZERO)
            .unwrap_or(true)
        {
            problems.push(format!(
                "row {line}: quantity `{}` must be a decimal greater than zero",
                cols[2]
            ));
            continue;
        }
        let is_subtraction = match cols[3].to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" | "" => false,
            other => {
                problems.push(format!(
                    "row {line}: is_subtraction `{other}` must be true or false"
                ));
                continue;
            }
        };
        rows.push(Row {
            line,
            item,
            target,
            quantity: cols[2].clone(),
            is_subtraction,
        });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
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
