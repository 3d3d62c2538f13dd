//! Matching a sales line to a mapping (pure): by Lightspeed item id when the wire gives
//! one, else by SKU (for X-Series the configured custom code), else by exact name — the
//! baseline product's only method. A SKU or name shared by two mapped items is ambiguous
//! and never guessed.

use compact_str::CompactString;
use rustc_hash::FxHashMap;

/// What a sales line tells us about the item sold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineItemRef {
    pub item_id: Option<CompactString>,
    pub sku: Option<CompactString>,
    pub name: CompactString,
}

/// A mapped item's identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedItem<T> {
    pub item_id: String,
    /// SKU, or for X-Series the ERP-owned custom code when configured.
    pub code: Option<String>,
    pub name: String,
    pub mapping: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    ItemId,
    Code,
    Name,
}

enum Slot {
    One(usize),
    Ambiguous,
}

pub struct MappingIndex<T> {
    items: Vec<MappedItem<T>>,
    by_id: FxHashMap<String, usize>,
    by_code: FxHashMap<String, Slot>,
    by_name: FxHashMap<String, Slot>,
}

fn normalise(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

fn insert(map: &mut FxHashMap<String, Slot>, key: &str, index: usize) {
    map.entry(key.to_string())
        .and_modify(|slot| *slot = Slot::Ambiguous)
        .or_insert(Slot::One(index));
}

impl<T> MappingIndex<T> {
    pub fn new(items: Vec<MappedItem<T>>) -> Self {
        let mut by_id = FxHashMap::default();
        let mut by_code = FxHashMap::default();
        let mut by_name = FxHashMap::default();
        for (index, item) in items.iter().enumerate() {
            by_id.insert(item.item_id.clone(), index);
            if let Some(code) = item.code.as_deref().and_then(normalise) {
                insert(&mut by_code, code, index);
            }
            if let Some(name) = normalise(&item.name) {
                insert(&mut by_name, name, index);
            }
        }
        Self {
            items,
            by_id,
            by_code,
            by_name,
        }
    }

    /// The mapping for a line, and how it was found.
    pub fn find(&self, line: &LineItemRef) -> Option<(&MappedItem<T>, MatchedBy)> {
        let (index, by) = self.find_index(line)?;
        Some((self.items.get(index)?, by))
    }

    /// Like [`Self::find`], but the position of the mapped item (see [`Self::get`]), so a
    /// caller can keep what it works out per item in a plain vector.
    pub fn find_index(&self, line: &LineItemRef) -> Option<(usize, MatchedBy)> {
        if let Some(index) = line.item_id.as_deref().and_then(|id| self.by_id.get(id)) {
            return Some((*index, MatchedBy::ItemId));
        }
        let unique =
            |map: &FxHashMap<String, Slot>, key: Option<&str>| match key.and_then(|k| map.get(k)) {
                Some(Slot::One(index)) => Some(*index),
                _ => None,
            };
        if let Some(index) = unique(&self.by_code, line.sku.as_deref().and_then(normalise)) {
            return Some((index, MatchedBy::Code));
        }
        unique(&self.by_name, normalise(&line.name)).map(|index| (index, MatchedBy::Name))
    }

    /// The mapped item at `index` (from [`Self::find_index`]).
    pub fn get(&self, index: usize) -> Option<&MappedItem<T>> {
        self.items.get(index)
    }

    /// How many mapped items the index holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, code: Option<&str>, name: &str) -> MappedItem<&'static str> {
        MappedItem {
            item_id: id.into(),
            code: code.map(str::to_string),
            name: name.into(),
            mapping: "m",
        }
    }

    fn line(id: Option<&str>, sku: Option<&str>, name: &str) -> LineItemRef {
        LineItemRef {
            item_id: id.map(Into::into),
            sku: sku.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn id_beats_sku_beats_name() {
        let index = MappingIndex::new(vec![
            item("1", Some("BURG"), "Burger"),
            item("2", Some("FRY"), "Fries"),
        ]);
        let by = |l: LineItemRef| index.find(&l).map(|(m, by)| (m.item_id.clone(), by));
        assert_eq!(
            by(line(Some("2"), Some("BURG"), "Burger")),
            Some(("2".into(), MatchedBy::ItemId))
        );
        assert_eq!(
            by(line(Some("99"), Some("BURG"), "Fries")),
            Some(("1".into(), MatchedBy::Code))
        );
        assert_eq!(
            by(line(None, None, " Fries ")),
            Some(("2".into(), MatchedBy::Name))
        );
        assert_eq!(by(line(None, None, "fries")), None, "names match exactly");
        assert_eq!(by(line(None, Some(""), "Salad")), None);
    }

    #[test]
    fn shared_codes_or_names_are_never_guessed() {
        let index = MappingIndex::new(vec![
            item("1", Some("DUP"), "Cola"),
            item("2", Some("DUP"), "Cola"),
        ]);
        assert!(index.find(&line(None, Some("DUP"), "Cola")).is_none());
        assert_eq!(
            index
                .find(&line(Some("2"), Some("DUP"), "Cola"))
                .map(|(m, _)| m.item_id.as_str()),
            Some("2")
        );
    }
}
