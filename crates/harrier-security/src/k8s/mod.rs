//! Kubernetes input types, read leniently from what `kubectl get ... -o yaml|json` and
//! kube-apiserver's audit backends write.
//!
//! [`parse_objects`] turns one input file into a flat list of objects: a single object,
//! a `v1` `List` (or any `*List` kind) with `items`, multi-document YAML, or JSON lines.
//! Typed views over those objects ([`rbac`], [`audit`], [`netpol`]) ignore unknown
//! fields and treat missing or `null` fields as empty, so output from any recent
//! Kubernetes version reads.

pub mod audit;
pub mod netpol;
pub mod rbac;
pub mod selector;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::ReportError;

/// Object metadata: the fields the reports need.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `metadata.name`.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// `metadata.namespace`; empty for cluster-scoped objects.
    #[serde(deserialize_with = "null_default")]
    pub namespace: String,
    /// `metadata.labels`.
    #[serde(deserialize_with = "null_default")]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Deserializes `null` (which kubectl writes for some empty lists) as the default.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Parses one input file into its objects.
///
/// Accepted: one JSON document, JSON lines (one document per line, blank lines
/// skipped), or YAML with one or more documents. Any document whose `kind` ends in
/// `List` and that has an `items` array is replaced by its items (recursively).
/// Documents that are `null` (empty YAML documents) are dropped.
///
/// # Errors
///
/// [`ReportError::Parse`] when the content is neither JSON, JSON lines nor YAML; the
/// error names `path` and, for JSON lines, the line number.
pub fn parse_objects(path: &str, content: &str) -> Result<Vec<Value>, ReportError> {
    let trimmed = content.trim_start();
    let documents = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(content) {
            Ok(value) => vec![value],
            Err(_) => parse_json_lines(path, content)?,
        }
    } else {
        parse_yaml_documents(path, content)?
    };
    let mut objects = Vec::new();
    for document in documents {
        flatten_into(document, &mut objects);
    }
    Ok(objects)
}

fn parse_json_lines(path: &str, content: &str) -> Result<Vec<Value>, ReportError> {
    let mut documents = Vec::new();
    for (index, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value = serde_json::from_str::<Value>(line).map_err(|error| ReportError::Parse {
            path: path.to_owned(),
            line: Some(index + 1),
            message: error.to_string(),
        })?;
        documents.push(value);
    }
    Ok(documents)
}

fn parse_yaml_documents(path: &str, content: &str) -> Result<Vec<Value>, ReportError> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(content) {
        let value = Value::deserialize(document).map_err(|error| ReportError::Parse {
            path: path.to_owned(),
            line: error.location().map(|location| location.line()),
            message: error.to_string(),
        })?;
        documents.push(value);
    }
    Ok(documents)
}

fn flatten_into(document: Value, out: &mut Vec<Value>) {
    match document {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                flatten_into(item, out);
            }
        }
        Value::Object(mut map) => {
            let is_list = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|kind| kind.ends_with("List"));
            if is_list && let Some(Value::Array(items)) = map.remove("items") {
                for item in items {
                    flatten_into(item, out);
                }
            } else {
                out.push(Value::Object(map));
            }
        }
        other => out.push(other),
    }
}

/// The `kind` of an object, or `""`.
pub(crate) fn kind_of(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_list_multi_document_yaml_and_json_lines() {
        let list =
            r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"Role"},{"kind":"RoleBinding"}]}"#;
        assert_eq!(parse_objects("a.json", list).unwrap().len(), 2);

        let yaml = "kind: Role\n---\n---\nkind: List\nitems:\n- kind: ClusterRole\n- kind: ClusterRoleBinding\n";
        let objects = parse_objects("a.yaml", yaml).unwrap();
        let kinds: Vec<&str> = objects.iter().map(kind_of).collect();
        assert_eq!(kinds, ["Role", "ClusterRole", "ClusterRoleBinding"]);

        let lines = "{\"kind\":\"Event\"}\n\n{\"kind\":\"Event\"}\n";
        assert_eq!(parse_objects("a.log", lines).unwrap().len(), 2);
    }

    #[test]
    fn names_the_file_and_line_of_a_bad_json_line() {
        let error = parse_objects("audit.log", "{\"kind\":\"Event\"}\n{oops\n").unwrap_err();
        assert!(
            matches!(error, ReportError::Parse { ref path, line: Some(2), .. } if path == "audit.log")
        );
    }
}
