//! Odoo search domains (prefix notation with `&`, `|`, `!`, implicit and) evaluated on a
//! record's raw values (many2one as an id or false, x2many as a list of ids).

use crate::error::{OdooError, OdooResult};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Leaf(String, String, Value),
    True,
}

const OPERATORS: &[&str] = &[
    "=",
    "!=",
    "<>",
    "in",
    "not in",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
    ">",
    ">=",
    "<",
    "<=",
];

/// Parses a domain; `fields` are the model's field names (plus `id`).
pub fn parse(model: &str, domain: &Value, fields: &[&str]) -> OdooResult<Node> {
    let items = match domain {
        Value::Array(items) => items.as_slice(),
        Value::Null | Value::Bool(false) => &[],
        other => return Err(OdooError::value(format!("Invalid domain {other}"))),
    };
    let mut pos = 0;
    let mut nodes = Vec::new();
    while pos < items.len() {
        nodes.push(parse_one(model, items, &mut pos, fields)?);
    }
    Ok(nodes
        .into_iter()
        .reduce(|a, b| Node::And(Box::new(a), Box::new(b)))
        .unwrap_or(Node::True))
}

fn parse_one(model: &str, items: &[Value], pos: &mut usize, fields: &[&str]) -> OdooResult<Node> {
    let Some(item) = items.get(*pos) else {
        return Err(OdooError::value(
            "Domain is malformed: an operator lacks its operands",
        ));
    };
    *pos += 1;
    match item {
        Value::String(op) if op == "&" || op == "|" => {
            let a = parse_one(model, items, pos, fields)?;
            let b = parse_one(model, items, pos, fields)?;
            Ok(if op == "&" {
                Node::And(Box::new(a), Box::new(b))
            } else {
                Node::Or(Box::new(a), Box::new(b))
            })
        }
        Value::String(op) if op == "!" => {
            Ok(Node::Not(Box::new(parse_one(model, items, pos, fields)?)))
        }
        Value::Array(leaf) if leaf.len() == 3 => {
            let field = leaf[0].as_str().unwrap_or_default();
            let op = leaf[1].as_str().unwrap_or_default().to_lowercase();
            if leaf[0] == 1 || leaf[0] == 0 {
                // TRUE_LEAF (1, '=', 1) / FALSE_LEAF (0, '=', 1)
                return Ok(if leaf[0] == 1 {
                    Node::True
                } else {
                    Node::Not(Box::new(Node::True))
                });
            }
            if !OPERATORS.contains(&op.as_str()) {
                return Err(OdooError::value(format!(
                    "Invalid leaf {}: unknown operator {op:?}",
                    Value::Array(leaf.clone())
                )));
            }
            if !fields.contains(&field) {
                return Err(OdooError::value(format!(
                    "Invalid field {model}.{field} in leaf {}",
                    Value::Array(leaf.clone())
                )));
            }
            Ok(Node::Leaf(field.to_string(), op, leaf[2].clone()))
        }
        other => Err(OdooError::value(format!("Invalid leaf {other}"))),
    }
}

pub fn matches(node: &Node, record: &Map<String, Value>) -> bool {
    match node {
        Node::True => true,
        Node::And(a, b) => matches(a, record) && matches(b, record),
        Node::Or(a, b) => matches(a, record) || matches(b, record),
        Node::Not(a) => !matches(a, record),
        Node::Leaf(field, op, value) => {
            leaf(record.get(field).unwrap_or(&Value::Bool(false)), op, value)
        }
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Null, Value::Bool(false)) | (Value::Bool(false), Value::Null) => true,
        (Value::String(s), Value::Bool(false)) | (Value::Bool(false), Value::String(s)) => {
            s.is_empty()
        }
        _ => a == b,
    }
}

fn eq(raw: &Value, value: &Value) -> bool {
    match raw {
        Value::Array(ids) => match value {
            Value::Bool(false) | Value::Null => ids.is_empty(),
            v => ids.iter().any(|i| scalar_eq(i, v)),
        },
        r => scalar_eq(r, value),
    }
}

fn in_list(raw: &Value, value: &Value) -> bool {
    let list: Vec<Value> = match value {
        Value::Array(v) => v.clone(),
        other => vec![other.clone()],
    };
    list.iter().any(|v| eq(raw, v))
}

/// SQL LIKE with `%` and `_`.
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&t, &p)
}

fn compare(raw: &Value, value: &Value) -> Option<std::cmp::Ordering> {
    match (raw, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn leaf(raw: &Value, op: &str, value: &Value) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "=" => eq(raw, value),
        "!=" | "<>" => !eq(raw, value),
        "in" => in_list(raw, value),
        "not in" => !in_list(raw, value),
        "like" | "ilike" | "not like" | "not ilike" | "=like" | "=ilike" => {
            let negate = op.starts_with("not");
            let insensitive = op.ends_with("ilike");
            let text = match raw {
                Value::String(s) => s.clone(),
                _ => return negate,
            };
            let v = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return negate,
            };
            let pattern = if op.starts_with('=') {
                v
            } else {
                format!("%{v}%")
            };
            let hit = if insensitive {
                like(&text.to_lowercase(), &pattern.to_lowercase())
            } else {
                like(&text, &pattern)
            };
            hit != negate
        }
        ">" => compare(raw, value) == Some(Greater),
        ">=" => matches!(compare(raw, value), Some(Greater | Equal)),
        "<" => compare(raw, value) == Some(Less),
        "<=" => matches!(compare(raw, value), Some(Less | Equal)),
        _ => false,
    }
}
