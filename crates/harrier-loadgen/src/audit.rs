//! Pre-built Kubernetes audit webhook bodies: an `audit.k8s.io/v1` `EventList` of
//! realistic events, as kube-apiserver's webhook backend posts them.
//!
//! The events are a mix of what a busy cluster records at `ResponseComplete`: gets,
//! lists and watches of pods, configmaps and leases by controllers and service
//! accounts (level `Metadata`), one in ten a `create` or `patch` at level `Request`
//! carrying a small `requestObject`, and now and then a `403`. Each event is about
//! 1 KiB of JSON (about 1.3 KiB with a request object).

use bytes::Bytes;
use serde_json::{Value, json};

/// Builds `pool` `EventList` bodies of `events` events each.
///
/// # Errors
/// JSON serialisation failed (writes to memory; not expected in practice).
pub fn build_bodies(events: usize, pool: usize) -> serde_json::Result<Vec<Bytes>> {
    (0..pool.max(1))
        .map(|seed| serde_json::to_vec(&event_list(events, seed)).map(Bytes::from))
        .collect()
}

/// One `EventList` of `events` events; `seed` varies ids, names and times.
pub fn event_list(events: usize, seed: usize) -> Value {
    let items: Vec<Value> = (0..events).map(|i| event(seed, i)).collect();
    json!({
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "metadata": {},
        "items": items,
    })
}

const USERS: [(&str, &[&str]); 4] = [
    (
        "system:serviceaccount:kube-system:replicaset-controller",
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
    ),
    ("system:kube-scheduler", &["system:authenticated"]),
    (
        "system:node:node-3",
        &["system:nodes", "system:authenticated"],
    ),
    ("alice@example.com", &["developers", "system:authenticated"]),
];

const AGENTS: [&str; 4] = [
    "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:replicaset-controller",
    "kube-scheduler/v1.30.2 (linux/amd64) kubernetes/3968350/leader-election",
    "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350",
    "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
];

/// One event: request `i` of list `seed`.
fn event(seed: usize, i: usize) -> Value {
    let n = seed * 100_003 + i;
    let who = n % USERS.len();
    let (user, groups) = USERS[who];
    let (verb, resource, group, namespace, name) = match n % 10 {
        0 => ("create", "pods", "", "shop", ""),
        1 => ("patch", "deployments", "apps", "shop", "checkout"),
        2 | 3 => ("get", "pods", "", "shop", "checkout-5d9c7b8f4-x2x8k"),
        4 => ("list", "configmaps", "", "shop", ""),
        5 => ("watch", "endpointslices", "discovery.k8s.io", "", ""),
        6 | 7 => (
            "update",
            "leases",
            "coordination.k8s.io",
            "kube-system",
            "kube-scheduler",
        ),
        8 => ("get", "secrets", "", "payments", "stripe-api-key"),
        _ => ("list", "nodes", "", "", ""),
    };
    let forbidden = verb == "get" && resource == "secrets" && who == 2;
    let code = match (forbidden, verb) {
        (true, _) => 403,
        (false, "create") => 201,
        _ => 200,
    };
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
    let mut uri = prefix;
    if !namespace.is_empty() {
        uri.push_str(&format!("/namespaces/{namespace}"));
    }
    uri.push('/');
    uri.push_str(resource);
    if !name.is_empty() {
        uri.push('/');
        uri.push_str(name);
    }
    match verb {
        "watch" => uri.push_str("?allowWatchBookmarks=true&resourceVersion=918273&timeout=8m27s&timeoutSeconds=507&watch=true"),
        "list" => uri.push_str("?limit=500&resourceVersion=0"),
        "patch" => uri.push_str("?fieldManager=kubectl-client-side-apply"),
        _ => {}
    }
    let micros = (n * 7_919) % 1_000_000;
    let second = (n / 1_000) % 60;
    let mut object_ref = json!({
        "resource": resource,
        "apiVersion": "v1",
    });
    if !namespace.is_empty() {
        object_ref["namespace"] = namespace.into();
    }
    if !name.is_empty() {
        object_ref["name"] = name.into();
    }
    if !group.is_empty() {
        object_ref["apiGroup"] = group.into();
    }
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": if matches!(verb, "create" | "patch") { "Request" } else { "Metadata" },
        "auditID": format!("{:08x}-{:04x}-4{:03x}-9{:03x}-{:012x}", n as u32, (n >> 3) & 0xffff, n & 0xfff, (n >> 5) & 0xfff, n * 2_654_435_761 % 0xffff_ffff_ffff),
        "stage": "ResponseComplete",
        "requestURI": uri,
        "verb": verb,
        "user": {
            "username": user,
            "uid": format!("0c9d8e7f-6a5b-4c3d-2e1f-{:012x}", who + 1),
            "groups": groups,
        },
        "sourceIPs": [format!("10.0.{}.{}", who, 7 + who)],
        "userAgent": AGENTS[who],
        "objectRef": object_ref,
        "responseStatus": { "metadata": {}, "code": code },
        "requestReceivedTimestamp": format!("2026-11-23T11:42:{second:02}.{micros:06}Z"),
        "stageTimestamp": format!("2026-11-23T11:42:{second:02}.{:06}Z", (micros + 1_834).min(999_999)),
        "annotations": {
            "authorization.k8s.io/decision": if forbidden { "forbid" } else { "allow" },
            "authorization.k8s.io/reason": if forbidden {
                String::new()
            } else {
                format!("RBAC: allowed by ClusterRoleBinding \"system:{}\" of ClusterRole \"system:{}\" to User \"{user}\"", resource, resource)
            },
        },
    });
    if forbidden {
        event["responseStatus"]["reason"] = "Forbidden".into();
        event["responseStatus"]["status"] = "Failure".into();
    }
    match verb {
        "create" => {
            event["requestObject"] = json!({
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {
                    "generateName": "checkout-5d9c7b8f4-",
                    "namespace": "shop",
                    "labels": { "app": "checkout", "pod-template-hash": "5d9c7b8f4" },
                },
                "spec": {
                    "containers": [{
                        "name": "app",
                        "image": "registry.example.com/shop/checkout:1.4.2",
                        "ports": [{ "containerPort": 8080, "protocol": "TCP" }],
                        "resources": { "requests": { "cpu": "250m", "memory": "256Mi" } },
                    }],
                },
            });
        }
        "patch" => {
            event["requestObject"] = json!({
                "spec": { "replicas": 3 + n % 5 },
            });
        }
        _ => {}
    }
    event
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn bodies_are_event_lists_of_complete_events() {
        let bodies = build_bodies(100, 3).unwrap();
        assert_eq!(bodies.len(), 3);
        assert_ne!(bodies[0], bodies[1], "distinct ids and times per body");
        for body in &bodies {
            let list: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(list["kind"], "EventList");
            assert_eq!(list["apiVersion"], "audit.k8s.io/v1");
            let items = list["items"].as_array().unwrap();
            assert_eq!(items.len(), 100);
            for e in items {
                assert_eq!(e["stage"], "ResponseComplete");
                for key in ["auditID", "verb", "requestURI", "stageTimestamp"] {
                    assert!(e[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
                }
                assert!(e["user"]["username"].is_string());
                assert!(e["responseStatus"]["code"].is_i64());
            }
            assert!(items.iter().any(|e| e["requestObject"].is_object()));
            assert!(items.iter().any(|e| e["responseStatus"]["code"] == 403));
            // About 1 KiB per event.
            let per_event = body.len() / 100;
            assert!((700..1_400).contains(&per_event), "{per_event}");
        }
    }
}
