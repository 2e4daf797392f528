//! Tests of the audit view, the rule configuration, and events several rules share.
//! Per rule: `tests_pod.rs` (pod specs), `tests_access.rs` (exec, nodes/proxy,
//! anonymous), `tests_rbac.rs` (roles, bindings, service accounts, tokens, CSRs).

use super::fixtures::{
    ALICE, Ev, anonymous, detectors, exec, find, fired, node_proxy, only, rules_from, run, run_with,
};
use super::{NAMES, RuleSet, spec};
use crate::audit::{self, AuditView};
use crate::finding::Severity;
use harrier_pdata::attrs::string_kv;
use serde_json::json;

// ---- the audit view ----

#[test]
fn view_reads_the_receiver_attributes() {
    let ev = Ev::new(ALICE, "create")
        .on("apps", "deployments", "shop", "web")
        .sub("scale")
        .groups(&["dev", "system:authenticated"])
        .impersonating("bob")
        .request(json!({"spec": {"replicas": 3, "list": [1, {"a": true}]}}))
        .response(json!({"status": {"replicas": 3}}));
    let attrs = ev.attrs();
    let view = AuditView::new(&attrs).unwrap();
    assert_eq!(
        view.audit_id(),
        Some("0b5f1c5e-8a3a-4f55-9c1d-3c2c1f0a9e11")
    );
    assert_eq!(view.stage(), Some("ResponseComplete"));
    assert_eq!(view.verb(), Some("create"));
    assert_eq!(view.user(), Some(ALICE));
    assert_eq!(view.groups(), vec!["dev", "system:authenticated"]);
    assert_eq!(view.impersonated_user(), Some("bob"));
    assert_eq!(view.source_address(), Some("10.0.0.7"));
    assert_eq!(view.user_agent(), Some("kubectl/v1.31.0"));
    assert_eq!(view.namespace(), Some("shop"));
    assert_eq!(view.resource(), Some("deployments"));
    assert_eq!(view.subresource(), Some("scale"));
    assert_eq!(view.api_group(), Some("apps"));
    assert_eq!(view.object_name(), Some("web"));
    assert_eq!(view.status_code(), Some(201));
    assert_eq!(view.decision(), Some("allow"));
    let request = view.request_object().unwrap();
    assert_eq!(
        audit::path(request, &["spec", "replicas"]).and_then(audit::as_i64),
        Some(3)
    );
    assert_eq!(
        audit::path(request, &["spec", "list", "1", "a"]).and_then(audit::as_bool),
        Some(true)
    );
    assert!(audit::path(request, &["spec", "list", "2"]).is_none());
    assert!(audit::path(request, &["spec", "replicas", "x"]).is_none());
    assert_eq!(
        audit::as_array(audit::path(request, &["spec", "list"]).unwrap()).len(),
        2
    );
    assert!(audit::as_array(request).is_empty());
    assert_eq!(audit::kv_entries(request).len(), 1);
    assert!(view.response_object().is_some());
    assert_eq!(
        view.attr("k8s.audit.level").and_then(audit::as_str),
        Some("RequestResponse")
    );
    assert!(view.attr("nope").is_none());
    // The core group has no attribute.
    let attrs = Ev::new(ALICE, "get").on("", "pods", "shop", "x").attrs();
    assert_eq!(AuditView::new(&attrs).unwrap().api_group(), None);
}

#[test]
fn view_only_for_audit_records() {
    assert!(AuditView::new(&[]).is_none());
    assert!(
        AuditView::new(&[
            string_kv("event.domain", "runtime"),
            string_kv("k8s.audit.verb", "get")
        ])
        .is_none()
    );
    assert!(AuditView::new(&[string_kv("event.domain", "k8s.audit")]).is_some());
}

#[test]
fn allowed_and_denied() {
    let view_of = |ev: &Ev, check: &dyn Fn(&AuditView<'_>)| {
        let attrs = ev.attrs();
        check(&AuditView::new(&attrs).unwrap());
    };
    let base = || Ev::new(ALICE, "get").on("", "pods", "shop", "x");
    view_of(&base(), &|v| assert!(v.is_allowed() && !v.is_denied()));
    view_of(&base().code(101), &|v| assert!(v.is_allowed()));
    view_of(&base().code(403), &|v| {
        assert!(v.is_denied() && !v.is_allowed())
    });
    view_of(&base().code(401).decision(""), &|v| assert!(v.is_denied()));
    view_of(&base().code(404), &|v| {
        assert!(!v.is_denied() && !v.is_allowed())
    });
    view_of(&base().code(500), &|v| assert!(!v.is_allowed()));
    view_of(&base().without("responseStatus"), &|v| {
        assert!(v.is_allowed())
    });
    view_of(&base().without("responseStatus").decision("forbid"), &|v| {
        assert!(v.is_denied() && !v.is_allowed())
    });
    view_of(
        &base().without("responseStatus").without("annotations"),
        &|v| assert!(!v.is_denied() && !v.is_allowed()),
    );
}

#[test]
fn double_as_integer() {
    let value = super::fixtures::json_to_any(&json!(3600.0));
    assert_eq!(audit::as_i64(&value), Some(3600));
    assert_eq!(
        audit::as_i64(&super::fixtures::json_to_any(&json!(1.5))),
        None
    );
    assert_eq!(audit::as_str(&value), None);
}

// ---- impersonation ----

#[test]
fn reasons_name_the_impersonated_user() {
    let ev = exec("shop", "create", "command=id").impersonating("system:serviceaccount:shop:web");
    let finding = only(&run(&ev), "pod_exec");
    assert!(
        finding.reason.starts_with(
            "alice@example.com (impersonating system:serviceaccount:shop:web) ran `id`"
        )
    );
}

// ---- configuration ----

#[test]
fn every_name_has_a_rule_and_is_enabled_by_default() {
    for name in NAMES {
        assert!(spec(name).is_some(), "{name}");
    }
    let defaults = RuleSet::default();
    assert_eq!(defaults.enabled().collect::<Vec<_>>(), NAMES.to_vec());
    assert_eq!(
        RuleSet::from_config(&detectors(""))
            .unwrap()
            .enabled()
            .count(),
        NAMES.len()
    );
}

#[test]
fn unknown_option_is_an_error_with_its_path() {
    let errors =
        RuleSet::from_config(&detectors("[token_request]\nmax_expiration = 600\n")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "detectors.token_request.max_expiration");
    assert!(
        errors[0].message.contains("unknown option"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].message.contains("max_expiration_seconds"),
        "{}",
        errors[0].message
    );
}

#[test]
fn wrong_values_are_errors_with_their_paths() {
    let text = r#"
[token_request]
max_expiration_seconds = "1d"
[pod_exec]
severity = "urgent"
enabled = "yes"
[sensitive_mount]
exempt_users = ["ok", 3]
[nodes_proxy]
exempt_namespaces = "kube-system"
"#;
    let errors = RuleSet::from_config(&detectors(text)).unwrap_err();
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        vec![
            "detectors.nodes_proxy.exempt_namespaces",
            "detectors.pod_exec.enabled",
            "detectors.pod_exec.severity",
            "detectors.sensitive_mount.exempt_users[1]",
            "detectors.token_request.max_expiration_seconds",
        ]
    );
    let zero = RuleSet::from_config(&detectors("[token_request]\nmax_expiration_seconds = 0\n"))
        .unwrap_err();
    assert_eq!(
        zero[0].path,
        "detectors.token_request.max_expiration_seconds"
    );
    let not_table = RuleSet::from_config(&detectors("pod_exec = true\n")).unwrap_err();
    assert_eq!(not_table[0].path, "detectors.pod_exec");
}

#[test]
fn other_detectors_tables_are_left_alone() {
    let rules = RuleSet::from_config(&detectors(
        "[novel_api_call]\nlearning_period = \"24h\"\n[rbac_denied_burst]\nwhatever = 1\n",
    ));
    assert!(rules.is_ok());
}

#[test]
fn enabled_false_silences_a_rule() {
    let rules = rules_from("[pod_exec]\nenabled = false\n");
    assert!(run_with(&rules, &exec("kube-system", "create", "command=sh")).is_empty());
    assert!(!rules.enabled().any(|n| n == "pod_exec"));
    // The others still run.
    assert!(fired(
        &run_with(&rules, &node_proxy("get", "/pods")),
        "nodes_proxy"
    ));
}

#[test]
fn severity_override_and_escalation() {
    let rules =
        rules_from("[pod_exec]\nseverity = \"low\"\n[nodes_proxy]\nseverity = \"critical\"\n");
    assert_eq!(
        only(
            &run_with(&rules, &exec("shop", "create", "command=sh")),
            "pod_exec"
        )
        .severity,
        Severity::Low
    );
    assert_eq!(
        only(
            &run_with(&rules, &exec("kube-system", "create", "command=sh")),
            "pod_exec"
        )
        .severity,
        Severity::Medium
    );
    assert_eq!(
        only(
            &run_with(&rules, &node_proxy("create", "/run/a/b/c")),
            "nodes_proxy"
        )
        .severity,
        Severity::Critical
    );
}

#[test]
fn exempt_users_and_namespaces() {
    let rules = rules_from(
        "[pod_exec]\nexempt_users = [\"oncall-*\", \"alice@example.com\"]\n[nodes_proxy]\nexempt_users = [\"system:serviceaccount:monitoring:prometheus\"]\n",
    );
    assert!(run_with(&rules, &exec("shop", "create", "command=sh")).is_empty());
    let oncall = Ev::new("oncall-bob", "create")
        .on("", "pods", "shop", "x")
        .sub("exec")
        .code(101);
    assert!(run_with(&rules, &oncall).is_empty());
    let prometheus = Ev::new("system:serviceaccount:monitoring:prometheus", "get")
        .on("", "nodes", "", "n1")
        .sub("proxy")
        .uri("/api/v1/nodes/n1/proxy/metrics/cadvisor");
    assert!(run_with(&rules, &prometheus).is_empty());

    let rules = rules_from("[pod_exec]\nexempt_namespaces = [\"sandbox\"]\n");
    assert!(run_with(&rules, &exec("sandbox", "create", "command=sh")).is_empty());
    assert!(fired(
        &run_with(&rules, &exec("shop", "create", "command=sh")),
        "pod_exec"
    ));
}

#[test]
fn one_event_can_fire_several_rules() {
    let ev = anonymous("create")
        .on("rbac.authorization.k8s.io", "clusterrolebindings", "", "")
        .request(json!({"metadata": {"name": "pwn"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "Group", "name": "system:anonymous"}]}));
    let findings = run(&ev);
    assert_eq!(
        find(&findings, "cluster_admin_binding").severity,
        Severity::Critical
    );
    assert_eq!(
        find(&findings, "anonymous_access").severity,
        Severity::Critical
    );
    assert_eq!(findings.len(), 2);
}

// ---- helpers ----

#[test]
fn percent_decoding() {
    use super::request::percent_decode;
    assert_eq!(percent_decode("cat%20%2Fetc%2Fshadow"), "cat /etc/shadow");
    assert_eq!(percent_decode("a+b"), "a b");
    assert_eq!(percent_decode("100%"), "100%");
    assert_eq!(percent_decode("%zz%4"), "%zz%4");
    assert_eq!(percent_decode("%C3%A9%FF"), "é\u{fffd}");
}

#[test]
fn image_repositories() {
    use super::pod_spec::image_repository;
    assert_eq!(image_repository("nginx"), "nginx");
    assert_eq!(image_repository("nginx:1.27"), "nginx");
    assert_eq!(
        image_repository("docker.io/calico/node:v3.28.0"),
        "docker.io/calico/node"
    );
    assert_eq!(image_repository("localhost:5000/app"), "localhost:5000/app");
    assert_eq!(
        image_repository("localhost:5000/app:2@sha256:ab"),
        "localhost:5000/app"
    );
}

#[test]
fn json_patch_synthesis() {
    use super::fixtures::json_to_any;
    use super::written::from_json_patch;
    let ops = json_to_any(&json!([
        {"op": "add", "path": "/metadata/annotations/a~1b", "value": "x"},
        {"op": "replace", "path": "/spec/containers/2/image", "value": "evil"},
        {"op": "add", "path": "/spec/containers/-", "value": {"name": "late"}},
        {"op": "add", "path": "/spec/containers/100000/image", "value": "ignored"},
        {"op": "test", "path": "/spec/hostPID", "value": true},
    ]));
    let object = from_json_patch(audit::as_array(&ops));
    assert_eq!(
        audit::path(&object, &["metadata", "annotations", "a/b"]).and_then(audit::as_str),
        Some("x")
    );
    let containers = audit::as_array(audit::path(&object, &["spec", "containers"]).unwrap());
    assert_eq!(containers.len(), 4);
    assert_eq!(
        audit::path(&containers[2], &["image"]).and_then(audit::as_str),
        Some("evil")
    );
    assert_eq!(
        audit::path(&containers[3], &["name"]).and_then(audit::as_str),
        Some("late")
    );
    assert!(audit::path(&object, &["spec", "hostPID"]).is_none());
    // The empty pointer is the whole document.
    let ops =
        json_to_any(&json!([{"op": "replace", "path": "", "value": {"spec": {"hostPID": true}}}]));
    let object = from_json_patch(audit::as_array(&ops));
    assert_eq!(
        audit::path(&object, &["spec", "hostPID"]).and_then(audit::as_bool),
        Some(true)
    );
}

#[test]
fn response_started_stage_counts_like_complete() {
    let started = exec("shop", "create", "command=sh").stage("ResponseStarted");
    assert!(fired(&run(&started), "pod_exec"));
}
