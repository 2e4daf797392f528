//! Audit events (`audit.k8s.io/v1` `Event`), the fields the RBAC report needs.
//!
//! Input is kube-apiserver's log backend format (one JSON `Event` per line) or an
//! `EventList` (what the webhook backend posts), as JSON or YAML. Lines that are not
//! JSON are skipped and reported, since a log being written can end in half a line.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{kind_of, null_default, parse_objects};
use crate::ReportError;

/// The authenticated user of a request (`user` / `impersonatedUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserInfo {
    /// `username`.
    #[serde(deserialize_with = "null_default")]
    pub username: String,
    /// `groups`.
    #[serde(deserialize_with = "null_default")]
    pub groups: Vec<String>,
}

/// `objectRef`: what a resource request addressed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectReference {
    /// Resource (plural), e.g. `pods`.
    #[serde(deserialize_with = "null_default")]
    pub resource: String,
    /// Namespace; empty for cluster-scoped or all-namespace requests.
    #[serde(deserialize_with = "null_default")]
    pub namespace: String,
    /// Object name; empty for list, watch, create without a name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// API group; empty for the core group.
    #[serde(deserialize_with = "null_default")]
    pub api_group: String,
    /// Subresource, e.g. `exec`.
    #[serde(deserialize_with = "null_default")]
    pub subresource: String,
}

/// `responseStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseStatus {
    /// HTTP status code; 0 when absent.
    #[serde(deserialize_with = "null_default")]
    pub code: u16,
}

/// An audit `Event`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuditEvent {
    /// `auditID`, shared by the events of one request at different stages.
    #[serde(rename = "auditID", deserialize_with = "null_default")]
    pub audit_id: String,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    #[serde(deserialize_with = "null_default")]
    pub stage: String,
    /// The Kubernetes verb (`get`, `list`, `create`, ...) or, for non-resource
    /// requests, the lowercased HTTP method.
    #[serde(deserialize_with = "null_default")]
    pub verb: String,
    /// The authenticated user.
    pub user: UserInfo,
    /// The impersonated user, if the request impersonated one.
    pub impersonated_user: Option<UserInfo>,
    /// The object addressed; absent for non-resource requests.
    pub object_ref: Option<ObjectReference>,
    /// The request URI with its query.
    #[serde(rename = "requestURI", deserialize_with = "null_default")]
    pub request_uri: String,
    /// The response status, when the stage has one.
    pub response_status: Option<ResponseStatus>,
    /// Annotations, including `authorization.k8s.io/decision` and `.../reason`.
    #[serde(deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
    /// When this stage happened (RFC 3339).
    #[serde(deserialize_with = "null_default")]
    pub stage_timestamp: String,
    /// When the request was received (RFC 3339).
    #[serde(deserialize_with = "null_default")]
    pub request_received_timestamp: String,
}

/// The authorizer's decision for an event, as far as the event tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Authorized.
    Allow,
    /// Denied by authorization (403).
    Deny,
    /// Not decided by authorization (e.g. 401, or no response status yet).
    Unknown,
}

impl AuditEvent {
    /// The authorization decision. The `authorization.k8s.io/decision` annotation wins;
    /// without it, a response code below 400 means allowed and 403 means denied.
    pub fn decision(&self) -> Decision {
        match self
            .annotations
            .get("authorization.k8s.io/decision")
            .map(String::as_str)
        {
            Some("allow") => return Decision::Allow,
            Some("forbid") => return Decision::Deny,
            _ => {}
        }
        match self.response_status.as_ref().map(|status| status.code) {
            Some(code) if (100..400).contains(&code) => Decision::Allow,
            Some(403) => Decision::Deny,
            _ => Decision::Unknown,
        }
    }

    /// The time of the event: `stageTimestamp`, else `requestReceivedTimestamp`.
    pub fn timestamp(&self) -> &str {
        if self.stage_timestamp.is_empty() {
            &self.request_received_timestamp
        } else {
            &self.stage_timestamp
        }
    }

    /// Preference when several stages of one request are present: the stage with the
    /// final response wins.
    pub fn stage_rank(&self) -> u8 {
        match self.stage.as_str() {
            "ResponseComplete" => 4,
            "Panic" => 3,
            "ResponseStarted" => 2,
            "RequestReceived" => 1,
            _ => 0,
        }
    }
}

/// Audit events read from a set of inputs.
#[derive(Debug, Clone, Default)]
pub struct AuditEvents {
    /// The events, in input order, before deduplication.
    pub events: Vec<AuditEvent>,
    /// Lines or objects skipped, by description.
    pub skipped: Vec<String>,
}

impl AuditEvents {
    /// Reads the events of one file: JSON lines, or a JSON/YAML `EventList` or `Event`.
    /// Malformed lines and objects of other kinds are noted in `skipped`.
    ///
    /// # Errors
    ///
    /// [`ReportError::Parse`] when a non-line-oriented file does not parse at all.
    pub fn extend(&mut self, path: &str, content: &str) -> Result<(), ReportError> {
        let objects = match parse_objects(path, content) {
            Ok(objects) => objects,
            // Not one document: JSON lines, read line by line so one bad line (a log
            // being written ends in half a line) does not lose the rest.
            Err(_) if looks_like_json_lines(content) => self.lenient_lines(path, content),
            Err(error) => return Err(error),
        };
        for object in objects {
            self.push_object(path, object);
        }
        Ok(())
    }

    fn lenient_lines(&mut self, path: &str, content: &str) -> Vec<Value> {
        let mut objects = Vec::new();
        for (index, line) in content.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(value) => objects.push(value),
                Err(error) => self
                    .skipped
                    .push(format!("{path}:{}: not JSON: {error}", index + 1)),
            }
        }
        objects
    }

    fn push_object(&mut self, path: &str, object: Value) {
        let kind = kind_of(&object);
        if !(kind == "Event" || kind.is_empty()) {
            self.skipped
                .push(format!("{path}: object of kind {kind:?} ignored"));
            return;
        }
        match AuditEvent::deserialize(&object) {
            Ok(event) if !event.verb.is_empty() => self.events.push(event),
            Ok(_) => self
                .skipped
                .push(format!("{path}: event without a verb ignored")),
            Err(error) => self
                .skipped
                .push(format!("{path}: unreadable event: {error}")),
        }
    }
}

fn looks_like_json_lines(content: &str) -> bool {
    content.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> AuditEvent {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn decision_prefers_the_annotation() {
        let allowed_404 = event(
            r#"{"verb":"get","responseStatus":{"code":404},
                "annotations":{"authorization.k8s.io/decision":"allow"}}"#,
        );
        assert_eq!(allowed_404.decision(), Decision::Allow);
        assert_eq!(
            event(r#"{"verb":"get","responseStatus":{"code":403}}"#).decision(),
            Decision::Deny
        );
        assert_eq!(
            event(r#"{"verb":"get","responseStatus":{"code":101}}"#).decision(),
            Decision::Allow
        );
        assert_eq!(
            event(r#"{"verb":"get","responseStatus":{"code":401}}"#).decision(),
            Decision::Unknown
        );
        assert_eq!(event(r#"{"verb":"get"}"#).decision(), Decision::Unknown);
    }

    #[test]
    fn skips_a_truncated_last_line() {
        let mut events = AuditEvents::default();
        events
            .extend(
                "audit.log",
                "{\"kind\":\"Event\",\"verb\":\"get\"}\n{\"kind\":\"Ev",
            )
            .unwrap();
        assert_eq!(events.events.len(), 1);
        assert_eq!(events.skipped.len(), 1);
        assert!(events.skipped[0].starts_with("audit.log:2:"));
    }
}
