//! Kubernetes audit traffic for the `anomaly` bench: identities (kubelets, controller
//! service accounts, people), the calls they make every day, and the log records the
//! `k8s_audit` receiver makes of them (same attributes, body, severity and resource).

mod pod;

use pod::pod;

use harrier_pdata::Batch;
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;

/// Records per envelope.
pub const RECORDS: usize = 100;
/// Identities in the timed traffic.
const IDENTITIES: usize = 200;
/// Distinct template batches cycled through (every one is learned first).
const TEMPLATES: usize = 40;
/// 2023-11-14T22:13:20Z: when the baselines start learning.
pub const T0: u64 = 1_700_000_000 * 1_000_000_000;
/// One millisecond in nanoseconds.
pub const MS: u64 = 1_000_000;
/// One day in nanoseconds.
pub const DAY: u64 = 24 * 3600 * 1000 * MS;
/// Index of `k8s.audit.id` in every record's attributes (rewritten per iteration).
pub const ID_INDEX: usize = 1;
/// Where the novel call sits in a `novel_and_denied` batch.
pub const NOVEL_AT: usize = 33;
/// Where the denial sits in a `novel_and_denied` batch.
const DENIED_AT: usize = 66;

// ---- OTLP values ------------------------------------------------------------------

/// A string value.
fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

/// An integer value.
fn int(v: i64) -> AnyValue {
    AnyValue {
        value: Some(Value::IntValue(v)),
    }
}

/// A boolean value.
fn boolean(v: bool) -> AnyValue {
    AnyValue {
        value: Some(Value::BoolValue(v)),
    }
}

/// An array value.
fn array(values: Vec<AnyValue>) -> AnyValue {
    AnyValue {
        value: Some(Value::ArrayValue(ArrayValue { values })),
    }
}

/// An array of strings.
fn strings(values: &[&str]) -> AnyValue {
    array(values.iter().map(|v| s(v)).collect())
}

/// A JSON object as the receiver converts it: a kvlist.
fn object(entries: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: entries.into_iter().map(|(k, v)| kv(k, v)).collect(),
        })),
    }
}

/// An attribute with any value.
fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

/// A small deterministic generator (xorshift64*), so every run sends the same traffic.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

// ---- identities and their calls ---------------------------------------------------

/// The namespaces identities work in.
const NAMESPACES: &[&str] = &[
    "shop",
    "payments",
    "search",
    "identity",
    "ci",
    "monitoring",
    "logging",
    "ingress-nginx",
    "cert-manager",
    "argocd",
];

/// Who makes a request, as the audit event's `user` and client fields show it.
pub struct Identity {
    pub name: String,
    pub groups: Vec<String>,
    pub address: String,
    pub agent: String,
    /// The namespace it works in (a node's pods, a controller's own namespace).
    pub namespace: String,
    pub kind: Kind,
}

/// What sort of client an identity is.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    /// A kubelet (`system:node:<name>`).
    Node,
    /// A controller's or operator's service account.
    Controller,
    /// A person with `kubectl`.
    Person,
}

/// One API request: `verb` on `group/resource[/subresource]` `namespace/name`.
pub struct Call {
    pub verb: &'static str,
    pub group: Option<&'static str>,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// A call without a subresource.
pub fn call(
    verb: &'static str,
    group: Option<&'static str>,
    resource: &'static str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Call {
    Call {
        verb,
        group,
        resource,
        subresource: None,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
    }
}

/// Identity `i` of a cluster's population: 50 kubelets, 120 controllers, 30 people
/// for 200 (the proportions hold for other sizes).
fn identity(i: usize) -> Identity {
    let namespace = NAMESPACES[i % NAMESPACES.len()].to_string();
    match i % 20 {
        0..=4 => {
            let node = format!("ip-10-0-{}-{}.eu-west-1.compute.internal", i / 250, i % 250);
            Identity {
                name: format!("system:node:{node}"),
                groups: vec!["system:nodes".into(), "system:authenticated".into()],
                address: format!("10.0.{}.{}", i / 250, i % 250),
                agent: "kubelet/v1.30.2 (linux/amd64) kubernetes/39683505".into(),
                namespace,
                kind: Kind::Node,
            }
        }
        5..=16 => Identity {
            name: format!("system:serviceaccount:{namespace}:controller-{i}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
            address: format!("10.42.{}.{}", i / 200, 10 + i % 200),
            agent: format!("manager-{}/v0.19.1 (linux/amd64) kubernetes/$Format", i % 7),
            namespace,
            kind: Kind::Controller,
        },
        _ => Identity {
            name: format!("person{i}@example.com"),
            groups: vec!["platform-team".into(), "system:authenticated".into()],
            address: format!("192.168.{}.{}", i / 200, 20 + i % 200),
            agent: "kubectl/v1.30.2 (linux/amd64) kubernetes/39683505".into(),
            namespace,
            kind: Kind::Person,
        },
    }
}

/// The calls an identity makes day in, day out (what its baselines hold).
fn routine(who: &Identity) -> Vec<Call> {
    let ns = Some(who.namespace.as_str());
    let coordination = Some("coordination.k8s.io");
    match who.kind {
        Kind::Node => {
            let node = who.name.trim_start_matches("system:node:").to_string();
            let lease_ns = Some("kube-node-lease");
            let mut status = call("patch", None, "nodes", None, Some(&node));
            status.subresource = Some("status");
            vec![
                call("get", coordination, "leases", lease_ns, Some(&node)),
                call("update", coordination, "leases", lease_ns, Some(&node)),
                status,
                call("get", None, "nodes", None, Some(&node)),
                call("watch", None, "pods", None, None),
                call("get", None, "configmaps", ns, Some("kube-root-ca.crt")),
                call("get", None, "secrets", ns, Some("app-credentials")),
                call("create", None, "events", ns, None),
            ]
        }
        Kind::Controller => {
            let lease = format!("{}-leader", who.name.rsplit(':').next().unwrap_or("c"));
            vec![
                call("get", coordination, "leases", ns, Some(&lease)),
                call("update", coordination, "leases", ns, Some(&lease)),
                call("list", None, "configmaps", ns, None),
                call("watch", None, "configmaps", ns, None),
                call("list", None, "pods", ns, None),
                call("watch", None, "pods", ns, None),
                call("create", None, "events", ns, None),
                call("patch", Some("apps"), "deployments", ns, Some("web")),
                call(
                    "watch",
                    Some("discovery.k8s.io"),
                    "endpointslices",
                    ns,
                    None,
                ),
            ]
        }
        Kind::Person => {
            let mut logs = call("get", None, "pods", ns, Some("web-5d9c7b8f4-x2x8k"));
            logs.subresource = Some("log");
            vec![
                call("list", None, "pods", ns, None),
                call("get", None, "pods", ns, Some("web-5d9c7b8f4-x2x8k")),
                logs,
                call("get", Some("apps"), "deployments", ns, Some("web")),
                call("list", None, "events", ns, None),
                call("get", None, "namespaces", None, ns),
                call("list", None, "nodes", None, None),
            ]
        }
    }
}

/// The request URI kube-apiserver records for `c`.
fn url_path(c: &Call) -> String {
    let mut path = match c.group {
        None => "/api/v1".to_string(),
        Some(group) => format!("/apis/{group}/v1"),
    };
    if let Some(ns) = &c.namespace {
        path.push_str(&format!("/namespaces/{ns}"));
    }
    path.push('/');
    path.push_str(c.resource);
    if let Some(name) = &c.name {
        path.push('/');
        path.push_str(name);
    }
    if let Some(sub) = c.subresource {
        path.push('/');
        path.push_str(sub);
    }
    match c.verb {
        "watch" => path.push_str("?allowWatchBookmarks=true&resourceVersion=48213377&watch=true"),
        "list" => path.push_str("?limit=500"),
        _ => {}
    }
    path
}

/// The attributes the `k8s_audit` receiver writes for `who` making `c`, answered
/// `status` (`k8s.audit.id` is at [`ID_INDEX`]).
pub fn audit_attributes(who: &Identity, c: &Call, status: i64, id: u64) -> Vec<KeyValue> {
    let denied = status == 403;
    let groups: Vec<&str> = who.groups.iter().map(String::as_str).collect();
    let mut attrs = vec![
        string_kv("event.domain", "k8s.audit"),
        string_kv("k8s.audit.id", audit_id(id)),
        string_kv("k8s.audit.stage", "ResponseComplete"),
        string_kv("k8s.audit.level", "Metadata"),
        string_kv("k8s.audit.verb", c.verb),
        string_kv("user.name", who.name.as_str()),
        kv("k8s.audit.user.groups", strings(&groups)),
        string_kv("source.address", who.address.as_str()),
        kv("k8s.audit.source_ips", strings(&[&who.address])),
        string_kv("user_agent.original", who.agent.as_str()),
    ];
    if let Some(ns) = &c.namespace {
        attrs.push(string_kv("k8s.namespace.name", ns.as_str()));
    }
    attrs.push(string_kv("k8s.audit.resource", c.resource));
    if let Some(sub) = c.subresource {
        attrs.push(string_kv("k8s.audit.subresource", sub));
    }
    if let Some(group) = c.group {
        attrs.push(string_kv("k8s.audit.api_group", group));
    }
    attrs.push(string_kv("k8s.audit.api_version", "v1"));
    if let Some(name) = &c.name {
        attrs.push(string_kv("k8s.audit.object_name", name.as_str()));
    }
    attrs.push(string_kv("url.path", url_path(c)));
    attrs.push(int_kv("http.response.status_code", status));
    if denied {
        attrs.push(string_kv("k8s.audit.response.reason", "Forbidden"));
        attrs.push(string_kv("k8s.audit.decision", "forbid"));
    } else {
        attrs.push(string_kv("k8s.audit.decision", "allow"));
        attrs.push(string_kv(
            "k8s.audit.reason",
            format!(
                "RBAC: allowed by ClusterRoleBinding \"{}\" of ClusterRole \"{}\" to Group \"{}\"",
                groups[0], groups[0], groups[0]
            ),
        ));
    }
    attrs
}

/// A `k8s.audit.id` in kube-apiserver's UUID form, distinct for every `n`.
pub fn audit_id(n: u64) -> String {
    let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        0x8000 | ((n >> 48) & 0x3fff),
        n & 0xffff_ffff_ffff
    )
}

/// The receiver's log record: one-line body, INFO (WARN for a denial).
pub fn audit_record(attrs: Vec<KeyValue>, who: &Identity, c: &Call, status: i64) -> LogRecord {
    let mut what = c.resource.to_string();
    if let Some(sub) = c.subresource {
        what = format!("{what}/{sub}");
    }
    let target = match (&c.namespace, &c.name) {
        (Some(ns), Some(name)) => format!(" {ns}/{name}"),
        (Some(ns), None) => format!(" {ns}"),
        (None, Some(name)) => format!(" {name}"),
        (None, None) => String::new(),
    };
    let (severity_number, severity_text) = if status == 403 {
        (13, "WARN")
    } else {
        (9, "INFO")
    };
    LogRecord {
        time_unix_nano: T0,
        observed_time_unix_nano: T0,
        severity_number,
        severity_text: severity_text.into(),
        body: Some(s(&format!(
            "{} {} {what}{target} -> {status}",
            who.name, c.verb
        ))),
        attributes: attrs,
        ..Default::default()
    }
}

/// One envelope's worth of records as the receiver groups them.
pub fn logs(records: Vec<LogRecord>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![
                string_kv("service.name", "kube-apiserver"),
                string_kv("k8s.cluster.name", "prod-eu-1"),
            ],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: "harrier/receiver/k8s_audit".into(),
                ..Default::default()
            }),
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// Every log record of `batch`.
pub fn records_mut(batch: &mut Batch) -> impl Iterator<Item = &mut LogRecord> {
    let resource_logs = match batch {
        Batch::Logs(resource_logs) => resource_logs.as_mut_slice(),
        _ => &mut [],
    };
    resource_logs
        .iter_mut()
        .flat_map(|r| &mut r.scope_logs)
        .flat_map(|s| &mut s.log_records)
}

/// Replaces the value of `attr` with the string `value`.
pub fn set_string(attr: &mut KeyValue, value: String) {
    attr.value = Some(s(&value));
}

// ---- the three kinds of traffic -------------------------------------------------

/// Template batches of routine calls by [`IDENTITIES`] identities; with `unusual`, one
/// novel call (at [`NOVEL_AT`]) and one denial (at [`DENIED_AT`]) per batch.
pub fn routine_batches(unusual: bool) -> Vec<Batch> {
    let identities: Vec<Identity> = (0..IDENTITIES).map(identity).collect();
    let calls: Vec<Vec<Call>> = identities.iter().map(routine).collect();
    let controllers: Vec<&Identity> = identities
        .iter()
        .filter(|i| i.kind == Kind::Controller)
        .collect();
    let mut rng = Rng(0x5eed);
    let mut n = 0;
    (0..TEMPLATES)
        .map(|_| {
            let records = (0..RECORDS)
                .map(|at| {
                    n += 1;
                    let who = rng.below(IDENTITIES);
                    let (who, c, status) = match at {
                        NOVEL_AT if unusual => {
                            let c = call("get", None, "secrets", Some("novel"), Some("db-root"));
                            (&identities[who], c, 200)
                        }
                        DENIED_AT if unusual => {
                            let who = controllers[n % controllers.len()];
                            let resource = ["secrets", "clusterroles", "nodes"][n % 3];
                            (who, call("list", None, resource, None, None), 403)
                        }
                        _ => {
                            let mine = &calls[who];
                            let c = &mine[rng.below(mine.len())];
                            let c = Call {
                                namespace: c.namespace.clone(),
                                name: c.name.clone(),
                                ..*c
                            };
                            let status = if c.verb == "create" { 201 } else { 200 };
                            (&identities[who], c, status)
                        }
                    };
                    audit_record(audit_attributes(who, &c, status, 0), who, &c, status)
                })
                .collect();
            logs(records)
        })
        .collect()
}

/// Images the `ci` runners and teams deploy (their namespaces' baselines hold them).
const IMAGES: &[&str] = &[
    "ghcr.io/acme/checkout:1.42.0",
    "ghcr.io/acme/payments-api:3.7.1",
    "ghcr.io/acme/search-indexer:2.0.9",
    "registry.gitlab.com/acme/ci/runner-helper:v17.5.1",
    "docker.io/library/postgres:16.4-alpine",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "public.ecr.aws/docker/library/redis:7.4",
    "ghcr.io/acme/identity:5.1.3",
];

/// Template batches of `create pods` by controllers and people (not the workload
/// controllers the pod rules exempt), each pod in its creator's namespace; records 37
/// and 77 break a rule.
pub fn pod_create_batches() -> Vec<Batch> {
    let creators: Vec<Identity> = (0..IDENTITIES)
        .map(identity)
        .filter(|i| i.kind != Kind::Node)
        .collect();
    let mut rng = Rng(0xc0ffee);
    (0..TEMPLATES / 4)
        .map(|_| {
            let records = (0..RECORDS)
                .map(|at| {
                    let who = &creators[rng.below(creators.len())];
                    let ns = who.namespace.as_str();
                    let name = format!("job-{:05x}", rng.below(1 << 20));
                    let image = IMAGES[rng.below(IMAGES.len())];
                    let violation = match at {
                        37 => 1,
                        77 => 2,
                        _ => 0,
                    };
                    let c = call("create", None, "pods", Some(ns), Some(&name));
                    let mut attrs = audit_attributes(who, &c, 201, 0);
                    attrs[3] = string_kv("k8s.audit.level", "Request");
                    attrs.push(kv(
                        "k8s.audit.request_object",
                        pod(ns, &name, image, "default", violation),
                    ));
                    audit_record(attrs, who, &c, 201)
                })
                .collect();
            logs(records)
        })
        .collect()
}
