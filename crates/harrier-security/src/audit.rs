//! A zero-copy view over the attributes of one Kubernetes audit log record.
//!
//! The `k8s_audit` receiver writes each audit event as a log record whose attributes are
//! listed in `docs/components/k8s_audit.md` (`k8s.audit.verb`, `user.name`,
//! `k8s.audit.request_object`, ...). [`AuditView`] finds those attributes in one pass
//! and hands out borrowed values, so rules can inspect an event without copying it.
//! The free functions ([`path`], [`as_str`], [`as_array`], ...) navigate the request and
//! response objects, which the receiver converted from JSON to OTLP `AnyValue`s
//! (objects are kvlists, arrays are arrays).

use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};

/// `event.domain` of audit records.
pub const DOMAIN: &str = "k8s.audit";

/// Borrowed access to the audit attributes of one log record.
#[derive(Debug, Clone, Copy)]
pub struct AuditView<'a> {
    attributes: &'a [KeyValue],
    audit_id: Option<&'a AnyValue>,
    stage: Option<&'a AnyValue>,
    verb: Option<&'a AnyValue>,
    user: Option<&'a AnyValue>,
    groups: Option<&'a AnyValue>,
    impersonated_user: Option<&'a AnyValue>,
    source_address: Option<&'a AnyValue>,
    user_agent: Option<&'a AnyValue>,
    namespace: Option<&'a AnyValue>,
    resource: Option<&'a AnyValue>,
    subresource: Option<&'a AnyValue>,
    api_group: Option<&'a AnyValue>,
    object_name: Option<&'a AnyValue>,
    status_code: Option<&'a AnyValue>,
    decision: Option<&'a AnyValue>,
    request_object: Option<&'a AnyValue>,
    response_object: Option<&'a AnyValue>,
}

impl<'a> AuditView<'a> {
    /// A view over `attributes`, or `None` unless `event.domain` is `k8s.audit`.
    pub fn new(attributes: &'a [KeyValue]) -> Option<AuditView<'a>> {
        let mut view = AuditView {
            attributes,
            audit_id: None,
            stage: None,
            verb: None,
            user: None,
            groups: None,
            impersonated_user: None,
            source_address: None,
            user_agent: None,
            namespace: None,
            resource: None,
            subresource: None,
            api_group: None,
            object_name: None,
            status_code: None,
            decision: None,
            request_object: None,
            response_object: None,
        };
        let mut is_audit = false;
        for kv in attributes {
            let Some(value) = kv.value.as_ref() else {
                continue;
            };
            let slot = match kv.key.as_str() {
                "event.domain" => {
                    is_audit = as_str(value) == Some(DOMAIN);
                    continue;
                }
                "k8s.audit.id" => &mut view.audit_id,
                "k8s.audit.stage" => &mut view.stage,
                "k8s.audit.verb" => &mut view.verb,
                "user.name" => &mut view.user,
                "k8s.audit.user.groups" => &mut view.groups,
                "k8s.audit.impersonated_user" => &mut view.impersonated_user,
                "source.address" => &mut view.source_address,
                "user_agent.original" => &mut view.user_agent,
                "k8s.namespace.name" => &mut view.namespace,
                "k8s.audit.resource" => &mut view.resource,
                "k8s.audit.subresource" => &mut view.subresource,
                "k8s.audit.api_group" => &mut view.api_group,
                "k8s.audit.object_name" => &mut view.object_name,
                "http.response.status_code" => &mut view.status_code,
                "k8s.audit.decision" => &mut view.decision,
                "k8s.audit.request_object" => &mut view.request_object,
                "k8s.audit.response_object" => &mut view.response_object,
                _ => continue,
            };
            // The first occurrence wins, as in `attr`.
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        is_audit.then_some(view)
    }

    /// `k8s.audit.id`: the request's audit ID (shared by its stages).
    pub fn audit_id(&self) -> Option<&'a str> {
        non_empty(self.audit_id)
    }

    /// `k8s.audit.stage`: `RequestReceived`, `ResponseStarted`, `ResponseComplete` or
    /// `Panic`.
    pub fn stage(&self) -> Option<&'a str> {
        non_empty(self.stage)
    }

    /// `k8s.audit.verb`: the API verb (`get`, `list`, `create`, `patch`, ...).
    pub fn verb(&self) -> Option<&'a str> {
        non_empty(self.verb)
    }

    /// `user.name`: the authenticated user (absent when authentication failed).
    pub fn user(&self) -> Option<&'a str> {
        non_empty(self.user)
    }

    /// `k8s.audit.user.groups`: the authenticated user's groups (empty if unknown).
    pub fn groups(&self) -> Vec<&'a str> {
        self.groups
            .map(|v| as_array(v).iter().filter_map(as_str).collect())
            .unwrap_or_default()
    }

    /// `k8s.audit.impersonated_user`: the user the request acted as, when the
    /// authenticated user impersonated someone.
    pub fn impersonated_user(&self) -> Option<&'a str> {
        non_empty(self.impersonated_user)
    }

    /// `source.address`: the client's address (first of `sourceIPs`).
    pub fn source_address(&self) -> Option<&'a str> {
        non_empty(self.source_address)
    }

    /// `user_agent.original`: the client's user agent.
    pub fn user_agent(&self) -> Option<&'a str> {
        non_empty(self.user_agent)
    }

    /// `k8s.namespace.name`: the target object's namespace (absent for cluster-scoped
    /// objects and non-resource requests).
    pub fn namespace(&self) -> Option<&'a str> {
        non_empty(self.namespace)
    }

    /// `k8s.audit.resource`: the target resource (`pods`, `clusterroles`, ...).
    pub fn resource(&self) -> Option<&'a str> {
        non_empty(self.resource)
    }

    /// `k8s.audit.subresource`: the target subresource (`exec`, `token`, `status`, ...).
    pub fn subresource(&self) -> Option<&'a str> {
        non_empty(self.subresource)
    }

    /// `k8s.audit.api_group`: the target's API group; `None` for the core group.
    pub fn api_group(&self) -> Option<&'a str> {
        non_empty(self.api_group)
    }

    /// `k8s.audit.object_name`: the target object's name (often absent on `create`).
    pub fn object_name(&self) -> Option<&'a str> {
        non_empty(self.object_name)
    }

    /// `http.response.status_code`: the response code (absent before the response).
    pub fn status_code(&self) -> Option<i64> {
        self.status_code.and_then(as_i64)
    }

    /// `k8s.audit.decision`: the authorizer's decision, `allow` or `forbid`.
    pub fn decision(&self) -> Option<&'a str> {
        non_empty(self.decision)
    }

    /// `k8s.audit.request_object`: the request body (a kvlist, or an array for a JSON
    /// patch), when the audit level and the receiver include it.
    pub fn request_object(&self) -> Option<&'a AnyValue> {
        self.request_object
    }

    /// `k8s.audit.response_object`: the response body, when included.
    pub fn response_object(&self) -> Option<&'a AnyValue> {
        self.response_object
    }

    /// Whether the request was refused: a 401 or 403 answer, or an authorizer
    /// decision of `forbid`.
    pub fn is_denied(&self) -> bool {
        matches!(self.status_code(), Some(401 | 403)) || self.decision() == Some("forbid")
    }

    /// Whether the request went through: an answer below 400 (101 for an upgraded
    /// exec stream counts), or, before any answer, an authorizer decision of `allow`.
    pub fn is_allowed(&self) -> bool {
        if self.is_denied() {
            return false;
        }
        match self.status_code() {
            Some(code) => code < 400,
            None => self.decision() == Some("allow"),
        }
    }

    /// Any attribute by key (the first one with that key).
    pub fn attr(&self, key: &str) -> Option<&'a AnyValue> {
        self.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
    }
}

fn non_empty(value: Option<&AnyValue>) -> Option<&str> {
    value.and_then(as_str).filter(|s| !s.is_empty())
}

/// Follows `keys` from `value`: a key selects a kvlist entry, a decimal number an array
/// element. `None` as soon as a step does not exist. An empty `keys` returns `value`.
///
/// `path(obj, &["spec", "containers", "0", "name"])`
pub fn path<'v>(value: &'v AnyValue, keys: &[&str]) -> Option<&'v AnyValue> {
    let mut current = value;
    for key in keys {
        current = match current.value.as_ref()? {
            Value::KvlistValue(list) => list
                .values
                .iter()
                .find(|kv| kv.key == *key)
                .and_then(|kv| kv.value.as_ref())?,
            Value::ArrayValue(array) => array.values.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The string, if `v` is one.
pub fn as_str(v: &AnyValue) -> Option<&str> {
    match v.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// The boolean, if `v` is one.
pub fn as_bool(v: &AnyValue) -> Option<bool> {
    match v.value.as_ref()? {
        Value::BoolValue(b) => Some(*b),
        _ => None,
    }
}

/// The integer, if `v` is one (a double with an integral value within `i64` counts).
pub fn as_i64(v: &AnyValue) -> Option<i64> {
    match v.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        // The bounds are exactly representable; `as` cannot truncate inside them.
        Value::DoubleValue(d) if d.fract() == 0.0 && *d >= -9.2e18 && *d <= 9.2e18 => {
            Some(*d as i64)
        }
        _ => None,
    }
}

/// The elements, if `v` is an array; empty otherwise.
pub fn as_array(v: &AnyValue) -> &[AnyValue] {
    match v.value.as_ref() {
        Some(Value::ArrayValue(array)) => &array.values,
        _ => &[],
    }
}

/// The entries, if `v` is a kvlist; empty otherwise.
pub fn kv_entries(v: &AnyValue) -> &[KeyValue] {
    match v.value.as_ref() {
        Some(Value::KvlistValue(list)) => &list.values,
        _ => &[],
    }
}
