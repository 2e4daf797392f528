//! Tests of `rbac_wildcard_role`, `cluster_admin_binding`, `sa_in_kube_namespace`,
//! `token_request` and `suspicious_csr`.

use super::csr::{Subject, subject_of_request};
use super::fixtures::{ALICE, Ev, csr_request, fired, only, rules_from, run, run_with};
use crate::finding::Severity;
use serde_json::json;

// ---- rbac_wildcard_role ----

fn role(resource: &str, namespace: &str, rules: serde_json::Value) -> Ev {
    Ev::new(ALICE, "create")
        .on("rbac.authorization.k8s.io", resource, namespace, "")
        .request(json!({"kind": "Role", "metadata": {"name": "ops"}, "rules": rules}))
}

#[test]
fn full_wildcard_role_is_critical() {
    let finding = only(
        &run(&role(
            "clusterroles",
            "",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        )),
        "rbac_wildcard_role",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.reason.starts_with("alice@example.com created clusterrole ops granting every verb on every resource in every API group"), "{}", finding.reason);
}

#[test]
fn wildcards_and_escalation_verbs() {
    for (rules, expected) in [
        (
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]),
            "verbs * on resources pods",
        ),
        (
            json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["get", "list"]}]),
            "resources * (verbs get,list)",
        ),
        (
            json!([{"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]}]),
            "resources pods/* (verbs create)",
        ),
        (
            json!([{"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["create", "patch"]}]),
            "apiGroups * with write verbs create,patch",
        ),
        (
            json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate", "bind"]}]),
            "verbs escalate,bind on resources clusterroles",
        ),
        (
            json!([{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}]),
            "verbs impersonate on resources users,groups",
        ),
    ] {
        let finding = only(
            &run(&role("roles", "shop", rules.clone())),
            "rbac_wildcard_role",
        );
        assert_eq!(finding.severity, Severity::High, "{rules}");
        assert!(
            finding.reason.contains(expected),
            "{rules}: {}",
            finding.reason
        );
        assert!(
            finding.reason.contains("role shop/ops"),
            "{}",
            finding.reason
        );
    }
}

#[test]
fn wildcard_near_misses() {
    for rules in [
        json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["*"], "verbs": ["get"]}]),
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]),
        json!([{"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get", "list"]}]),
        json!([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]),
    ] {
        assert!(
            run(&role("clusterroles", "", rules.clone())).is_empty(),
            "{rules}"
        );
    }
    let wild = json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]);
    assert!(run(&role("clusterroles", "", wild.clone()).code(403)).is_empty());
    let delete = Ev::new(ALICE, "delete")
        .on("rbac.authorization.k8s.io", "clusterroles", "", "ops")
        .response(json!({"rules": wild}));
    assert!(run(&delete).is_empty());
    let bootstrap = Ev::new("system:apiserver", "create")
        .on("rbac.authorization.k8s.io", "clusterroles", "", "")
        .request(json!({"metadata": {"name": "cluster-admin"}, "rules": wild}));
    assert!(run(&bootstrap).is_empty());
}

#[test]
fn wildcard_added_by_json_patch() {
    let ev = Ev::new(ALICE, "patch")
        .on("rbac.authorization.k8s.io", "clusterroles", "", "reader")
        .request(json!([{"op": "add", "path": "/rules/0/verbs/-", "value": "*"}]));
    assert!(
        only(&run(&ev), "rbac_wildcard_role")
            .reason
            .contains("alice@example.com patched clusterrole reader granting verbs *")
    );
}

// ---- cluster_admin_binding ----

fn binding(resource: &str, namespace: &str, role: &str) -> Ev {
    Ev::new(ALICE, "create")
        .on("rbac.authorization.k8s.io", resource, namespace, "")
        .request(json!({
            "metadata": {"name": "ops-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "mallory"},
                {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
            ],
        }))
}

#[test]
fn cluster_admin_binding_is_critical() {
    let finding = only(
        &run(&binding("clusterrolebindings", "", "cluster-admin")),
        "cluster_admin_binding",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        finding.reason,
        "alice@example.com created clusterrolebinding ops-admin binding User mallory, ServiceAccount ci/deployer to ClusterRole cluster-admin: full control of the whole cluster"
    );
    let finding = only(
        &run(&binding("rolebindings", "shop", "cluster-admin")),
        "cluster_admin_binding",
    );
    assert!(finding.reason.ends_with("full control of namespace shop"));
    let finding = only(
        &run(&binding("clusterrolebindings", "", "admin")),
        "cluster_admin_binding",
    );
    assert!(
        finding
            .reason
            .ends_with("to ClusterRole admin: full control of every namespace")
    );
}

#[test]
fn binding_near_misses() {
    assert!(run(&binding("clusterrolebindings", "", "view")).is_empty());
    assert!(run(&binding("rolebindings", "shop", "admin")).is_empty());
    assert!(run(&binding("clusterrolebindings", "", "cluster-admin").code(403)).is_empty());
    let role_named_like_it = Ev::new(ALICE, "create")
        .on("rbac.authorization.k8s.io", "rolebindings", "shop", "")
        .request(json!({"roleRef": {"kind": "Role", "name": "cluster-admin"}, "subjects": []}));
    assert!(run(&role_named_like_it).is_empty());
    let bootstrap = Ev::new("system:apiserver", "create")
        .on("rbac.authorization.k8s.io", "clusterrolebindings", "", "")
        .request(json!({"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "Group", "name": "system:masters"}]}));
    assert!(run(&bootstrap).is_empty());
}

#[test]
fn subjects_added_by_patch_use_the_response_object() {
    let ev = Ev::new(ALICE, "patch")
        .on("rbac.authorization.k8s.io", "clusterrolebindings", "", "platform-admins")
        .request(json!({"subjects": [{"kind": "User", "name": "mallory"}]}))
        .response(json!({"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "mallory"}]}));
    let finding = only(&run(&ev), "cluster_admin_binding");
    assert!(
        finding
            .reason
            .contains("patched clusterrolebinding platform-admins binding User mallory")
    );
}

#[test]
fn binding_roles_option() {
    let rules = rules_from(
        "[cluster_admin_binding]\nroles = [\"cluster-admin\", \"platform-root\"]\ncluster_wide_roles = []\n",
    );
    assert!(fired(
        &run_with(&rules, &binding("rolebindings", "shop", "platform-root")),
        "cluster_admin_binding"
    ));
    assert!(run_with(&rules, &binding("clusterrolebindings", "", "admin")).is_empty());
}

// ---- sa_in_kube_namespace ----

fn create_sa(user: &str, namespace: &str) -> Ev {
    Ev::new(user, "create")
        .on("", "serviceaccounts", namespace, "")
        .request(json!({"metadata": {"name": "helper"}}))
}

#[test]
fn service_account_in_kube_system() {
    let finding = only(
        &run(&create_sa(ALICE, "kube-system")),
        "sa_in_kube_namespace",
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.reason,
        "alice@example.com created service account kube-system/helper in a control-plane namespace, where it blends in with system components"
    );
    for ns in ["kube-public", "kube-node-lease"] {
        assert!(fired(
            &run(&create_sa("system:serviceaccount:ci:deployer", ns)),
            "sa_in_kube_namespace"
        ));
    }
}

#[test]
fn service_account_near_misses() {
    assert!(run(&create_sa(ALICE, "default")).is_empty());
    assert!(
        run(&create_sa(
            "system:serviceaccount:kube-system:service-account-controller",
            "kube-system"
        ))
        .is_empty()
    );
    assert!(run(&create_sa("system:kube-controller-manager", "kube-system")).is_empty());
    assert!(run(&create_sa(ALICE, "kube-system").code(403)).is_empty());
    assert!(
        run(&create_sa(ALICE, "kube-system")
            .uri("/api/v1/namespaces/kube-system/serviceaccounts?dryRun=All&fieldManager=kubectl"))
        .is_empty()
    );
}

// ---- token_request ----

fn token(user: &str, expiration: Option<i64>) -> Ev {
    let mut spec = json!({"audiences": ["https://kubernetes.default.svc"]});
    if let Some(seconds) = expiration {
        spec["expirationSeconds"] = json!(seconds);
    }
    Ev::new(user, "create")
        .on("", "serviceaccounts", "ci", "deployer")
        .sub("token")
        .request(
            json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": spec}),
        )
}

#[test]
fn token_request_by_a_person() {
    let finding = only(&run(&token(ALICE, Some(3600))), "token_request");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.reason,
        "alice@example.com requested a token for service account ci/deployer valid for 1h (audiences https://kubernetes.default.svc): its bearer can act as the account from anywhere"
    );
}

#[test]
fn long_lived_token_is_high() {
    let finding = only(&run(&token(ALICE, Some(31_536_000))), "token_request");
    assert_eq!(finding.severity, Severity::High);
    assert!(
        finding.reason.contains("valid for 365d")
            && finding.reason.contains("longer than the 1d allowed")
    );
    let rules = rules_from("[token_request]\nmax_expiration_seconds = 600\n");
    assert_eq!(
        only(
            &run_with(&rules, &token(ALICE, Some(3600))),
            "token_request"
        )
        .severity,
        Severity::High
    );
    assert_eq!(
        only(&run_with(&rules, &token(ALICE, Some(600))), "token_request").severity,
        Severity::Medium
    );
}

#[test]
fn token_request_own_account_and_workloads() {
    let finding = only(
        &run(&token("system:serviceaccount:ci:deployer", None)),
        "token_request",
    );
    assert!(
        finding
            .reason
            .contains("a token for its own service account ci/deployer ")
    );
    assert!(fired(
        &run(&token("system:serviceaccount:shop:web", None)),
        "token_request"
    ));
}

#[test]
fn token_request_near_misses() {
    for user in [
        "system:node:worker-1",
        "system:kube-controller-manager",
        "system:serviceaccount:kube-system:ttl-controller",
    ] {
        assert!(run(&token(user, Some(3607))).is_empty(), "{user}");
    }
    assert!(run(&token(ALICE, Some(3600)).code(403)).is_empty());
    assert!(run(&Ev::new(ALICE, "get").on("", "serviceaccounts", "ci", "deployer")).is_empty());
    assert!(run(&Ev::new(ALICE, "create").on("", "secrets", "ci", "")).is_empty());
}

// ---- suspicious_csr ----

fn csr(user: &str, common_name: &str, organizations: &[&str], signer: &str) -> Ev {
    Ev::new(user, "create")
        .on("certificates.k8s.io", "certificatesigningrequests", "", "")
        .request(json!({
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "csr-x"},
            "spec": {"request": csr_request(common_name, organizations), "signerName": signer, "usages": ["client auth"]},
        }))
}

#[test]
fn csr_subject_is_parsed() {
    let subject = subject_of_request(&csr_request("system:node:n1", &["system:nodes"])).unwrap();
    assert_eq!(
        subject,
        Subject {
            common_name: Some("system:node:n1".into()),
            organizations: vec!["system:nodes".into()]
        }
    );
    let long_name = "x".repeat(300);
    let subject = subject_of_request(&csr_request(&long_name, &["a", "b"])).unwrap();
    assert_eq!(subject.common_name.as_deref(), Some(long_name.as_str()));
    assert_eq!(subject.organizations, vec!["a", "b"]);
    for garbage in [
        "",
        "not base64!",
        "aGVsbG8=",
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQgotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
    ] {
        assert!(subject_of_request(garbage).is_none(), "{garbage}");
    }
}

#[test]
fn csr_for_a_system_identity() {
    let finding = only(
        &run(&csr(
            ALICE,
            "system:kube-controller-manager",
            &[],
            "kubernetes.io/kube-apiserver-client",
        )),
        "suspicious_csr",
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.reason,
        "alice@example.com requested a certificate for CN=system:kube-controller-manager (CSR csr-x, kubernetes.io/kube-apiserver-client): a signed client certificate would authenticate as that system identity"
    );
    // A kubelet asking for another node's name.
    assert!(fired(
        &run(&csr(
            "system:node:n1",
            "system:node:n2",
            &["system:nodes"],
            "kubernetes.io/kube-apiserver-client-kubelet"
        )),
        "suspicious_csr"
    ));
}

#[test]
fn csr_for_system_masters_is_critical() {
    let finding = only(
        &run(&csr(
            ALICE,
            "alice",
            &["system:masters"],
            "kubernetes.io/kube-apiserver-client",
        )),
        "suspicious_csr",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding.reason.contains("CN=alice, O=system:masters")
            && finding.reason.contains("bypasses RBAC")
    );
}

#[test]
fn csr_near_misses() {
    let kubelet = "kubernetes.io/kube-apiserver-client-kubelet";
    assert!(
        run(&csr(
            "system:node:n1",
            "system:node:n1",
            &["system:nodes"],
            kubelet
        ))
        .is_empty()
    );
    let bootstrap = csr(
        "system:bootstrap:abcdef",
        "system:node:n3",
        &["system:nodes"],
        kubelet,
    )
    .groups(&["system:bootstrappers", "system:authenticated"]);
    assert!(run(&bootstrap).is_empty());
    assert!(
        run(&csr(
            ALICE,
            "alice",
            &["dev"],
            "kubernetes.io/kube-apiserver-client"
        ))
        .is_empty()
    );
    assert!(
        run(&csr(
            ALICE,
            "system:kube-scheduler",
            &[],
            "kubernetes.io/kube-apiserver-client"
        )
        .code(403))
        .is_empty()
    );
    let unreadable = Ev::new(ALICE, "create")
        .on("certificates.k8s.io", "certificatesigningrequests", "", "")
        .request(json!({"spec": {"request": "bm90IGEgY3Ny"}}));
    assert!(run(&unreadable).is_empty());
}

fn approval(user: &str, condition: &str, common_name: &str) -> Ev {
    Ev::new(user, "update")
        .on("certificates.k8s.io", "certificatesigningrequests", "", "csr-x")
        .sub("approval")
        .request(json!({
            "metadata": {"name": "csr-x"},
            "spec": {"request": csr_request(common_name, &[]), "signerName": "kubernetes.io/kube-apiserver-client", "username": "mallory"},
            "status": {"conditions": [{"type": condition, "status": "True", "reason": "KubectlApprove"}]},
        }))
}

#[test]
fn csr_approved_by_a_person() {
    let finding = only(
        &run(&approval(ALICE, "Approved", "mallory")),
        "suspicious_csr",
    );
    assert_eq!(finding.severity, Severity::High);
    assert!(finding.reason.starts_with(
        "alice@example.com approved CSR csr-x (requested by mallory, kubernetes.io/kube-apiserver-client, for CN=mallory)"
    ), "{}", finding.reason);
    let finding = only(
        &run(&approval(ALICE, "Approved", "system:kube-scheduler")),
        "suspicious_csr",
    );
    assert_eq!(finding.severity, Severity::Critical);
}

#[test]
fn csr_approval_near_misses() {
    assert!(
        run(&approval(
            "system:kube-controller-manager",
            "Approved",
            "system:node:n1"
        ))
        .is_empty()
    );
    assert!(
        run(&approval(
            "system:serviceaccount:kube-system:certificate-controller",
            "Approved",
            "x"
        ))
        .is_empty()
    );
    assert!(run(&approval(ALICE, "Denied", "system:kube-scheduler")).is_empty());
    assert!(run(&approval(ALICE, "Approved", "x").code(403)).is_empty());
    let rules = rules_from("[suspicious_csr]\napprovers = [\"alice@example.com\"]\n");
    assert!(run_with(&rules, &approval(ALICE, "Approved", "x")).is_empty());
}
