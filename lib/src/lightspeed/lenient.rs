//! Typed reading of Lightspeed's JSON as forgiving as indexing a `serde_json::Value`: a
//! field of an unexpected shape reads as absent instead of failing the whole page. Pages
//! are read straight into these types, without building a `Value` tree first (a K-Series
//! page of 100 sales is over a megabyte of JSON, most of it fields nobody reads, which
//! serde skips without allocating).

use std::fmt;
use std::marker::PhantomData;

use compact_str::CompactString;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A scalar field: what `Value` indexing would give, without keeping objects and arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar {
    /// Absent or `null`.
    #[default]
    Null,
    /// Inline when short, as most ids, codes and names are: no allocation per field.
    Text(CompactString),
    Number(serde_json::Number),
    Bool(bool),
    /// An object or an array (its content skipped).
    Nested(&'static str),
}

impl Scalar {
    /// A string trimmed, or a number as its text; blank and other shapes are `None` (as
    /// [`super::json::text`]).
    pub fn text(&self) -> Option<String> {
        self.compact_text().map(CompactString::into_string)
    }

    /// [`Self::text`] as a [`CompactString`]: no allocation for the short ids, codes and
    /// names sales lines are made of.
    pub fn compact_text(&self) -> Option<CompactString> {
        match self {
            Scalar::Text(s) if !s.trim().is_empty() => Some(s.trim().into()),
            Scalar::Number(n) => Some(compact_str::format_compact!("{n}")),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// How the value is described in an error message.
    pub fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Text(s) => format!("{s:?}"),
            Scalar::Number(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Nested(shape) => (*shape).into(),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Number))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Nested("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Nested("an object"))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// An object field read as `T`; any other shape reads as `T::default()` (every field absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// An array field: `Some` of its elements when it is an array, `None` for any other shape.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<T> List<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.as_deref().unwrap_or_default().iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = List<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                // The hint comes from the input: bounded, the list grows past it if need be.
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List(Some(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<List<T>, D::Error> {
                List::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_unit<E>(self) -> Result<List<T>, E> {
                Ok(List(None))
            }
            fn visit_none<E>(self) -> Result<List<T>, E> {
                Ok(List(None))
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// Reads an object as `T`, anything else as `T::default()`.
struct ObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Obj<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Obj::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Obj<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_unit<E>(self) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
    fn visit_none<E>(self) -> Result<Obj<T>, E> {
        Ok(Obj::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default)]
    struct Inner {
        name: Scalar,
        tags: List<Scalar>,
        child: Obj<Child>,
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default)]
    struct Child {
        id: Scalar,
    }

    fn read(json: &str) -> Inner {
        let Obj(inner) = serde_json::from_str::<Obj<Inner>>(json).expect("any JSON reads");
        inner
    }

    #[test]
    fn fields_of_the_expected_shape_are_read() {
        let inner = read(
            r#"{"name": " a ", "tags": ["x", 2], "child": {"id": 7}, "other": [1, {"b": 2}]}"#,
        );
        assert_eq!(inner.name.text().as_deref(), Some("a"));
        assert_eq!(
            inner.tags.iter().map(Scalar::text).collect::<Vec<_>>(),
            [Some("x".to_string()), Some("2".to_string())]
        );
        assert_eq!(inner.child.0.id.text().as_deref(), Some("7"));
    }

    #[test]
    fn other_shapes_read_as_absent_as_value_indexing_gives() {
        let inner = read(r#"{"name": {"x": 1}, "tags": "x", "child": [1, 2]}"#);
        assert_eq!(inner.name, Scalar::Nested("an object"));
        assert_eq!(inner.name.text(), None);
        assert_eq!(inner.tags.0, None);
        assert_eq!(inner.child, Obj::default());
        for not_an_object in ["null", "3", "\"s\"", "[]", "true"] {
            assert_eq!(read(not_an_object), Inner::default(), "{not_an_object}");
        }
    }

    #[test]
    fn a_value_tree_reads_as_its_text_would() {
        let json = r#"{"name": 1.5, "tags": [null, true, "t"], "child": {"id": "  "}}"#;
        let tree: serde_json::Value = serde_json::from_str(json).expect("json");
        let Obj(from_tree) = Obj::<Inner>::deserialize(&tree).expect("reads");
        assert_eq!(from_tree, read(json));
        assert_eq!(from_tree.name.text().as_deref(), Some("1.5"));
        assert_eq!(from_tree.child.0.id.text(), None);
    }

    #[test]
    fn text_of_every_shape() {
        let json = r#"{"tags": [" a ", 12, 1.5, "  ", null, true, [1], {"b": 2},
            " a name longer than twenty-four bytes "]}"#;
        let inner = read(json);
        let expected = [
            Some("a"),
            Some("12"),
            Some("1.5"),
            None,
            None,
            None,
            None,
            None,
            Some("a name longer than twenty-four bytes"),
        ];
        assert_eq!(inner.tags.iter().len(), expected.len());
        for (tag, want) in inner.tags.iter().zip(expected) {
            assert_eq!(tag.compact_text().as_deref(), want, "{tag:?}");
            assert_eq!(tag.text().as_deref(), want, "{tag:?}");
        }
    }
}
