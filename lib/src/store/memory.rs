//! [`ItemStore`] in memory, for unit tests of use cases: a `BTreeMap` ordered by key that
//! honours write conditions, `begins_with` / `between` sort-key conditions, both secondary
//! indexes, page limits with `last_key` continuation, and all-or-nothing transactions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::Value;

use super::{
    attr, Condition, Item, ItemStore, Key, Page, Query, SortKeyCondition, StoreError, Write,
};

type Table = BTreeMap<(String, String), Item>;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<Table>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored item, in key order (for assertions).
    pub fn dump(&self) -> Result<Vec<Item>, StoreError> {
        Ok(self.table()?.values().cloned().collect())
    }

    fn table(&self) -> Result<MutexGuard<'_, Table>, StoreError> {
        self.items
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store poisoned".into()))
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

fn key_of(item: &Item) -> Result<(String, String), StoreError> {
    match (text(item, attr::PK), text(item, attr::SK)) {
        (Some(pk), Some(sk)) => Ok((pk.to_string(), sk.to_string())),
        _ => Err(StoreError::Rejected("item has no string pk / sk".into())),
    }
}

fn holds(current: Option<&Item>, condition: Condition) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(version) => current
            .and_then(|i| i.get(attr::VERSION))
            .and_then(Value::as_u64)
            .is_some_and(|v| v == version),
        Condition::AbsentOrExpiredBefore(now) => match current {
            None => true,
            Some(item) => item
                .get(attr::EXPIRES_AT)
                .and_then(Value::as_i64)
                .is_some_and(|expires| expires < now),
        },
    }
}

fn check(table: &Table, key: &(String, String), condition: Condition) -> Result<(), StoreError> {
    if holds(table.get(key), condition) {
        Ok(())
    } else {
        Err(StoreError::ConditionFailed)
    }
}

fn sort_key_matches(sk: &str, condition: Option<&SortKeyCondition>) -> bool {
    match condition {
        None => true,
        Some(SortKeyCondition::BeginsWith(prefix)) => sk.starts_with(prefix.as_str()),
        Some(SortKeyCondition::Between(low, high)) => low.as_str() <= sk && sk <= high.as_str(),
    }
}

/// The position of an item in a query's order: its index sort key (if any), then its
/// table key, so equal index keys still order deterministically.
type Position = (String, String, String);

fn position(item: &Item, sk_attr: &str) -> Option<Position> {
    Some((
        text(item, sk_attr)?.to_string(),
        text(item, attr::PK)?.to_string(),
        text(item, attr::SK)?.to_string(),
    ))
}

/// The continuation key of a page ending with `item`: the table key, plus the index key
/// when the query ran on an index (as DynamoDB's `LastEvaluatedKey`).
fn last_key(item: &Item, index_attrs: Option<(&str, &str)>) -> Item {
    let mut names = vec![attr::PK, attr::SK];
    if let Some((pk, sk)) = index_attrs {
        names.extend([pk, sk]);
    }
    names
        .into_iter()
        .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

#[async_trait]
impl ItemStore for MemoryStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self
            .table()?
            .get(&(key.pk.clone(), key.sk.clone()))
            .cloned())
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let key = key_of(&item)?;
        let mut table = self.table()?;
        check(&table, &key, condition)?;
        table.insert(key, item);
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let key = (key.pk.clone(), key.sk.clone());
        let mut table = self.table()?;
        check(&table, &key, condition)?;
        table.remove(&key);
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let index_attrs = query.index.map(|i| i.key_attrs());
        let (pk_attr, sk_attr) = index_attrs.unwrap_or((attr::PK, attr::SK));
        let table = self.table()?;
        let mut matching: Vec<(Position, &Item)> = table
            .values()
            .filter(|item| text(item, pk_attr) == Some(query.pk.as_str()))
            .filter_map(|item| {
                let position = position(item, sk_attr)?;
                sort_key_matches(&position.0, query.sk.as_ref()).then_some((position, item))
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        if !query.forward {
            matching.reverse();
        }
        if let Some(start) = &query.start_after {
            let after = position(start, sk_attr)
                .ok_or_else(|| StoreError::Rejected("start key lacks key attributes".into()))?;
            matching.retain(|(p, _)| {
                if query.forward {
                    *p > after
                } else {
                    *p < after
                }
            });
        }
        let limit = query.limit.clamp(1, 1000) as usize;
        let full = matching.len() >= limit;
        let items: Vec<Item> = matching
            .into_iter()
            .take(limit)
            .map(|(_, item)| item.clone())
            .collect();
        // Like DynamoDB, a page that reached its limit says "more may follow".
        let last_key = match items.last() {
            Some(last) if full => Some(last_key(last, index_attrs)),
            _ => None,
        };
        Ok(Page { items, last_key })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > 100 {
            return Err(StoreError::Rejected(format!(
                "a transaction holds 1 to 100 writes, not {}",
                writes.len()
            )));
        }
        let mut table = self.table()?;
        let mut touched = BTreeSet::new();
        for write in &writes {
            let (key, condition) = match write {
                Write::Put(item, condition) => (key_of(item)?, *condition),
                Write::Delete(key, condition) => ((key.pk.clone(), key.sk.clone()), *condition),
            };
            if !touched.insert(key.clone()) {
                return Err(StoreError::Rejected(
                    "a transaction touches one item at most once".into(),
                ));
            }
            check(&table, &key, condition)?;
        }
        for write in writes {
            match write {
                Write::Put(item, _) => {
                    table.insert(key_of(&item)?, item);
                }
                Write::Delete(key, _) => {
                    table.remove(&(key.pk, key.sk));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{query_all, Index};
    use serde_json::json;

    fn item(value: Value) -> Item {
        match value {
            Value::Object(map) => map,
            _ => Item::new(),
        }
    }

    #[tokio::test]
    async fn conditions_guard_writes() {
        let store = MemoryStore::new();
        let key = Key::new("P", "S");
        let v1 = item(json!({"pk": "P", "sk": "S", "version": 1}));
        store.put(v1.clone(), Condition::NotExists).await.unwrap();
        assert!(matches!(
            store.put(v1.clone(), Condition::NotExists).await,
            Err(StoreError::ConditionFailed)
        ));
        let v2 = item(json!({"pk": "P", "sk": "S", "version": 2}));
        assert!(matches!(
            store.put(v2.clone(), Condition::VersionIs(7)).await,
            Err(StoreError::ConditionFailed)
        ));
        store.put(v2, Condition::VersionIs(1)).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().unwrap()["version"], 2);
        assert!(matches!(
            store.delete(&Key::new("P", "X"), Condition::Exists).await,
            Err(StoreError::ConditionFailed)
        ));
        store.delete(&key, Condition::VersionIs(2)).await.unwrap();
        assert!(store.get(&key).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn leases_can_be_taken_over_once_expired() {
        let store = MemoryStore::new();
        let lease = |expires: i64| item(json!({"pk": "L", "sk": "LEASE", "expires_at": expires}));
        let take = Condition::AbsentOrExpiredBefore(100);
        store.put(lease(150), take).await.unwrap();
        assert!(matches!(
            store.put(lease(160), take).await,
            Err(StoreError::ConditionFailed)
        ));
        store
            .put(lease(300), Condition::AbsentOrExpiredBefore(200))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn queries_filter_order_and_page() {
        let store = MemoryStore::new();
        for (sk, g) in [("A#1", "x3"), ("A#2", "x1"), ("A#3", "x2"), ("B#1", "x0")] {
            let row = item(json!({"pk": "P", "sk": sk, "gsi1pk": "G", "gsi1sk": g}));
            store.put(row, Condition::None).await.unwrap();
        }
        store
            .put(item(json!({"pk": "Q", "sk": "A#9"})), Condition::None)
            .await
            .unwrap();
        let sks = |items: &[Item]| -> Vec<String> {
            items
                .iter()
                .map(|i| i["sk"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        let prefixed = Query::partition("P").begins_with("A#").limit(2);
        let first = store.query(&prefixed).await.unwrap();
        assert_eq!(sks(&first.items), ["A#1", "A#2"]);
        let second = store
            .query(&prefixed.clone().start_after(first.last_key))
            .await
            .unwrap();
        assert_eq!(sks(&second.items), ["A#3"]);
        assert!(second.last_key.is_none());
        assert_eq!(query_all(&store, prefixed).await.unwrap().len(), 3);

        let mut between = Query::partition("P");
        between.sk = Some(SortKeyCondition::Between("A#2".into(), "B#1".into()));
        between.forward = false;
        assert_eq!(
            sks(&store.query(&between).await.unwrap().items),
            ["B#1", "A#3", "A#2"]
        );

        let on_index = Query::partition("G").on(Index::Gsi1).limit(3);
        let page = store.query(&on_index).await.unwrap();
        assert_eq!(sks(&page.items), ["B#1", "A#2", "A#3"]);
        let rest = store
            .query(&on_index.clone().start_after(page.last_key))
            .await
            .unwrap();
        assert_eq!(sks(&rest.items), ["A#1"]);
    }

    #[tokio::test]
    async fn transactions_are_all_or_nothing() {
        let store = MemoryStore::new();
        store
            .put(
                item(json!({"pk": "P", "sk": "1", "version": 1})),
                Condition::None,
            )
            .await
            .unwrap();
        let failing = vec![
            Write::Put(item(json!({"pk": "P", "sk": "2"})), Condition::NotExists),
            Write::Delete(Key::new("P", "1"), Condition::VersionIs(9)),
        ];
        assert!(matches!(
            store.transact(failing).await,
            Err(StoreError::ConditionFailed)
        ));
        assert_eq!(store.dump().unwrap().len(), 1);
        let twice = vec![
            Write::Delete(Key::new("P", "1"), Condition::None),
            Write::Delete(Key::new("P", "1"), Condition::None),
        ];
        assert!(matches!(
            store.transact(twice).await,
            Err(StoreError::Rejected(_))
        ));
        let good = vec![
            Write::Put(item(json!({"pk": "P", "sk": "2"})), Condition::NotExists),
            Write::Delete(Key::new("P", "1"), Condition::VersionIs(1)),
        ];
        store.transact(good).await.unwrap();
        let left = store.dump().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["sk"], "2");
    }
}
