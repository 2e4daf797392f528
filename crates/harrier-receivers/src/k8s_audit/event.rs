//! The part of the Kubernetes audit API (`audit.k8s.io/v1`, also `v1beta1`) this
//! receiver reads: [`Event`], the `EventList` the webhook backend posts, and [`Stage`].
//!
//! Only the fields the mapping uses are declared; everything else is ignored, missing
//! fields take their default, and `null` reads as empty (Go writes `null` for some nil
//! slices and maps). [`parse_payload`] reads a webhook body (an `EventList`, or a single
//! `Event`); [`parse_line`] reads one line of the log backend's file. Both check `kind`
//! and `apiVersion`, so a payload that is valid JSON but not audit data is refused.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// The audit API versions accepted in `apiVersion`.
pub const API_VERSIONS: [&str; 2] = ["audit.k8s.io/v1", "audit.k8s.io/v1beta1"];

/// Why a payload or line is not audit data.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or a field has the wrong type.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `kind` is missing or not `Event` / `EventList`.
    #[error("kind {0:?} is not an audit Event or EventList")]
    Kind(String),
    /// `apiVersion` is missing or not an audit API version.
    #[error("apiVersion {0:?} is not audit.k8s.io/v1 or audit.k8s.io/v1beta1")]
    ApiVersion(String),
    /// An `EventList` without `items`.
    #[error("EventList has no items")]
    MissingItems,
}

/// A request stage at which kube-apiserver emits an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// As soon as the request is received, before it is handled.
    RequestReceived,
    /// Once the response headers are sent (long-running requests, failed authentication).
    ResponseStarted,
    /// Once the response body is complete.
    ResponseComplete,
    /// When a panic occurred while handling the request.
    Panic,
}

impl Stage {
    /// Parses the API's spelling.
    pub fn parse(name: &str) -> Option<Stage> {
        match name {
            "RequestReceived" => Some(Stage::RequestReceived),
            "ResponseStarted" => Some(Stage::ResponseStarted),
            "ResponseComplete" => Some(Stage::ResponseComplete),
            "Panic" => Some(Stage::Panic),
            _ => None,
        }
    }
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `authentication/v1.UserInfo`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserInfo {
    /// The user's name (`system:anonymous`, `kubernetes-admin`, ...).
    #[serde(deserialize_with = "null_default")]
    pub username: String,
    /// The groups the user is in.
    #[serde(deserialize_with = "null_default")]
    pub groups: Vec<String>,
}

/// `audit.k8s.io/v1.ObjectReference`: what the request was about.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectReference {
    /// Resource (`pods`).
    #[serde(deserialize_with = "null_default")]
    pub resource: String,
    /// Namespace, empty for cluster-scoped resources.
    #[serde(deserialize_with = "null_default")]
    pub namespace: String,
    /// Object name, empty for lists and for creates with `generateName`.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// API group, empty for the core group.
    #[serde(deserialize_with = "null_default")]
    pub api_group: String,
    /// API version (`v1`).
    #[serde(deserialize_with = "null_default")]
    pub api_version: String,
    /// Subresource (`exec`, `status`).
    #[serde(deserialize_with = "null_default")]
    pub subresource: String,
}

/// `meta/v1.Status`, the response's outcome.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResponseStatus {
    /// HTTP status code; 0 when not set.
    #[serde(deserialize_with = "null_default")]
    pub code: i64,
    /// Machine-readable reason (`Forbidden`, `NotFound`).
    #[serde(deserialize_with = "null_default")]
    pub reason: String,
}

/// `audit.k8s.io/v1.Event`: one request at one stage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    /// `Event`.
    #[serde(deserialize_with = "null_default")]
    pub kind: String,
    /// `audit.k8s.io/v1`.
    #[serde(deserialize_with = "null_default")]
    pub api_version: String,
    /// `None`, `Metadata`, `Request` or `RequestResponse`.
    #[serde(deserialize_with = "null_default")]
    pub level: String,
    /// Unique per request; shared by the events of its stages.
    #[serde(rename = "auditID", deserialize_with = "null_default")]
    pub audit_id: String,
    /// The stage this event was emitted at.
    #[serde(deserialize_with = "null_default")]
    pub stage: String,
    /// The request URI as sent by the client.
    #[serde(rename = "requestURI", deserialize_with = "null_default")]
    pub request_uri: String,
    /// The Kubernetes verb (`get`, `list`, `create`, ...), or the lower-cased HTTP method
    /// for non-resource requests.
    #[serde(deserialize_with = "null_default")]
    pub verb: String,
    /// The authenticated user.
    #[serde(deserialize_with = "null_default")]
    pub user: UserInfo,
    /// The user impersonated, if any.
    pub impersonated_user: Option<UserInfo>,
    /// The client and intermediate proxies' addresses, client first.
    #[serde(rename = "sourceIPs", deserialize_with = "null_default")]
    pub source_ips: Vec<String>,
    /// The client's User-Agent.
    #[serde(deserialize_with = "null_default")]
    pub user_agent: String,
    /// What the request was about; absent for non-resource requests.
    pub object_ref: Option<ObjectReference>,
    /// The response's outcome; absent at `RequestReceived`.
    pub response_status: Option<ResponseStatus>,
    /// The request body (levels `Request` and `RequestResponse`).
    pub request_object: Option<serde_json::Value>,
    /// The response body (level `RequestResponse`).
    pub response_object: Option<serde_json::Value>,
    /// When the request reached the API server (RFC 3339, microseconds).
    #[serde(deserialize_with = "null_default")]
    pub request_received_timestamp: String,
    /// When this stage was reached (RFC 3339, microseconds).
    #[serde(deserialize_with = "null_default")]
    pub stage_timestamp: String,
    /// `v1alpha1`/early `v1beta1` timestamp, a last fallback.
    #[serde(deserialize_with = "null_default")]
    pub timestamp: String,
    /// Annotations set by the API server and admission (`authorization.k8s.io/decision`).
    #[serde(deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
}

impl Event {
    /// The first required field (`auditID`, `stage`, `verb`) that is empty, if any.
    pub fn missing_required(&self) -> Option<&'static str> {
        if self.audit_id.is_empty() {
            Some("auditID")
        } else if self.stage.is_empty() {
            Some("stage")
        } else if self.verb.is_empty() {
            Some("verb")
        } else {
            None
        }
    }
}

/// The fields read first, to tell what a payload is without decoding it.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Header {
    #[serde(deserialize_with = "null_default")]
    kind: String,
    #[serde(deserialize_with = "null_default")]
    api_version: String,
    #[serde(deserialize_with = "null_default")]
    items: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct EventList {
    items: Vec<Event>,
}

fn check_version(header: &Header) -> Result<(), PayloadError> {
    if API_VERSIONS.contains(&header.api_version.as_str()) {
        Ok(())
    } else {
        Err(PayloadError::ApiVersion(header.api_version.clone()))
    }
}

/// Reads a webhook body: an `EventList` (what kube-apiserver sends) or one `Event`.
///
/// # Errors
/// A [`PayloadError`] when the body is not JSON, not audit data, or has no `items`.
pub fn parse_payload(body: &[u8]) -> Result<Vec<Event>, PayloadError> {
    let header: Header = serde_json::from_slice(body)?;
    match header.kind.as_str() {
        "EventList" => {
            check_version(&header)?;
            if header.items.is_none() {
                return Err(PayloadError::MissingItems);
            }
            Ok(serde_json::from_slice::<EventList>(body)?.items)
        }
        "Event" => {
            check_version(&header)?;
            Ok(vec![serde_json::from_slice(body)?])
        }
        other => Err(PayloadError::Kind(other.to_string())),
    }
}

/// Reads one line of the audit log backend's file: one `Event`.
///
/// # Errors
/// A [`PayloadError`] when the line is not JSON or not an audit `Event`.
pub fn parse_line(line: &[u8]) -> Result<Event, PayloadError> {
    let event: Event = serde_json::from_slice(line)?;
    if event.kind != "Event" {
        return Err(PayloadError::Kind(event.kind));
    }
    if !API_VERSIONS.contains(&event.api_version.as_str()) {
        return Err(PayloadError::ApiVersion(event.api_version));
    }
    Ok(event)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
