//! Trace context in a JSON object body, read without building a JSON tree.
//!
//! The body is walked with a serde visitor: keys are classified as they stream by and
//! only the values of `trace_id`/`traceId`/`trace.id`/`span_id`/`spanId`/`span.id`/
//! `traceparent` are looked at (as strings). Objects nested one level deep (e.g.
//! `{"ctx": {"trace_id": ...}}`) are searched too; deeper ones are skipped. Nothing is
//! allocated unless a string contains escapes.

use super::extract::{Candidates, Found, KeyKind, classify};
use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The trace context in `text` when it is a JSON object holding one.
pub(crate) fn find(text: &str) -> Option<Found> {
    let mut candidates = Candidates::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // A malformed body is not an error: whatever was read before the problem counts,
    // and the caller falls back to a text scan.
    let _ = deserializer.deserialize_any(ObjectVisitor {
        candidates: &mut candidates,
        depth: 0,
    });
    candidates.resolve()
}

/// Visits an object, offering id keys; any other value is skipped.
struct ObjectVisitor<'c> {
    candidates: &'c mut Candidates,
    depth: usize,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth > 1 {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while let Some(key) = map.next_key::<Key>()? {
            match key.0 {
                Some(kind) => map.next_value_seed(IdValue {
                    candidates: self.candidates,
                    kind,
                })?,
                None => map.next_value_seed(ObjectVisitor {
                    candidates: self.candidates,
                    depth: self.depth + 1,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ObjectVisitor<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A key, classified without keeping it.
struct Key(Option<KeyKind>);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(Key(classify(key)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The value of an id key: a string is offered, anything else skipped.
struct IdValue<'c> {
    candidates: &'c mut Candidates,
    kind: KeyKind,
}

impl<'de> DeserializeSeed<'de> for IdValue<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IdValue<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        self.candidates.offer(self.kind, value, None);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}
