//! A seeded scenario generator for the security evaluation: a small cluster over a
//! simulated week. Benign audit, runtime and flow traffic for several service accounts
//! and users (with deliberately over-broad RBAC for `ci:deployer`), a learning period,
//! then attack sequences modelled on Stratus Red Team's Kubernetes techniques and
//! kube-hunter-style reconnaissance, plus benign novelties (a new image tag, an on-call
//! exec, a new service-to-service connection).
//!
//! Every generated item carries its ground truth: the tags it deserves (`deserved`),
//! tags whose presence is not scored (`dont_care`), and the attack it belongs to.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeSet;

mod attacks;
mod cluster;
mod rbac;
pub mod score;

use cluster::{FLOWS, PROFILES, Profile, SA_GROUPS, USER_GROUPS, WORKLOADS};
pub use rbac::{Grant, rbac_grants, rbac_objects, unused_grants};

/// Start of the simulated week (2026-11-01T00:00:00Z).
pub const T0: i64 = 1_793_491_200;
/// The learning period the evaluation configures for every stateful detector.
pub const LEARNING_HOURS: i64 = 48;
pub(super) const HOUR: i64 = 3600;
pub(super) const DAY: i64 = 24 * HOUR;

/// A PEM CSR (base64, as in `spec.request`) with O=system:masters, CN=system:admin.
pub(super) const SUSPICIOUS_CSR: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIcU1JR1NBZ0VBTURBeEZ6QVZCZ05WQkFvTURuTjVjM1JsYlRwdFlYTjBaWEp6TVJVd0V3WURWUVFEREF4egplWE4wWlcwNllXUnRhVzR3V1RBVEJnY3Foa2pPUFFJQkJnZ3Foa2pPUFFNQkJ3TkNBQVRUbWtoUVpySmJheTVRCmk4SEdaZytKOGVKTHpxcDVsUG4zY2tBLzFQNlJvaHZ6ZDVoVEdMdjJ0OFpJeVZnQ2NlVjA1M1FHamcrNjVnTW4KMU5MTDQ4U0hvQUF3Q2dZSUtvWkl6ajBFQXdJRFJ3QXdSQUlnWEFIdlI2NWhjQlRKRS9CNS9qNFpYTHllaEdMWgp6UlpXNGtNZFl3clJuQ3NDSUFVQmFRNVh0dEh5SWdvZlo0elY4ektkZ2Y0OHNrL3lsRExYcWYvclhCcUMKLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg==";

/// Which input an item goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A k8s audit event (JSON), posted to the k8s_audit webhook.
    Audit,
    /// A Tetragon JSON export line, posted to the falco receiver's Tetragon path.
    Runtime,
    /// A flow record: OTLP log attributes, posted over OTLP/HTTP.
    Flow,
}

/// One generated item and its ground truth.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    /// Unix seconds (event time).
    pub time: i64,
    /// Unique id: the auditID, or a `scenario.id` carried by the record.
    pub id: String,
    /// The audit event or Tetragon line; for flows, a flat attribute object.
    pub body: Value,
    /// Tags this item should get.
    pub deserved: BTreeSet<&'static str>,
    /// Tags not scored on this item either way.
    pub dont_care: BTreeSet<&'static str>,
    /// The attack it belongs to (None: benign).
    pub attack: Option<&'static str>,
    /// A deliberate benign novelty (its novelty tags are deserved but it is not an
    /// attack: the evaluation reports them as benign alerts).
    pub benign_novelty: bool,
}

/// The tags of every stateful detector (scored in episodes for the burst detector).
pub const NOVELTY_TAGS: &[&str] = &[
    "novel_api_call",
    "novel_source",
    "novel_image",
    "novel_exec",
    "novel_process",
    "novel_connection",
];

pub(super) struct Gen {
    rng: StdRng,
    items: Vec<Item>,
    next: u64,
}

pub(super) fn rfc3339(t: i64, micros: u32) -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

pub(super) fn pod_spec(image: &str, extra_container: Value, volumes: Value, host: bool) -> Value {
    let mut container = json!({"name": "main", "image": image, "resources": {}});
    if let (Some(c), Some(extra)) = (container.as_object_mut(), extra_container.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    let mut spec = json!({"containers": [container], "volumes": volumes});
    if host {
        spec["hostPID"] = json!(true);
        spec["hostNetwork"] = json!(true);
    }
    spec
}

/// What an audit event is about.
pub(super) struct Call<'a> {
    pub(super) user: &'a str,
    pub(super) groups: &'a [&'a str],
    pub(super) ip: &'a str,
    pub(super) agent: &'a str,
    pub(super) verb: &'a str,
    pub(super) group: &'a str,
    pub(super) resource: &'a str,
    pub(super) subresource: &'a str,
    pub(super) namespace: &'a str,
    pub(super) name: &'a str,
    pub(super) code: u16,
    pub(super) request: Option<Value>,
}

impl Gen {
    pub(super) fn id(&mut self) -> String {
        self.next += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next)
    }

    pub(super) fn push(&mut self, kind: Kind, time: i64, id: String, body: Value) -> &mut Item {
        self.items.push(Item {
            kind,
            time,
            id,
            body,
            deserved: BTreeSet::new(),
            dont_care: BTreeSet::new(),
            attack: None,
            benign_novelty: false,
        });
        self.items.last_mut().unwrap()
    }

    pub(super) fn audit(&mut self, time: i64, call: &Call<'_>) -> &mut Item {
        let id = self.id();
        let mut uri = if call.group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{}/v1", call.group)
        };
        if !call.namespace.is_empty() {
            uri.push_str(&format!("/namespaces/{}", call.namespace));
        }
        uri.push_str(&format!("/{}", call.resource));
        if !call.name.is_empty() {
            uri.push_str(&format!("/{}", call.name));
        }
        if !call.subresource.is_empty() {
            uri.push_str(&format!("/{}", call.subresource));
        }
        let mut object_ref = json!({"resource": call.resource, "apiVersion": "v1"});
        if !call.group.is_empty() {
            object_ref["apiGroup"] = json!(call.group);
        }
        if !call.namespace.is_empty() {
            object_ref["namespace"] = json!(call.namespace);
        }
        if !call.name.is_empty() {
            object_ref["name"] = json!(call.name);
        }
        if !call.subresource.is_empty() {
            object_ref["subresource"] = json!(call.subresource);
        }
        let decision = if call.code == 403 { "forbid" } else { "allow" };
        let micros = self.rng.random_range(0..1_000_000);
        let mut event = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "RequestResponse",
            "auditID": id,
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": call.verb,
            "user": {"username": call.user, "groups": call.groups},
            "sourceIPs": [call.ip],
            "userAgent": call.agent,
            "objectRef": object_ref,
            "responseStatus": {"metadata": {}, "code": call.code},
            "requestReceivedTimestamp": rfc3339(time, micros),
            "stageTimestamp": rfc3339(time, micros),
            "annotations": {"authorization.k8s.io/decision": decision},
        });
        if let Some(request) = &call.request {
            event["requestObject"] = request.clone();
        }
        let item = self.push(Kind::Audit, time, id, event);
        if call.code == 403 || call.code == 401 {
            item.deserved.insert("rbac_denied");
            // Novelty of a call that was refused is not scored.
            item.dont_care.insert("novel_api_call");
        }
        item
    }

    fn profile_call(&mut self, time: i64, p: &Profile, call: usize) -> &mut Item {
        let (verb, group, resource, subresource, namespace) = p.calls[call];
        let name = match (resource, subresource) {
            ("secrets", _) => "db-credentials",
            ("configmaps", _) if verb == "get" => "app-config",
            ("leases", _) if verb != "list" => "leader",
            ("deployments", _) if verb != "list" => "frontend",
            ("nodes", _) if verb != "list" => "node-1",
            ("pods", "log") | ("pods", "") if verb == "get" => "frontend-7d9f8c6b5-x2x8k",
            ("serviceaccounts", "token") => "frontend",
            _ => "",
        };
        let request = (verb == "patch" && resource == "deployments").then(|| {
            json!({"spec": {"template": {"spec": pod_spec(WORKLOADS[0].2, json!({}), json!([]), false)}}})
        });
        self.audit(
            time,
            &Call {
                user: p.user,
                groups: p.groups,
                ip: p.ip,
                agent: p.agent,
                verb,
                group,
                resource,
                subresource,
                namespace,
                name,
                code: if verb == "create" { 201 } else { 200 },
                request,
            },
        )
    }

    pub(super) fn pod_create(&mut self, time: i64, namespace: &str, image: &str) -> &mut Item {
        let spec = pod_spec(image, json!({}), json!([]), false);
        self.audit(
            time,
            &Call {
                user: "system:serviceaccount:kube-system:replicaset-controller",
                groups: SA_GROUPS,
                ip: "10.0.0.10",
                agent: "kube-controller-manager/v1.30.2 system:serviceaccount:kube-system:replicaset-controller",
                verb: "create",
                group: "",
                resource: "pods",
                subresource: "",
                namespace,
                name: "",
                code: 201,
                request: Some(json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"namespace": namespace}, "spec": spec})),
            },
        )
    }

    pub(super) fn runtime(
        &mut self,
        time: i64,
        workload: usize,
        binary: &str,
        args: &str,
    ) -> &mut Item {
        let id = self.id();
        let (ns, name, image, _, _) = WORKLOADS[workload];
        let line = json!({
            "process_exec": {
                "process": {
                    "exec_id": id,
                    "pid": self.rng.random_range(100..60_000),
                    "binary": binary,
                    "arguments": format!("{args} --scenario-id={id}"),
                    "start_time": rfc3339(time, 0),
                    "pod": {
                        "namespace": ns,
                        "name": format!("{name}-7d9f8c6b5-x2x8k"),
                        "container": {"name": "main", "image": {"name": image}},
                        "workload": name,
                        "workload_kind": "Deployment"
                    }
                }
            },
            "node_name": "node-1",
            "time": rfc3339(time, 0)
        });
        self.push(Kind::Runtime, time, id, line)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn flow(
        &mut self,
        time: i64,
        src_ns: &str,
        src: &str,
        dst_ns: &str,
        dst: &str,
        address: &str,
        port: u16,
    ) -> &mut Item {
        let id = self.id();
        let mut attributes = json!({
            "event.domain": "network.flow",
            "scenario.id": id,
            "source.address": "10.244.2.21",
            "source.port": self.rng.random_range(32_768..60_999),
            "destination.address": address,
            "destination.port": port,
            "network.transport": "tcp",
            "source.k8s.namespace.name": src_ns,
            "source.k8s.workload.name": src,
        });
        if !dst.is_empty() {
            attributes["destination.k8s.namespace.name"] = json!(dst_ns);
            attributes["destination.k8s.workload.name"] = json!(dst);
        }
        let _ = time;
        self.push(Kind::Flow, time, id, attributes)
    }
}

pub(super) fn attack(item: &mut Item, name: &'static str, deserved: &[&'static str]) {
    item.attack = Some(name);
    item.deserved.extend(deserved.iter().copied());
}

/// The whole week, sorted by event time.
pub fn generate(seed: u64) -> Vec<Item> {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        items: Vec::new(),
        next: 0,
    };
    // Warm-up sweep: every routine call, process and flow once in the first hours, so
    // the learning period has seen all of them.
    for p in PROFILES {
        for c in 0..p.calls.len() {
            let t = T0 + g.rng.random_range(0..6 * HOUR);
            g.profile_call(t, p, c);
        }
    }
    for (w, (ns, _, image, _, procs)) in WORKLOADS.iter().enumerate() {
        let t = T0 + g.rng.random_range(0..6 * HOUR);
        g.pod_create(t, ns, image);
        for proc_name in *procs {
            let t = T0 + g.rng.random_range(0..6 * HOUR);
            g.runtime(t, w, &format!("/usr/bin/{proc_name}"), "");
        }
    }
    for (sns, s, dns, d, addr, port) in FLOWS {
        let t = T0 + g.rng.random_range(0..6 * HOUR);
        g.flow(t, sns, s, dns, d, addr, *port);
    }
    // A week of routine traffic.
    for hour in 0..7 * 24 {
        let base = T0 + hour * HOUR;
        for p in PROFILES {
            for _ in 0..p.rate {
                let c = g.rng.random_range(0..p.calls.len());
                let t = base + g.rng.random_range(0..HOUR);
                g.profile_call(t, p, c);
            }
        }
        if hour % 6 == 0 {
            for (w, (ns, _, image, _, procs)) in WORKLOADS.iter().enumerate() {
                let t = base + g.rng.random_range(0..HOUR);
                g.pod_create(t, ns, image);
                let p = procs[g.rng.random_range(0..procs.len())];
                g.runtime(t + 5, w, &format!("/usr/bin/{p}"), "");
            }
        }
        for (sns, s, dns, d, addr, port) in FLOWS {
            let t = base + g.rng.random_range(0..HOUR);
            g.flow(t, sns, s, dns, d, addr, *port);
        }
        // Alice tries to read secrets now and then: a benign denial.
        if hour % 24 == 14 {
            let t = base + 600;
            g.audit(
                t,
                &Call {
                    user: "alice@example.com",
                    groups: USER_GROUPS,
                    ip: "192.168.10.15",
                    agent: PROFILES[5].agent,
                    verb: "get",
                    group: "",
                    resource: "secrets",
                    subresource: "",
                    namespace: "shop",
                    name: "db-credentials",
                    code: 403,
                    request: None,
                },
            );
        }
    }

    attacks::inject(&mut g);

    g.items.sort_by_key(|i| i.time);
    g.items
}

/// The names of the attacks in `items`.
pub fn attacks(items: &[Item]) -> BTreeSet<&'static str> {
    items.iter().filter_map(|i| i.attack).collect()
}
