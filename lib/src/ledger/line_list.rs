//! A day's line states as a derivation makes them: in the order it met the lines, each key
//! once. A list, because the derivation only appends (inserting into a map was a sixth of
//! its time); its keys one after another in one string, because a `String` per key was a
//! fifth of a 50,000-line day (an allocation each, scattered over the heap). Stored as the
//! same JSON object (key → state) a map would be, and turned into [`LineStates`] once, by
//! the next run that looks lines up.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::derive::{LineState, LineStates};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct LineList {
    /// Every key, one after another.
    keys: String,
    /// (Where its key ends in `keys`, its state), in order; a key starts where the one
    /// before it ends.
    lines: Vec<(usize, LineState)>,
}

impl LineList {
    /// Room for `lines` lines whose keys take `key_bytes` in all.
    pub fn with_capacity(lines: usize, key_bytes: usize) -> Self {
        Self {
            keys: String::with_capacity(key_bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    pub fn push(&mut self, key: &str, state: LineState) {
        self.keys.push_str(key);
        self.lines.push((self.keys.len(), state));
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// (Key, state) in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &LineState)> + '_ {
        let mut start = 0;
        self.lines.iter().map(move |(end, state)| {
            let key = self.keys.get(start..*end).unwrap_or_default();
            start = *end;
            (key, state)
        })
    }

    /// Keeps the lines `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &LineState) -> bool) {
        let old = std::mem::take(self);
        self.keys.reserve(old.keys.len());
        self.lines.reserve(old.lines.len());
        let mut start = 0;
        for (end, state) in old.lines {
            let key = old.keys.get(start..end).unwrap_or_default();
            start = end;
            if keep(key, &state) {
                self.push(key, state);
            }
        }
    }

    /// `other`'s lines after these.
    pub fn append(&mut self, other: LineList) {
        let offset = self.keys.len();
        self.keys.push_str(&other.keys);
        self.lines.extend(
            other
                .lines
                .into_iter()
                .map(|(end, state)| (end + offset, state)),
        );
    }

    pub fn into_states(self) -> LineStates {
        self.to_states()
    }

    pub fn to_states(&self) -> LineStates {
        self.iter()
            .map(|(key, state)| (key.to_string(), state.clone()))
            .collect()
    }

    /// One line's state, found by walking the list: for a few lookups.
    pub fn get(&self, key: &str) -> Option<&LineState> {
        self.iter().find(|(k, _)| *k == key).map(|(_, state)| state)
    }

    /// One line's state to change, found by walking the list.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut LineState> {
        let mut start = 0;
        let keys = &self.keys;
        self.lines.iter_mut().find_map(|(end, state)| {
            let found = keys.get(start..*end) == Some(key);
            start = *end;
            found.then_some(state)
        })
    }

    /// Key → state, borrowed: for looking up many lines once.
    pub fn index(&self) -> FxHashMap<&str, &LineState> {
        self.iter().collect()
    }

    /// Whether `states` holds exactly these lines (in any order).
    pub fn same_as(&self, states: &LineStates) -> bool {
        self.len() == states.len()
            && self
                .iter()
                .all(|(key, state)| states.get(key) == Some(state))
    }
}

impl<K: AsRef<str>> FromIterator<(K, LineState)> for LineList {
    fn from_iter<I: IntoIterator<Item = (K, LineState)>>(lines: I) -> Self {
        let mut list = LineList::default();
        for (key, state) in lines {
            list.push(key.as_ref(), state);
        }
        list
    }
}

impl fmt::Debug for LineList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for LineList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for LineList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = LineList;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of line key → line state")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LineList, A::Error> {
                // The hint comes from the input: bounded, the list grows past it if need be.
                let hint = map.size_hint().unwrap_or(0).min(4096);
                let mut list = LineList::with_capacity(hint, hint * 16);
                // Each key is appended where it is read: no `String` per key.
                while map.next_key_seed(KeyInto(&mut list.keys))?.is_some() {
                    let state = map.next_value()?;
                    list.lines.push((list.keys.len(), state));
                }
                Ok(list)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// Reads a key onto the end of the list's keys.
struct KeyInto<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for KeyInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a line key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<(), E> {
        self.0.push_str(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(entry: &str) -> LineState {
        LineState {
            contributions: Default::default(),
            entries: [entry.to_string()].into(),
        }
    }

    fn keys(list: &LineList) -> Vec<&str> {
        list.iter().map(|(key, _)| key).collect()
    }

    #[test]
    fn keys_come_back_in_order_with_their_states() {
        let list: LineList = [("a/1", state("x")), ("b/22", state("y")), ("", state("z"))]
            .into_iter()
            .collect();
        assert_eq!(list.len(), 3);
        assert_eq!(keys(&list), ["a/1", "b/22", ""]);
        assert_eq!(list.get("b/22"), Some(&state("y")));
        assert_eq!(list.get(""), Some(&state("z")));
        assert_eq!(list.get("b/2"), None, "a prefix is not a key");
        assert_eq!(list.index().get("a/1"), Some(&&state("x")));
        assert_eq!(
            format!("{list:?}"),
            r#"{"a/1": LineState { contributions: [], entries: ["x"] }, "b/22": LineState { contributions: [], entries: ["y"] }, "": LineState { contributions: [], entries: ["z"] }}"#
        );
    }

    #[test]
    fn retain_append_and_get_mut_keep_keys_and_states_together() {
        let mut list: LineList = [
            ("a/1", state("x")),
            ("b/22", state("y")),
            ("c/3", state("z")),
        ]
        .into_iter()
        .collect();
        list.retain(|key, _| key != "b/22");
        assert_eq!(keys(&list), ["a/1", "c/3"]);
        let more: LineList = [("dé/4", state("w"))].into_iter().collect();
        list.append(more);
        assert_eq!(keys(&list), ["a/1", "c/3", "dé/4"]);
        assert_eq!(list.get("dé/4"), Some(&state("w")));
        if let Some(found) = list.get_mut("c/3") {
            *found = state("changed");
        }
        assert_eq!(list.get("c/3"), Some(&state("changed")));
        assert_eq!(list.get_mut("nothing"), None);
        // Equal content, however it was built, is equal.
        let built: LineList = [
            ("a/1", state("x")),
            ("c/3", state("changed")),
            ("dé/4", state("w")),
        ]
        .into_iter()
        .collect();
        assert_eq!(list, built);
        assert!(list.same_as(&built.to_states()));
        assert!(!list.same_as(&LineStates::default()));
    }

    #[test]
    fn stored_as_an_object_and_read_back_with_escaped_keys() {
        let list: LineList = [("a\"q/1", state("x")), ("b\\/2", state("y"))]
            .into_iter()
            .collect();
        let text = serde_json::to_string(&list).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            serde_json::json!({
                "a\"q/1": {"contributions": [], "entries": ["x"]},
                "b\\/2": {"contributions": [], "entries": ["y"]},
            })
        );
        let back: LineList = serde_json::from_str(&text).unwrap();
        assert_eq!(back, list);
        assert!(serde_json::from_str::<LineList>(r#"{"a": 1}"#).is_err());
        assert!(serde_json::from_str::<LineList>(
            r#"{"a": {"contributions": [], "entries": []}, 3: {}}"#
        )
        .is_err());
    }
}
