//! The RBAC report on a realistic fixture: aggregated ClusterRoles, RoleBindings to
//! ClusterRoles, users, groups and ServiceAccounts, websocket exec, denials, duplicate
//! stages, impersonation and a system:masters user.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use harrier_security::rbac::{Risk, SubjectReport};
use harrier_security::{Format, RbacReport, rbac_report};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn report() -> RbacReport {
    let rbac = fixture("rbac.yaml");
    let admins = fixture("rbac-admins.json");
    let audit = fixture("audit.jsonl");
    let event_list = fixture("audit-eventlist.json");
    rbac_report(
        &[("rbac.yaml", &rbac), ("rbac-admins.json", &admins)],
        &[
            ("audit.jsonl", &audit),
            ("audit-eventlist.json", &event_list),
        ],
    )
    .unwrap()
}

fn granted(subject: &SubjectReport) -> Vec<String> {
    subject
        .granted
        .iter()
        .map(|grant| grant.atom.describe())
        .collect()
}

fn unused(subject: &SubjectReport) -> Vec<String> {
    subject
        .unused
        .iter()
        .map(|grant| grant.atom.describe())
        .collect()
}

fn used(subject: &SubjectReport) -> Vec<(String, u64)> {
    subject
        .used
        .iter()
        .map(|usage| (usage.permission.describe(), usage.count))
        .collect()
}

fn denied(subject: &SubjectReport) -> Vec<(String, u64)> {
    subject
        .denied
        .iter()
        .map(|denial| (denial.permission.describe(), denial.count))
        .collect()
}

#[test]
fn input_summary_counts_requests_once() {
    let report = report();
    let inputs = &report.inputs;
    assert_eq!(
        (
            inputs.roles,
            inputs.cluster_roles,
            inputs.role_bindings,
            inputs.cluster_role_bindings
        ),
        (1, 6, 4, 2)
    );
    assert_eq!(inputs.audit_events, 20);
    assert_eq!(
        inputs.audit_requests, 18,
        "a-exec and a-list have two stages each"
    );
    assert_eq!(
        (
            inputs.allowed_requests,
            inputs.denied_requests,
            inputs.undecided_requests
        ),
        (13, 4, 1)
    );
    assert_eq!(inputs.first_event, "2026-11-20T10:02:00.000000Z");
    assert_eq!(inputs.last_event, "2026-11-20T10:41:00.000000Z");
    let warnings = inputs.warnings.join("\n");
    assert!(warnings.contains("ConfigMap"), "{warnings}");
    assert!(warnings.contains("audit.jsonl:20: not JSON"), "{warnings}");
    assert!(
        warnings.contains("RoleBinding shop/dangling refers to Role \"does-not-exist\""),
        "{warnings}"
    );

    let subjects: Vec<String> = report
        .subjects
        .iter()
        .map(|s| s.subject.describe())
        .collect();
    assert_eq!(
        subjects,
        [
            "User alice",
            "User bob",
            "User carol",
            "Group devs",
            "Group platform-admins",
            "ServiceAccount system:serviceaccount:ci:deployer",
            "ServiceAccount system:serviceaccount:monitoring:prometheus",
        ]
    );
}

#[test]
fn alice_rolebinding_to_clusterrole_is_namespace_scoped_and_groups_expand() {
    let report = report();
    let alice = report.subject("User", "alice").unwrap();
    assert_eq!(alice.groups_or_members, ["devs", "system:authenticated"]);
    assert_eq!(
        granted(alice),
        [
            "create pods in shop",
            "create pods/exec in shop",
            "get pods in shop",
            "get pods/exec in shop",
            "get secrets name=db-creds in shop",
            "list pods in shop",
        ]
    );
    // The websocket exec (`get`, two stages) is one request and also uses `create`.
    assert_eq!(
        used(alice),
        [
            ("get pods/exec shop/web-1".to_owned(), 1),
            ("get secrets shop/db-creds".to_owned(), 1),
            ("list pods in shop".to_owned(), 1),
        ]
    );
    assert_eq!(
        alice.used[0].last_used, "2026-11-20T10:09:00.000000Z",
        "ResponseComplete kept"
    );
    assert_eq!(
        alice.used[0].matched_by,
        [
            "create pods/exec in shop from ClusterRole pod-debugger rule #1 via RoleBinding shop/alice-debug (User alice)",
            "get pods/exec in shop from ClusterRole pod-debugger rule #1 via RoleBinding shop/alice-debug (User alice)",
        ]
    );
    assert_eq!(
        alice.used[1].matched_by,
        [
            "get secrets name=db-creds in shop from ClusterRole secret-reader rule #0 via RoleBinding shop/devs-secret (Group devs)"
        ]
    );
    assert_eq!(unused(alice), ["create pods in shop", "get pods in shop"]);
    assert_eq!(alice.unused[0].risk, Risk::PodCreate);
    // Near misses: another namespace, another resourceName, all namespaces.
    assert_eq!(
        denied(alice),
        [
            ("get secrets kube-system/db-creds".to_owned(), 1),
            ("get secrets shop/other".to_owned(), 1),
            ("list pods (cluster)".to_owned(), 1),
        ]
    );
    assert!(alice.allowed_without_rbac_grant.is_empty());
}

#[test]
fn aggregated_clusterrole_grants_its_members_rules() {
    let report = report();
    let prometheus = report
        .subject(
            "ServiceAccount",
            "system:serviceaccount:monitoring:prometheus",
        )
        .unwrap();
    assert_eq!(
        prometheus.groups_or_members,
        [
            "system:authenticated",
            "system:serviceaccounts",
            "system:serviceaccounts:monitoring"
        ]
    );
    assert_eq!(prometheus.granted.len(), 12);
    assert_eq!(
        used(prometheus),
        [
            ("get /metrics".to_owned(), 1),
            ("get nodes/metrics node-1".to_owned(), 1),
            ("list pods (cluster)".to_owned(), 2),
        ]
    );
    assert!(prometheus.used[1].matched_by[0].contains("ClusterRole monitoring ClusterRole monitoring-nodes rule #0 via ClusterRoleBinding prometheus-monitoring"));
    assert_eq!(
        unused(prometheus),
        [
            "get /healthz/*",
            "get endpoints cluster-wide",
            "get pods cluster-wide",
            "get services cluster-wide",
            "list endpoints cluster-wide",
            "list services cluster-wide",
            "watch endpoints cluster-wide",
            "watch pods cluster-wide",
            "watch services cluster-wide",
        ]
    );
    assert_eq!(prometheus.unused[0].risk, Risk::Wildcard);
    assert!(prometheus.denied.is_empty());
}

#[test]
fn service_account_role_usage_impersonation_and_denials() {
    let report = report();
    let deployer = report
        .subject("ServiceAccount", "system:serviceaccount:ci:deployer")
        .unwrap();
    assert_eq!(
        used(deployer),
        [
            ("get configmaps shop/web-config".to_owned(), 1),
            ("get deployments.apps shop/web".to_owned(), 1),
            ("patch deployments.apps shop/web".to_owned(), 1),
        ]
    );
    assert_eq!(
        unused(deployer),
        [
            "create pods in shop",
            "create configmaps in shop",
            "list configmaps in shop",
            "list deployments.apps in shop",
            "update deployments.apps in shop",
        ]
    );
    assert_eq!(denied(deployer), [("delete pods shop/x".to_owned(), 1)]);

    let bob = report.subject("User", "bob").unwrap();
    assert_eq!(granted(bob), ["* *.* cluster-wide"]);
    assert_eq!(
        used(bob),
        [
            ("delete namespaces foo".to_owned(), 1),
            ("get nodes node-1".to_owned(), 1),
            ("impersonate serviceaccounts ci/deployer".to_owned(), 1),
        ]
    );
    assert!(bob.unused.is_empty());
    let wildcards: Vec<String> = bob
        .used_wildcards
        .iter()
        .map(|grant| grant.atom.describe())
        .collect();
    assert_eq!(
        wildcards,
        ["* *.* cluster-wide"],
        "used, but far broader than the use"
    );

    let admins = report.subject("Group", "platform-admins").unwrap();
    assert_eq!(admins.groups_or_members, ["bob"]);
    assert_eq!(admins.used.len(), 3);
    assert_eq!(admins.used[0].users, ["bob"]);
    assert!(admins.unused.is_empty());

    let devs = report.subject("Group", "devs").unwrap();
    assert_eq!(used(devs), [("get secrets shop/db-creds".to_owned(), 1)]);
    assert!(devs.unused.is_empty());
}

#[test]
fn system_masters_usage_is_allowed_without_a_grant() {
    let report = report();
    let carol = report.subject("User", "carol").unwrap();
    assert!(carol.granted.is_empty());
    assert!(carol.used.is_empty());
    assert_eq!(carol.allowed_without_rbac_grant.len(), 1);
    assert_eq!(
        carol.allowed_without_rbac_grant[0].permission.describe(),
        "get secrets kube-system/x"
    );
}

#[test]
fn suggested_manifests_are_valid_yaml_with_evidence() {
    let report = report();
    let alice = report.subject("User", "alice").unwrap();
    let expected = r#"# Least-privilege suggestion for User alice from observed usage. Review before applying.
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: harrier-least-privilege-alice
  namespace: "shop"
  annotations:
    harrier.dev/generated-by: "rbac-report"
rules:
# evidence: list x1 (last 2026-11-20T10:02:00.000000Z)
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
# evidence: get x1 (last 2026-11-20T10:09:00.000000Z)
# create: kube-apiserver also checks it for exec/attach/portforward over websockets
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create", "get"]
# evidence: get x1 (last 2026-11-20T10:03:00.000000Z)
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["db-creds"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: harrier-least-privilege-alice
  namespace: "shop"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: harrier-least-privilege-alice
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: "alice"
"#;
    assert_eq!(alice.suggested_manifests, expected);

    for subject in &report.subjects {
        let documents: Vec<serde_yaml::Value> =
            serde_yaml::Deserializer::from_str(&subject.suggested_manifests)
                .map(|document| serde::Deserialize::deserialize(document).unwrap())
                .collect();
        for document in documents.iter().filter(|d| !d.is_null()) {
            assert!(
                document.get("kind").is_some(),
                "{}",
                subject.suggested_manifests
            );
        }
    }

    // Cluster-scoped use becomes a ClusterRole; the ServiceAccount subject has its namespace.
    let prometheus = report
        .subject(
            "ServiceAccount",
            "system:serviceaccount:monitoring:prometheus",
        )
        .unwrap();
    let manifests = &prometheus.suggested_manifests;
    assert!(manifests.contains("kind: ClusterRole\n"), "{manifests}");
    assert!(
        manifests.contains("- nonResourceURLs: [\"/metrics\"]\n  verbs: [\"get\"]"),
        "{manifests}"
    );
    assert!(
        manifests.contains("  resources: [\"nodes/metrics\"]\n  resourceNames: [\"node-1\"]"),
        "{manifests}"
    );
    assert!(
        manifests.contains(
            "- kind: ServiceAccount\n  name: \"prometheus\"\n  namespace: \"monitoring\""
        ),
        "{manifests}"
    );
    assert!(
        manifests.contains("# evidence: list x2 (last 2026-11-20T10:11:00.000000Z)"),
        "{manifests}"
    );
}

#[test]
fn renders_text_json_and_yaml() {
    let report = report();
    let text = report.render(Format::Text);
    assert!(text.contains("== User alice =="), "{text}");
    assert!(
        text.contains(
            "granted but unused (2), high risk first:\n  [PodCreate] create pods in shop"
        ),
        "{text}"
    );
    assert!(text.contains("system:masters"), "caveats are printed");

    let json: serde_json::Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
    assert_eq!(json["subjects"][0]["name"], "alice");
    assert_eq!(json["subjects"][0]["kind"], "User");
    assert_eq!(json["subjects"][0]["unused"][0]["risk"], "pod_create");
    assert_eq!(json["subjects"][0]["used"][0]["subresource"], "exec");
    assert!(json["caveats"].as_array().unwrap().len() >= 4);

    let yaml: serde_yaml::Value = serde_yaml::from_str(&report.render(Format::Yaml)).unwrap();
    assert_eq!(yaml["subjects"][1]["name"], serde_yaml::Value::from("bob"));
}

#[test]
fn parse_errors_name_the_file() {
    let error = rbac_report(&[("broken.yaml", "kind: [unclosed")], &[]).unwrap_err();
    assert!(error.to_string().starts_with("broken.yaml"), "{error}");
}
