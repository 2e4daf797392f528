//! The object a `create`, `update` or `patch` request writes.
//!
//! That is the request object (what the user asked for), or the response object when
//! the request object is missing on a create or update. A merge or strategic-merge
//! patch is looked at as it is (only the fields it sets); a JSON patch (an array of
//! operations) is turned into the partial object its `add` / `replace` operations
//! write ([`from_json_patch`]).

use crate::audit::{self, AuditView};
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use std::borrow::Cow;

/// The object the event writes (see the module docs): `None` when the event carries
/// none (audit level `Metadata`, or `include_objects = false`).
pub(crate) fn changed_object<'a>(event: &AuditView<'a>) -> Option<Cow<'a, AnyValue>> {
    let is_kvlist = |v: &&AnyValue| !audit::kv_entries(v).is_empty();
    match event.verb()? {
        "patch" => {
            let request = event.request_object()?;
            if is_kvlist(&request) {
                Some(Cow::Borrowed(request))
            } else {
                let ops = audit::as_array(request);
                (!ops.is_empty()).then(|| Cow::Owned(from_json_patch(ops)))
            }
        }
        _ => event
            .request_object()
            .filter(is_kvlist)
            .or_else(|| event.response_object().filter(is_kvlist))
            .map(Cow::Borrowed),
    }
}

/// Array positions above this in a JSON patch path are ignored. Only patches the API
/// server accepted are looked at, so positions exist in the real object; the limit
/// bounds the padding allocated all the same.
const MAX_PATCH_INDEX: usize = 256;

/// Operations of a JSON patch looked at; later ones are ignored.
const MAX_PATCH_OPS: usize = 1024;

/// The partial object a JSON patch (RFC 6902) writes: for each `add` or `replace`
/// operation, its `value` placed at its `path`. Numeric segments (and `-`) become array
/// positions, padded with empty values; other segments become kvlist keys. `remove`,
/// `move`, `copy` and `test` write nothing new and are skipped. At most
/// `MAX_PATCH_OPS` operations and array positions up to `MAX_PATCH_INDEX` are used.
pub(crate) fn from_json_patch(ops: &[AnyValue]) -> AnyValue {
    let mut root = kvlist(Vec::new());
    for op in ops.iter().take(MAX_PATCH_OPS) {
        let field = |key: &str| audit::path(op, &[key]);
        let is_write = matches!(field("op").and_then(audit::as_str), Some("add" | "replace"));
        let (Some(pointer), Some(value)) = (field("path").and_then(audit::as_str), field("value"))
        else {
            continue;
        };
        if !is_write {
            continue;
        }
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        insert(&mut root, &segments, value.clone());
    }
    root
}

fn kvlist(values: Vec<KeyValue>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList { values })),
    }
}

fn insert(node: &mut AnyValue, segments: &[String], value: AnyValue) {
    let Some((first, rest)) = segments.split_first() else {
        *node = value;
        return;
    };
    let index = if first == "-" {
        Some(None)
    } else {
        first.parse::<usize>().ok().map(Some)
    };
    match index {
        Some(position) => {
            if !matches!(node.value, Some(any_value::Value::ArrayValue(_))) {
                node.value = Some(any_value::Value::ArrayValue(ArrayValue::default()));
            }
            let Some(any_value::Value::ArrayValue(array)) = node.value.as_mut() else {
                return;
            };
            let at = match position {
                None => array.values.len(),
                Some(i) if i <= MAX_PATCH_INDEX => i,
                Some(_) => return,
            };
            while array.values.len() <= at {
                array.values.push(AnyValue::default());
            }
            if let Some(slot) = array.values.get_mut(at) {
                insert(slot, rest, value);
            }
        }
        None => {
            if !matches!(node.value, Some(any_value::Value::KvlistValue(_))) {
                *node = kvlist(Vec::new());
            }
            let Some(any_value::Value::KvlistValue(list)) = node.value.as_mut() else {
                return;
            };
            let position = match list.values.iter().position(|kv| kv.key == *first) {
                Some(p) => p,
                None => {
                    list.values.push(KeyValue {
                        key: first.clone(),
                        value: Some(AnyValue::default()),
                        ..Default::default()
                    });
                    list.values.len() - 1
                }
            };
            if let Some(entry) = list.values.get_mut(position) {
                insert(
                    entry.value.get_or_insert_with(AnyValue::default),
                    rest,
                    value,
                );
            }
        }
    }
}
