//! Unit tests of the report assembly; the fixture-based and property tests are in
//! `tests/`.

use super::*;

fn event(
    id: &str,
    stage: &str,
    user: &str,
    groups: &[&str],
    verb: &str,
    object: Option<&str>,
    code: Option<u16>,
) -> String {
    let mut value = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": id, "stage": stage, "verb": verb,
        "user": {"username": user, "groups": groups}, "requestURI": "/api",
        "stageTimestamp": "2026-11-20T10:00:00.000000Z",
    });
    if let Some(object) = object {
        let parts: Vec<&str> = object.split('/').collect();
        value["objectRef"] = serde_json::json!({"resource": parts[0], "namespace": parts.get(1).copied().unwrap_or("")});
    }
    if let Some(code) = code {
        value["responseStatus"] = serde_json::json!({"code": code});
    }
    value.to_string()
}

#[test]
fn deduplication_keeps_the_final_stage_in_any_order() {
    let lines = [
        event(
            "1",
            "ResponseComplete",
            "u",
            &[],
            "list",
            Some("pods/a"),
            Some(200),
        ),
        event(
            "1",
            "RequestReceived",
            "u",
            &[],
            "list",
            Some("pods/a"),
            None,
        ),
        event(
            "2",
            "RequestReceived",
            "u",
            &[],
            "list",
            Some("pods/a"),
            None,
        ),
        event(
            "3",
            "ResponseStarted",
            "u",
            &[],
            "watch",
            Some("pods/a"),
            Some(200),
        ),
        event(
            "3",
            "ResponseComplete",
            "u",
            &[],
            "watch",
            Some("pods/a"),
            Some(200),
        ),
    ]
    .join("\n");
    let report = rbac_report(&[], &[("a", &lines)]).unwrap();
    assert_eq!(report.inputs.audit_requests, 3);
    assert_eq!(report.inputs.allowed_requests, 2);
    assert_eq!(
        report.inputs.undecided_requests, 1,
        "a request seen only at RequestReceived"
    );
}

const AGGREGATION: &str = r#"
kind: ClusterRole
metadata: {name: top, labels: {level: top}}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {level: middle}}]
---
kind: ClusterRole
metadata: {name: middle, labels: {level: middle}}
aggregationRule:
  clusterRoleSelectors: [{matchExpressions: [{key: level, operator: In, values: [bottom, top]}]}]
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
kind: ClusterRole
metadata: {name: bottom, labels: {level: bottom}}
rules:
- {apiGroups: [""], resources: [services], verbs: [get]}
---
kind: ClusterRoleBinding
metadata: {name: top-u}
roleRef: {kind: ClusterRole, name: top}
subjects: [{kind: User, name: u}]
"#;

#[test]
fn aggregation_is_transitive_and_terminates() {
    let report = rbac_report(&[("a.yaml", AGGREGATION)], &[]).unwrap();
    let user = report.subject("User", "u").unwrap();
    let granted: Vec<String> = user.granted.iter().map(|g| g.atom.describe()).collect();
    assert_eq!(
        granted,
        ["get configmaps cluster-wide", "get services cluster-wide"]
    );
    assert_eq!(
        user.granted[1].sources[0].rule,
        "ClusterRole bottom rule #0"
    );
}

#[test]
fn rolebindings_scope_service_accounts_and_drop_non_resource_rules() {
    let rbac = r#"
kind: ClusterRole
metadata: {name: mixed}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {nonResourceURLs: ["/metrics"], verbs: [get]}
---
kind: RoleBinding
metadata: {name: rb, namespace: team}
roleRef: {kind: ClusterRole, name: mixed}
subjects: [{kind: ServiceAccount, name: app}]
---
kind: ClusterRoleBinding
metadata: {name: bad}
roleRef: {kind: Role, name: whatever}
subjects: [{kind: User, name: x}]
"#;
    let report = rbac_report(&[("a.yaml", rbac)], &[]).unwrap();
    let sa = report
        .subject("ServiceAccount", "system:serviceaccount:team:app")
        .unwrap();
    let granted: Vec<String> = sa.granted.iter().map(|g| g.atom.describe()).collect();
    assert_eq!(
        granted,
        ["get pods in team"],
        "non-resource URLs need a ClusterRoleBinding"
    );
    assert!(
        report
            .inputs
            .warnings
            .iter()
            .any(|w| w.starts_with("ClusterRoleBinding bad refers to Role"))
    );
    assert!(
        report.subject("User", "x").is_none(),
        "a dangling binding grants nothing"
    );
}

#[test]
fn baseline_group_grants_are_used_but_not_suggested() {
    let rbac = r#"
kind: ClusterRole
metadata: {name: discovery}
rules: [{nonResourceURLs: ["/api", "/api/*"], verbs: [get]}]
---
kind: ClusterRoleBinding
metadata: {name: discovery}
roleRef: {kind: ClusterRole, name: discovery}
subjects: [{kind: Group, name: "system:authenticated"}]
"#;
    let audit = event(
        "1",
        "ResponseComplete",
        "dana",
        &["system:authenticated"],
        "get",
        None,
        Some(200),
    );
    let report = rbac_report(&[("a.yaml", rbac)], &[("b", &audit)]).unwrap();
    let dana = report.subject("User", "dana").unwrap();
    assert_eq!(dana.used.len(), 1);
    assert_eq!(dana.used[0].permission.describe(), "get /api");
    assert_eq!(
        dana.suggested_manifests, "",
        "everyone keeps system:authenticated's grants"
    );
    assert_eq!(dana.unused.len(), 1, "get /api/* is unused");
    let group = report.subject("Group", "system:authenticated").unwrap();
    assert_eq!(group.groups_or_members, ["dana"]);
}

#[test]
fn impersonation_counts_for_both_identities() {
    let audit = serde_json::json!({
        "kind": "Event", "auditID": "1", "stage": "ResponseComplete", "verb": "list",
        "user": {"username": "admin", "groups": ["system:authenticated"]},
        "impersonatedUser": {"username": "eve", "groups": ["qa", "system:authenticated"]},
        "objectRef": {"resource": "pods", "namespace": "qa"}, "responseStatus": {"code": 200},
        "stageTimestamp": "2026-11-20T10:00:00Z"
    })
    .to_string();
    let report = rbac_report(&[], &[("a", &audit)]).unwrap();
    let eve = report.subject("User", "eve").unwrap();
    assert_eq!(
        eve.allowed_without_rbac_grant[0].permission.describe(),
        "list pods in qa"
    );
    assert_eq!(eve.groups_or_members, ["qa", "system:authenticated"]);
    let admin = report.subject("User", "admin").unwrap();
    let used: Vec<String> = admin
        .allowed_without_rbac_grant
        .iter()
        .map(|u| u.permission.describe())
        .collect();
    assert_eq!(used, ["impersonate groups qa", "impersonate users eve"]);
}

#[test]
fn resource_names_are_suggested_only_for_named_single_object_verbs() {
    let lines = [
        event(
            "1",
            "ResponseComplete",
            "u",
            &[],
            "get",
            Some("configmaps/a"),
            Some(200),
        ),
        event(
            "2",
            "ResponseComplete",
            "u",
            &[],
            "list",
            Some("secrets/a"),
            Some(200),
        ),
    ];
    // Give the get a name.
    let named = lines[0].replace(
        "\"namespace\":\"a\"",
        "\"namespace\":\"a\",\"name\":\"cfg\"",
    );
    let audit = format!("{named}\n{}", lines[1]);
    let report = rbac_report(&[], &[("a", &audit)]).unwrap();
    let manifests = &report.subject("User", "u").unwrap().suggested_manifests;
    assert!(
        manifests.contains(
            "resources: [\"configmaps\"]\n  resourceNames: [\"cfg\"]\n  verbs: [\"get\"]"
        ),
        "{manifests}"
    );
    assert!(
        manifests.contains("resources: [\"secrets\"]\n  verbs: [\"list\"]"),
        "{manifests}"
    );
}
