//! Flow records: what `netpol_advise` reads.
//!
//! # Accepted shapes
//!
//! Input is JSON lines, a JSON array, or one JSON document; each record is one of:
//!
//! 1. **A flat object of attributes**, keys as below:
//!    ```json
//!    {"source.address": "10.0.1.5", "source.port": 40112,
//!     "destination.address": "10.0.2.7", "destination.port": 5432,
//!     "network.transport": "tcp",
//!     "source.k8s.namespace.name": "shop", "source.k8s.workload.name": "checkout",
//!     "source.k8s.pod.labels": {"app": "checkout"},
//!     "destination.k8s.namespace.name": "db", "destination.k8s.workload.name": "postgres",
//!     "destination.k8s.pod.labels": {"app": "postgres"}}
//!    ```
//! 2. **An object with an `attributes` field** holding either such a map, or an OTLP/JSON
//!    `KeyValue` array (`[{"key": "source.address", "value": {"stringValue": "..."}}]`;
//!    `intValue` as number or string, labels as `kvlistValue`).
//! 3. **An OTLP/JSON logs export request** (`{"resourceLogs": [...]}`, what Harrier's
//!    file exporter writes): every log record, its resource attributes merged under its
//!    own.
//!
//! A record with `event.domain` other than `network.flow` is skipped silently (so a
//! mixed log file can be given). A record needs `destination.port`, and an address or a
//! namespace on each side; others are skipped and counted. `network.transport` is `tcp`,
//! `udp` or `sctp` in any case, `TCP` when absent; other transports (ICMP) cannot be
//! expressed in a NetworkPolicy and are skipped. The workload name falls back to
//! `*.k8s.pod.name`, then to the address. An endpoint with no
//! `*.k8s.namespace.name` is outside the cluster (or unknown) and is addressed by IP.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ReportError;

/// One side of a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// IP address, when known.
    pub address: String,
    /// Namespace; empty outside the cluster.
    pub namespace: String,
    /// Workload name (or pod name, or address).
    pub workload: String,
    /// Pod labels, when known.
    pub labels: BTreeMap<String, String>,
}

impl Endpoint {
    /// Whether this endpoint is a pod in the cluster.
    pub fn in_cluster(&self) -> bool {
        !self.namespace.is_empty()
    }
}

/// One flow record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The client.
    pub source: Endpoint,
    /// The server.
    pub destination: Endpoint,
    /// Destination port.
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

/// Flows read from inputs.
#[derive(Debug, Clone, Default)]
pub struct FlowRecords {
    /// The flows.
    pub flows: Vec<Flow>,
    /// Records read (flow or not).
    pub records: usize,
    /// Why records were skipped.
    pub skipped: Vec<String>,
}

impl FlowRecords {
    /// Reads one input file.
    ///
    /// # Errors
    ///
    /// [`ReportError::Parse`] when a line is not JSON.
    pub fn extend(&mut self, path: &str, content: &str) -> Result<(), ReportError> {
        let documents: Vec<Value> = match serde_json::from_str::<Value>(content) {
            Ok(Value::Array(items)) => items,
            Ok(value) => vec![value],
            Err(_) => {
                let mut documents = Vec::new();
                for (index, line) in content.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    let value = serde_json::from_str(line).map_err(|error| ReportError::Parse {
                        path: path.to_owned(),
                        line: Some(index + 1),
                        message: error.to_string(),
                    })?;
                    documents.push(value);
                }
                documents
            }
        };
        for document in documents {
            for attributes in records_of(&document) {
                self.records += 1;
                match flow_from_attributes(&attributes) {
                    Ok(Some(flow)) => self.flows.push(flow),
                    Ok(None) => {}
                    Err(reason) => self
                        .skipped
                        .push(format!("{path}: record skipped: {reason}")),
                }
            }
        }
        Ok(())
    }
}

/// The attribute maps of the records in one document.
fn records_of(document: &Value) -> Vec<Map<String, Value>> {
    if let Some(resource_logs) = document.get("resourceLogs").and_then(Value::as_array) {
        let mut out = Vec::new();
        for resource_log in resource_logs {
            let resource = resource_log
                .pointer("/resource/attributes")
                .map(attributes_to_map)
                .unwrap_or_default();
            let scopes = resource_log.get("scopeLogs").and_then(Value::as_array);
            for scope in scopes.into_iter().flatten() {
                let records = scope.get("logRecords").and_then(Value::as_array);
                for record in records.into_iter().flatten() {
                    let mut attributes = resource.clone();
                    if let Some(own) = record.get("attributes") {
                        attributes.extend(attributes_to_map(own));
                    }
                    out.push(attributes);
                }
            }
        }
        return out;
    }
    match document {
        Value::Object(map) => match map.get("attributes") {
            Some(attributes) => vec![attributes_to_map(attributes)],
            None => vec![map.clone()],
        },
        _ => Vec::new(),
    }
}

/// An attribute map from a plain object or an OTLP `KeyValue` array.
fn attributes_to_map(attributes: &Value) -> Map<String, Value> {
    match attributes {
        Value::Object(map) => map.clone(),
        Value::Array(pairs) => pairs
            .iter()
            .filter_map(|pair| {
                let key = pair.get("key")?.as_str()?;
                Some((key.to_owned(), any_value(pair.get("value")?)))
            })
            .collect(),
        _ => Map::new(),
    }
}

/// An OTLP/JSON `AnyValue` as plain JSON.
fn any_value(value: &Value) -> Value {
    let Some(map) = value.as_object() else {
        return value.clone();
    };
    if let Some(text) = map.get("stringValue") {
        return text.clone();
    }
    if let Some(number) = map.get("intValue") {
        return match number {
            Value::String(text) => text.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
            other => other.clone(),
        };
    }
    if let Some(other) = map.get("boolValue").or_else(|| map.get("doubleValue")) {
        return other.clone();
    }
    if let Some(kvlist) = map.get("kvlistValue") {
        return Value::Object(
            kvlist
                .get("values")
                .map(attributes_to_map)
                .unwrap_or_default(),
        );
    }
    Value::Null
}

fn text(attributes: &Map<String, Value>, key: &str) -> String {
    match attributes.get(key) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

fn port(attributes: &Map<String, Value>, key: &str) -> Option<u16> {
    match attributes.get(key)? {
        Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn labels(attributes: &Map<String, Value>, key: &str) -> BTreeMap<String, String> {
    match attributes.get(key) {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn endpoint(attributes: &Map<String, Value>, side: &str) -> Endpoint {
    let address = text(attributes, &format!("{side}.address"));
    let namespace = text(attributes, &format!("{side}.k8s.namespace.name"));
    let mut workload = text(attributes, &format!("{side}.k8s.workload.name"));
    if workload.is_empty() {
        workload = text(attributes, &format!("{side}.k8s.pod.name"));
    }
    if workload.is_empty() {
        workload = address.clone();
    }
    Endpoint {
        address,
        namespace,
        workload,
        labels: labels(attributes, &format!("{side}.k8s.pod.labels")),
    }
}

/// `Ok(None)`: not a flow record (other `event.domain`).
fn flow_from_attributes(attributes: &Map<String, Value>) -> Result<Option<Flow>, String> {
    let domain = text(attributes, "event.domain");
    if !domain.is_empty() && domain != "network.flow" {
        return Ok(None);
    }
    let port = port(attributes, "destination.port").ok_or("no destination.port")?;
    let protocol = match text(attributes, "network.transport")
        .to_ascii_uppercase()
        .as_str()
    {
        "" | "TCP" => "TCP",
        "UDP" => "UDP",
        "SCTP" => "SCTP",
        other => {
            return Err(format!(
                "transport {other:?} cannot be expressed in a NetworkPolicy"
            ));
        }
    };
    let source = endpoint(attributes, "source");
    let destination = endpoint(attributes, "destination");
    if source.workload.is_empty() || destination.workload.is_empty() {
        return Err("an endpoint has neither an address nor a workload".to_owned());
    }
    Ok(Some(Flow {
        source,
        destination,
        port,
        protocol: protocol.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_attributes_otlp_attributes_and_export_requests() {
        let mut flows = FlowRecords::default();
        let flat = r#"{"source.address":"10.0.0.1","destination.address":"10.0.0.2","destination.port":"443","network.transport":"TCP","destination.k8s.namespace.name":"web","destination.k8s.workload.name":"api"}"#;
        let otlp_attributes = r#"{"attributes":[{"key":"source.address","value":{"stringValue":"10.0.0.1"}},{"key":"destination.address","value":{"stringValue":"10.0.0.3"}},{"key":"destination.port","value":{"intValue":"53"}},{"key":"network.transport","value":{"stringValue":"udp"}},{"key":"source.k8s.pod.labels","value":{"kvlistValue":{"values":[{"key":"app","value":{"stringValue":"a"}}]}}}]}"#;
        let export = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"event.domain","value":{"stringValue":"network.flow"}}]},"scopeLogs":[{"logRecords":[{"attributes":[{"key":"source.address","value":{"stringValue":"10.0.0.9"}},{"key":"destination.address","value":{"stringValue":"1.1.1.1"}},{"key":"destination.port","value":{"intValue":443}}]},{"attributes":[{"key":"event.domain","value":{"stringValue":"k8s.audit"}}]}]}]}]}"#;
        flows
            .extend("f", &format!("{flat}\n{otlp_attributes}\n\n{export}\n"))
            .unwrap();
        assert_eq!(flows.records, 4);
        assert_eq!(flows.flows.len(), 3, "{:?}", flows.skipped);
        assert_eq!(flows.flows[0].port, 443);
        assert_eq!(flows.flows[0].destination.workload, "api");
        assert_eq!(flows.flows[1].protocol, "UDP");
        assert_eq!(
            flows.flows[1].source.labels.get("app").map(String::as_str),
            Some("a")
        );
        assert_eq!(flows.flows[2].destination.workload, "1.1.1.1");
        assert!(!flows.flows[2].destination.in_cluster());
    }

    #[test]
    fn skips_records_without_a_port_or_with_icmp() {
        let mut flows = FlowRecords::default();
        flows
            .extend(
                "f",
                "{\"source.address\":\"a\",\"destination.address\":\"b\"}\n{\"source.address\":\"a\",\"destination.address\":\"b\",\"destination.port\":0,\"network.transport\":\"icmp\"}\n",
            )
            .unwrap();
        assert!(flows.flows.is_empty());
        assert_eq!(flows.skipped.len(), 2);
        assert!(flows.extend("bad", "{\"a\":1}\nnot json\n").is_err());
    }
}
