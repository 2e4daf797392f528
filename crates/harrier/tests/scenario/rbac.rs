//! The scenario's RBAC: what each service account is granted (its routine calls plus
//! deliberately over-broad extras), as `kubectl get ... -o json` would give it, and the
//! ground truth of what the week left unused.

use super::{Item, Kind};
use serde_json::{Value, json};
use std::collections::BTreeSet;

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
