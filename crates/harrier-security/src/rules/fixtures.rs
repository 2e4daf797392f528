//! Test fixtures: audit events written as the API server's JSON, mapped to log record
//! attributes the way the `k8s_audit` receiver does (`docs/components/k8s_audit.md`),
//! and a builder for the events the rule tests need.

use super::RuleSet;
use crate::audit::AuditView;
use crate::finding::Finding;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Converts a borrowed JSON value as the receiver does.
pub(crate) fn json_to_any(value: &Value) -> AnyValue {
    harrier_pdata::attrs::json_to_any(value.clone())
}

fn string_array_kv(key: &str, items: &[Value]) -> Option<KeyValue> {
    let values: Vec<AnyValue> = items
        .iter()
        .filter_map(Value::as_str)
        .map(|s| AnyValue {
            value: Some(any_value::Value::StringValue(s.to_string())),
        })
        .collect();
    (!values.is_empty()).then(|| KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
        }),
        ..Default::default()
    })
}

/// The attributes the `k8s_audit` receiver writes for an `audit.k8s.io/v1` `Event`.
/// Absent or empty sources are left out.
pub(crate) fn audit_attributes(event: &Value) -> Vec<KeyValue> {
    let text = |pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut attrs = vec![string_kv("event.domain", "k8s.audit")];
    let mut push = |key: &str, pointer: &str| {
        if let Some(value) = text(pointer) {
            attrs.push(string_kv(key, value));
        }
    };
    push("k8s.audit.id", "/auditID");
    push("k8s.audit.stage", "/stage");
    push("k8s.audit.level", "/level");
    push("k8s.audit.verb", "/verb");
    push("user.name", "/user/username");
    let groups = event.pointer("/user/groups").and_then(Value::as_array);
    if let Some(kv) = groups.and_then(|g| string_array_kv("k8s.audit.user.groups", g)) {
        attrs.push(kv);
    }
    if let Some(imp) = text("/impersonatedUser/username") {
        attrs.push(string_kv("k8s.audit.impersonated_user", imp));
    }
    let ips = event.pointer("/sourceIPs").and_then(Value::as_array);
    if let Some(first) = ips.and_then(|i| i.first()).and_then(Value::as_str) {
        attrs.push(string_kv("source.address", first));
    }
    if let Some(kv) = ips.and_then(|i| string_array_kv("k8s.audit.source_ips", i)) {
        attrs.push(kv);
    }
    for (key, pointer) in [
        ("user_agent.original", "/userAgent"),
        ("k8s.namespace.name", "/objectRef/namespace"),
        ("k8s.audit.resource", "/objectRef/resource"),
        ("k8s.audit.subresource", "/objectRef/subresource"),
        ("k8s.audit.api_group", "/objectRef/apiGroup"),
        ("k8s.audit.api_version", "/objectRef/apiVersion"),
        ("k8s.audit.object_name", "/objectRef/name"),
        ("url.path", "/requestURI"),
    ] {
        if let Some(value) = text(pointer) {
            attrs.push(string_kv(key, value));
        }
    }
    if let Some(code) = event
        .pointer("/responseStatus/code")
        .and_then(Value::as_i64)
        && code != 0
    {
        attrs.push(int_kv("http.response.status_code", code));
    }
    for (key, pointer) in [
        ("k8s.audit.response.reason", "/responseStatus/reason"),
        (
            "k8s.audit.decision",
            "/annotations/authorization.k8s.io~1decision",
        ),
        (
            "k8s.audit.reason",
            "/annotations/authorization.k8s.io~1reason",
        ),
    ] {
        if let Some(value) = text(pointer) {
            attrs.push(string_kv(key, value));
        }
    }
    for (key, pointer) in [
        ("k8s.audit.request_object", "/requestObject"),
        ("k8s.audit.response_object", "/responseObject"),
    ] {
        if let Some(object) = event.pointer(pointer).filter(|o| !o.is_null()) {
            attrs.push(KeyValue {
                key: key.to_string(),
                value: Some(json_to_any(object)),
                ..Default::default()
            });
        }
    }
    attrs
}

/// An audit event under construction: allowed (`200`, or `201` for a create, decision
/// `allow`) at stage `ResponseComplete` unless told otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Ev(pub Value);

impl Ev {
    /// `user` doing `verb` on nothing yet.
    pub fn new(user: &str, verb: &str) -> Ev {
        let code = if verb == "create" { 201 } else { 200 };
        Ev(json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "RequestResponse",
            "auditID": "0b5f1c5e-8a3a-4f55-9c1d-3c2c1f0a9e11",
            "stage": "ResponseComplete",
            "verb": verb,
            "user": {"username": user, "groups": ["system:authenticated"]},
            "sourceIPs": ["10.0.0.7"],
            "userAgent": "kubectl/v1.31.0",
            "responseStatus": {"metadata": {}, "code": code},
            "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC"},
        }))
    }

    fn set(mut self, pointer: &str, value: Value) -> Ev {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = if parent.is_empty() {
            &mut self.0
        } else {
            if self.0.pointer(parent).is_none() {
                let (grand, name) = parent.rsplit_once('/').unwrap();
                let holder = if grand.is_empty() {
                    &mut self.0
                } else {
                    self.0.pointer_mut(grand).unwrap()
                };
                holder[name] = json!({});
            }
            self.0.pointer_mut(parent).unwrap()
        };
        target[key.replace("~1", "/").replace("~0", "~")] = value;
        self
    }

    /// The target: `group` (`""` for core), `resource`, `namespace` (`""` for none),
    /// `name` (`""` for none). Also sets a plausible `requestURI`.
    pub fn on(self, group: &str, resource: &str, namespace: &str, name: &str) -> Ev {
        let mut object_ref = json!({"resource": resource, "apiVersion": "v1"});
        if !group.is_empty() {
            object_ref["apiGroup"] = json!(group);
        }
        if !namespace.is_empty() {
            object_ref["namespace"] = json!(namespace);
        }
        if !name.is_empty() {
            object_ref["name"] = json!(name);
        }
        let base = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let ns = if namespace.is_empty() {
            String::new()
        } else {
            format!("/namespaces/{namespace}")
        };
        let name_part = if name.is_empty() {
            String::new()
        } else {
            format!("/{name}")
        };
        self.set("/objectRef", object_ref).set(
            "/requestURI",
            json!(format!("{base}{ns}/{resource}{name_part}")),
        )
    }

    /// The subresource (appended to the request URI).
    pub fn sub(self, subresource: &str) -> Ev {
        let uri = format!(
            "{}/{subresource}",
            self.0["requestURI"].as_str().unwrap_or("")
        );
        self.set("/objectRef/subresource", json!(subresource))
            .set("/requestURI", json!(uri))
    }

    /// The request URI (with its query).
    pub fn uri(self, uri: &str) -> Ev {
        self.set("/requestURI", json!(uri))
    }

    /// The response code; 401/403 also set the decision to `forbid`.
    pub fn code(self, code: i64) -> Ev {
        let ev = self.set("/responseStatus/code", json!(code));
        if code == 401 || code == 403 {
            ev.decision("forbid")
        } else {
            ev
        }
    }

    /// The authorizer's decision annotation.
    pub fn decision(self, decision: &str) -> Ev {
        self.set(
            "/annotations/authorization.k8s.io~1decision",
            json!(decision),
        )
    }

    /// The stage.
    pub fn stage(self, stage: &str) -> Ev {
        self.set("/stage", json!(stage))
    }

    /// The user's groups.
    pub fn groups(self, groups: &[&str]) -> Ev {
        self.set("/user/groups", json!(groups))
    }

    /// The impersonated user.
    pub fn impersonating(self, user: &str) -> Ev {
        self.set("/impersonatedUser", json!({"username": user}))
    }

    /// The request object.
    pub fn request(self, object: Value) -> Ev {
        self.set("/requestObject", object)
    }

    /// The response object.
    pub fn response(self, object: Value) -> Ev {
        self.set("/responseObject", object)
    }

    /// Removes a top-level field (e.g. `responseStatus`).
    pub fn without(mut self, field: &str) -> Ev {
        if let Some(map) = self.0.as_object_mut() {
            map.remove(field);
        }
        self
    }

    /// The log record attributes.
    pub fn attrs(&self) -> Vec<KeyValue> {
        audit_attributes(&self.0)
    }
}

/// A rule set from a TOML `[detectors]` body.
pub(crate) fn rules_from(toml_text: &str) -> RuleSet {
    RuleSet::from_config(&detectors(toml_text)).unwrap()
}

/// The detector tables of a TOML body.
pub(crate) fn detectors(toml_text: &str) -> BTreeMap<String, toml::Value> {
    let table: toml::Table = toml::from_str(toml_text).unwrap();
    table.into_iter().collect()
}

/// The user most test events come from.
pub(crate) const ALICE: &str = "alice@example.com";

/// Alice's exec into `namespace/web-1` with `query` (answered 101).
pub(crate) fn exec(namespace: &str, verb: &str, query: &str) -> Ev {
    Ev::new(ALICE, verb)
        .on("", "pods", namespace, "web-1")
        .sub("exec")
        .uri(&format!(
            "/api/v1/namespaces/{namespace}/pods/web-1/exec?{query}"
        ))
        .code(101)
}

/// Alice's call to the kubelet of `worker-1` at `kubelet_path`.
pub(crate) fn node_proxy(verb: &str, kubelet_path: &str) -> Ev {
    Ev::new(ALICE, verb)
        .on("", "nodes", "", "worker-1")
        .sub("proxy")
        .uri(&format!("/api/v1/nodes/worker-1/proxy{kubelet_path}"))
}

/// An unauthenticated request.
pub(crate) fn anonymous(verb: &str) -> Ev {
    Ev::new("system:anonymous", verb).groups(&["system:unauthenticated"])
}

/// A CI service account deploying workloads.
pub(crate) const DEPLOYER: &str = "system:serviceaccount:ci:deployer";

/// A Pod `shop/x` with `spec`.
pub(crate) fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "shop"}, "spec": spec})
}

/// A container `app` with `security_context`.
pub(crate) fn app(security_context: Value) -> Value {
    json!({"name": "app", "image": "registry.example.com/shop/app:1.4.2", "securityContext": security_context})
}

/// The deployer creating pod `shop/x` with `spec`.
pub(crate) fn create_pod(spec: Value) -> Ev {
    Ev::new(DEPLOYER, "create")
        .on("", "pods", "shop", "")
        .request(pod(spec))
}

/// The deployer creating a pod mounting host `path`.
pub(crate) fn host_path_pod(path: &str) -> Ev {
    create_pod(json!({
        "containers": [{"name": "app", "image": "busybox:1.36", "volumeMounts": [{"name": "host", "mountPath": "/host"}]}],
        "volumes": [{"name": "host", "hostPath": {"path": path}}],
    }))
}

/// The findings of the default rules.
pub(crate) fn run(ev: &Ev) -> Vec<Finding> {
    run_with(&RuleSet::default(), ev)
}

/// The findings of `rules`.
pub(crate) fn run_with(rules: &RuleSet, ev: &Ev) -> Vec<Finding> {
    let attrs = ev.attrs();
    let view = AuditView::new(&attrs).unwrap();
    let mut out = Vec::new();
    rules.evaluate(&view, &mut out);
    out
}

/// The finding of `kind`, if exactly one rule fired and it is `kind`.
#[track_caller]
pub(crate) fn only(findings: &[Finding], kind: &str) -> Finding {
    let kinds: Vec<&str> = findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![kind], "findings: {findings:#?}");
    findings[0].clone()
}

/// The finding of `kind` among others.
#[track_caller]
pub(crate) fn find(findings: &[Finding], kind: &str) -> Finding {
    findings
        .iter()
        .find(|f| f.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} finding in {findings:#?}"))
}

/// Whether a rule of `kind` fired.
pub(crate) fn fired(findings: &[Finding], kind: &str) -> bool {
    findings.iter().any(|f| f.kind == kind)
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// `spec.request` of a CSR for `common_name` in `organizations`: base64 of a PEM
/// PKCS#10 request (structurally valid; the key and signature are dummies).
pub(crate) fn csr_request(common_name: &str, organizations: &[&str]) -> String {
    let oid_o = der(0x06, &[0x55, 0x04, 0x0a]);
    let oid_cn = der(0x06, &[0x55, 0x04, 0x03]);
    let mut name_parts: Vec<Vec<u8>> = organizations
        .iter()
        .map(|o| der(0x31, &seq(&[oid_o.clone(), der(0x0c, o.as_bytes())])))
        .collect();
    name_parts.push(der(
        0x31,
        &seq(&[oid_cn, der(0x13, common_name.as_bytes())]),
    ));
    let algorithm = seq(&[der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])]);
    let key = seq(&[algorithm.clone(), der(0x03, &[0x00, 0x04, 0x01, 0x02])]);
    let info = seq(&[der(0x02, &[0x00]), seq(&name_parts), key, der(0xa0, &[])]);
    let request = seq(&[info, algorithm, der(0x03, &[0x00, 0x30, 0x00])]);
    let body = STANDARD.encode(request);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        lines.join("\n")
    );
    STANDARD.encode(pem)
}
