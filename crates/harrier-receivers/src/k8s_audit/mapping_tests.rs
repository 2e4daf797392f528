//! Unit tests of the mapping, field by field, for every event of the fixtures in
//! `testdata/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::k8s_audit::test_support::*;
use harrier_pdata::otlp::common::v1::any_value::Value;

#[test]
fn get_pod_maps_every_field() {
    let r = map(&fixture("reads")[1]);
    assert_eq!(r.time_unix_nano, at(9, 14, 3, 519_874));
    assert_eq!(r.time_unix_nano, 1_718_097_243_519_874_000);
    assert_eq!(r.observed_time_unix_nano, OBSERVED);
    assert_eq!(r.severity_number, 9);
    assert_eq!(r.severity_text, "INFO");
    assert_eq!(
        body(&r),
        "alice@example.com get pods shop/checkout-5d9c7b8f4-x2x8k -> 200"
    );
    assert_eq!(
        keys(&r),
        [
            "event.domain",
            "k8s.audit.id",
            "k8s.audit.stage",
            "k8s.audit.level",
            "k8s.audit.verb",
            "user.name",
            "k8s.audit.user.groups",
            "source.address",
            "k8s.audit.source_ips",
            "user_agent.original",
            "k8s.namespace.name",
            "k8s.audit.resource",
            "k8s.audit.api_version",
            "k8s.audit.object_name",
            "url.path",
            "http.response.status_code",
            "k8s.audit.decision",
            "k8s.audit.reason",
        ]
    );
    assert_eq!(s(&r, "event.domain"), "k8s.audit");
    assert_eq!(
        s(&r, "k8s.audit.id"),
        "4d2f0b6e-8a7c-4f47-9e0b-2f1c3a5d7e91"
    );
    assert_eq!(s(&r, "k8s.audit.stage"), "ResponseComplete");
    assert_eq!(s(&r, "k8s.audit.level"), "Metadata");
    assert_eq!(s(&r, "k8s.audit.verb"), "get");
    assert_eq!(s(&r, "user.name"), "alice@example.com");
    assert_eq!(
        strings(&r, "k8s.audit.user.groups"),
        ["developers", "system:authenticated"]
    );
    assert_eq!(s(&r, "source.address"), "10.0.12.7");
    assert_eq!(strings(&r, "k8s.audit.source_ips"), ["10.0.12.7"]);
    assert_eq!(
        s(&r, "user_agent.original"),
        "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
    );
    assert_eq!(s(&r, "k8s.namespace.name"), "shop");
    assert_eq!(s(&r, "k8s.audit.resource"), "pods");
    assert_eq!(s(&r, "k8s.audit.api_version"), "v1");
    assert_eq!(s(&r, "k8s.audit.object_name"), "checkout-5d9c7b8f4-x2x8k");
    assert_eq!(
        s(&r, "url.path"),
        "/api/v1/namespaces/shop/pods/checkout-5d9c7b8f4-x2x8k"
    );
    assert_eq!(
        attr(&r, "http.response.status_code"),
        Some(&Value::IntValue(200))
    );
    assert_eq!(s(&r, "k8s.audit.decision"), "allow");
    assert_eq!(
        s(&r, "k8s.audit.reason"),
        "RBAC: allowed by RoleBinding \"developers-view/shop\" of ClusterRole \"view\" to Group \"developers\""
    );
}

#[test]
fn request_received_is_filtered_by_default_and_mapped_when_kept() {
    let event = &fixture("reads")[0];
    assert_eq!(default_mapper().map(event.clone(), 0), Outcome::Filtered);
    let all = Mapper::new(vec![Stage::RequestReceived], true, None);
    let Outcome::Record(r) = all.map(event.clone(), OBSERVED) else {
        panic!("kept")
    };
    assert_eq!(
        body(&r),
        "alice@example.com get pods shop/checkout-5d9c7b8f4-x2x8k"
    );
    assert_eq!(s(&r, "k8s.audit.stage"), "RequestReceived");
    assert_eq!(r.time_unix_nano, at(9, 14, 3, 514_263));
    assert_eq!(r.severity_text, "INFO");
    assert!(attr(&r, "http.response.status_code").is_none());
    assert!(attr(&r, "k8s.audit.decision").is_none());
}

#[test]
fn list_in_a_namespace_has_no_object_name() {
    let r = map(&fixture("reads")[2]);
    assert_eq!(
        body(&r),
        "system:serviceaccount:monitoring:prometheus list pods kube-system -> 200"
    );
    assert!(attr(&r, "k8s.audit.object_name").is_none());
    assert_eq!(s(&r, "k8s.namespace.name"), "kube-system");
    assert_eq!(
        s(&r, "url.path"),
        "/api/v1/namespaces/kube-system/pods?limit=500"
    );
    assert_eq!(
        strings(&r, "k8s.audit.user.groups"),
        [
            "system:serviceaccounts",
            "system:serviceaccounts:monitoring",
            "system:authenticated"
        ]
    );
    assert_eq!(s(&r, "user_agent.original"), "prometheus/2.53.0");
    assert_eq!(r.time_unix_nano, at(9, 14, 5, 10_458));
}

#[test]
fn create_deployment_carries_request_and_response_objects() {
    let event = &fixture("write")[0];
    let r = map(event);
    assert_eq!(
        body(&r),
        "system:serviceaccount:ci:deployer create deployments shop/checkout -> 201"
    );
    assert_eq!(r.severity_text, "INFO");
    assert_eq!(r.time_unix_nano, at(9, 15, 41, 139_786));
    assert_eq!(s(&r, "k8s.audit.level"), "RequestResponse");
    assert_eq!(s(&r, "k8s.audit.verb"), "create");
    assert_eq!(s(&r, "k8s.audit.api_group"), "apps");
    assert_eq!(s(&r, "k8s.audit.api_version"), "v1");
    assert_eq!(s(&r, "k8s.audit.object_name"), "checkout");
    assert_eq!(s(&r, "source.address"), "192.168.49.1");
    assert_eq!(
        strings(&r, "k8s.audit.source_ips"),
        ["192.168.49.1", "10.0.0.4"]
    );
    assert_eq!(
        attr(&r, "http.response.status_code"),
        Some(&Value::IntValue(201))
    );
    assert!(attr(&r, "k8s.audit.response.reason").is_none());
    assert!(attr(&r, "k8s.audit.subresource").is_none());
    let req = attr(&r, "k8s.audit.request_object").unwrap();
    assert_eq!(
        dig(req, &["kind"]),
        &Value::StringValue("Deployment".into())
    );
    assert_eq!(dig(req, &["spec", "replicas"]), &Value::IntValue(3));
    assert_eq!(
        dig(req, &["metadata", "labels", "app"]),
        &Value::StringValue("checkout".into())
    );
    assert_eq!(
        dig(
            req,
            &[
                "spec",
                "template",
                "spec",
                "containers",
                "0",
                "ports",
                "0",
                "containerPort"
            ]
        ),
        &Value::IntValue(8080)
    );
    assert_eq!(
        dig(req, &["spec", "strategy"]),
        &Value::KvlistValue(Default::default())
    );
    let resp = attr(&r, "k8s.audit.response_object").unwrap();
    assert_eq!(
        dig(resp, &["metadata", "uid"]),
        &Value::StringValue("3f8e2d1c-0b9a-4877-a6c5-d4e3f2a1b0c9".into())
    );
    assert_eq!(dig(resp, &["metadata", "generation"]), &Value::IntValue(1));
    assert_eq!(dig(resp, &["spec", "paused"]), &Value::BoolValue(false));

    let without = Mapper::new(vec![Stage::ResponseComplete], false, None);
    let Outcome::Record(r) = without.map(event.clone(), 0) else {
        panic!("kept")
    };
    assert!(attr(&r, "k8s.audit.request_object").is_none());
    assert!(attr(&r, "k8s.audit.response_object").is_none());
}

#[test]
fn forbidden_is_a_warning_with_the_decision() {
    let r = map(&fixture("forbidden")[0]);
    assert_eq!(r.severity_number, 13);
    assert_eq!(r.severity_text, "WARN");
    assert_eq!(
        body(&r),
        "dev-intern get secrets kube-system/bootstrap-token-abcdef -> 403"
    );
    assert_eq!(
        attr(&r, "http.response.status_code"),
        Some(&Value::IntValue(403))
    );
    assert_eq!(s(&r, "k8s.audit.response.reason"), "Forbidden");
    assert_eq!(s(&r, "k8s.audit.decision"), "forbid");
    assert!(
        attr(&r, "k8s.audit.reason").is_none(),
        "an empty reason is left out"
    );
    assert_eq!(
        strings(&r, "k8s.audit.user.groups"),
        ["system:authenticated"]
    );
    assert_eq!(r.time_unix_nano, at(9, 16, 10, 448_003));
}

#[test]
fn exec_over_spdy_and_websocket() {
    let events = fixture("exec");
    assert_eq!(
        default_mapper().map(events[0].clone(), 0),
        Outcome::Filtered
    );
    let spdy = map(&events[1]);
    assert_eq!(
        body(&spdy),
        "alice@example.com create pods/exec shop/checkout-5d9c7b8f4-x2x8k -> 101"
    );
    assert_eq!(s(&spdy, "k8s.audit.verb"), "create");
    assert_eq!(s(&spdy, "k8s.audit.resource"), "pods");
    assert_eq!(s(&spdy, "k8s.audit.subresource"), "exec");
    assert_eq!(s(&spdy, "k8s.audit.level"), "RequestResponse");
    assert_eq!(
        attr(&spdy, "http.response.status_code"),
        Some(&Value::IntValue(101))
    );
    assert_eq!(spdy.severity_text, "INFO");
    assert_eq!(spdy.time_unix_nano, at(9, 21, 42, 905_117));
    assert!(attr(&spdy, "k8s.audit.request_object").is_none());
    let ws = map(&events[2]);
    assert_eq!(
        body(&ws),
        "bob@example.com get pods/exec shop/cart-6b8d9f7c5-q9w8e -> 101"
    );
    assert_eq!(s(&ws, "k8s.audit.verb"), "get");
    assert_eq!(s(&ws, "k8s.audit.subresource"), "exec");
    assert_eq!(s(&ws, "k8s.audit.object_name"), "cart-6b8d9f7c5-q9w8e");
    assert_eq!(
        s(&ws, "url.path"),
        "/api/v1/namespaces/shop/pods/cart-6b8d9f7c5-q9w8e/exec?command=%2Fbin%2Fbash&container=app&stdin=true&stdout=true&tty=true"
    );
    assert_eq!(
        s(&ws, "k8s.audit.id"),
        "6f5e4d3c-2b1a-4098-8765-43210fedcba9"
    );
}

#[test]
fn impersonation_names_both_users() {
    let r = map(&fixture("impersonation")[0]);
    assert_eq!(body(&r), "kubernetes-admin list configmaps shop -> 200");
    assert_eq!(s(&r, "user.name"), "kubernetes-admin");
    assert_eq!(
        s(&r, "k8s.audit.impersonated_user"),
        "system:serviceaccount:shop:checkout"
    );
    assert_eq!(
        strings(&r, "k8s.audit.user.groups"),
        ["kubeadm:cluster-admins", "system:authenticated"]
    );
    assert_eq!(s(&r, "source.address"), "172.18.0.1");
    assert_eq!(r.time_unix_nano, at(9, 20, 15, 306_512));
}

#[test]
fn anonymous_and_failed_authentication() {
    let events = fixture("anonymous");
    let r = map(&events[0]);
    assert_eq!(body(&r), "system:anonymous list secrets kube-system -> 403");
    assert_eq!(s(&r, "user.name"), "system:anonymous");
    assert_eq!(
        strings(&r, "k8s.audit.user.groups"),
        ["system:unauthenticated"]
    );
    assert_eq!(r.severity_text, "WARN");
    assert_eq!(s(&r, "k8s.audit.decision"), "forbid");
    assert_eq!(s(&r, "user_agent.original"), "curl/8.5.0");
    // kube-apiserver records a failed authentication only at ResponseStarted.
    assert_eq!(
        default_mapper().map(events[1].clone(), 0),
        Outcome::Filtered
    );
    let started = Mapper::new(vec![Stage::ResponseStarted], true, None);
    let Outcome::Record(r) = started.map(events[1].clone(), OBSERVED) else {
        panic!("kept")
    };
    assert_eq!(body(&r), "list pods -> 401");
    assert_eq!(r.severity_number, 13);
    assert_eq!(
        keys(&r),
        [
            "event.domain",
            "k8s.audit.id",
            "k8s.audit.stage",
            "k8s.audit.level",
            "k8s.audit.verb",
            "source.address",
            "k8s.audit.source_ips",
            "user_agent.original",
            "k8s.audit.resource",
            "k8s.audit.api_version",
            "url.path",
            "http.response.status_code",
        ]
    );
}

#[test]
fn panic_is_an_error() {
    let r = map(&fixture("panic")[0]);
    assert_eq!(r.severity_number, 17);
    assert_eq!(r.severity_text, "ERROR");
    assert_eq!(
        body(&r),
        "system:serviceaccount:shop:crontab-operator update crontabs shop/nightly-report -> 500"
    );
    assert_eq!(s(&r, "k8s.audit.stage"), "Panic");
    assert_eq!(s(&r, "k8s.audit.response.reason"), "InternalError");
    assert_eq!(s(&r, "k8s.audit.api_group"), "stable.example.com");
    assert_eq!(
        attr(&r, "http.response.status_code"),
        Some(&Value::IntValue(500))
    );
    // A 5xx without a panic is an error too; a panic without a code as well.
    let mut event = fixture("reads")[1].clone();
    event.response_status.as_mut().unwrap().code = 503;
    assert_eq!(map(&event).severity_text, "ERROR");
    let mut event = fixture("panic")[0].clone();
    event.response_status = None;
    assert_eq!(map(&event).severity_number, 17);
}

#[test]
fn non_resource_request_shows_the_uri() {
    let r = map(&fixture("nonresource")[0]);
    assert_eq!(body(&r), "system:anonymous get /healthz -> 200");
    assert_eq!(s(&r, "url.path"), "/healthz");
    for absent in [
        "k8s.namespace.name",
        "k8s.audit.resource",
        "k8s.audit.api_version",
        "k8s.audit.object_name",
        "k8s.audit.impersonated_user",
    ] {
        assert!(attr(&r, absent).is_none(), "{absent}");
    }
    assert_eq!(s(&r, "user_agent.original"), "kube-probe/1.30");
}

#[test]
fn stage_filter_keeps_one_record_per_request() {
    let all: Vec<Event> = [
        "reads",
        "write",
        "forbidden",
        "exec",
        "impersonation",
        "anonymous",
        "panic",
        "nonresource",
    ]
    .iter()
    .flat_map(|f| fixture(f))
    .collect();
    assert_eq!(all.len(), 13);
    let count = |m: &Mapper| {
        all.iter()
            .filter(|e| matches!(m.map((*e).clone(), 0), Outcome::Record(_)))
            .count()
    };
    assert_eq!(count(&default_mapper()), 10);
    assert_eq!(
        count(&Mapper::new(vec![Stage::RequestReceived], true, None)),
        1
    );
    assert_eq!(
        count(&Mapper::new(vec![Stage::ResponseStarted], true, None)),
        2
    );
    assert_eq!(count(&Mapper::new(vec![Stage::Panic], true, None)), 1);
}

#[test]
fn events_missing_required_fields_are_rejected() {
    let base = fixture("reads")[1].clone();
    let mut e = base.clone();
    e.audit_id.clear();
    assert_eq!(default_mapper().map(e, 0), Outcome::Rejected("auditID"));
    let mut e = base.clone();
    e.stage.clear();
    assert_eq!(default_mapper().map(e, 0), Outcome::Rejected("stage"));
    let mut e = base;
    e.verb.clear();
    assert_eq!(default_mapper().map(e, 0), Outcome::Rejected("verb"));
}

#[test]
fn time_falls_back_to_request_received() {
    let mut e = fixture("reads")[1].clone();
    e.stage_timestamp.clear();
    assert_eq!(map(&e).time_unix_nano, at(9, 14, 3, 514_263));
    e.request_received_timestamp = "yesterday".into();
    assert_eq!(map(&e).time_unix_nano, 0);
}

#[test]
fn batch_is_one_resource_with_the_cluster_name() {
    let records = vec![map(&fixture("reads")[1]), map(&fixture("write")[0])];
    let Batch::Logs(rl) = default_mapper().batch(records) else {
        panic!()
    };
    assert_eq!(rl.len(), 1);
    let attrs = &rl[0].resource.as_ref().unwrap().attributes;
    assert_eq!(
        harrier_pdata::attrs::get_str(attrs, "service.name"),
        Some("kube-apiserver")
    );
    assert_eq!(
        harrier_pdata::attrs::get_str(attrs, "k8s.cluster.name"),
        Some("prod-eu-1")
    );
    assert_eq!(rl[0].scope_logs.len(), 1);
    assert_eq!(rl[0].scope_logs[0].log_records.len(), 2);
    assert_eq!(rl[0].scope_logs[0].scope.as_ref().unwrap().name, SCOPE_NAME);
    let Batch::Logs(rl) = Mapper::new(vec![], true, None).batch(vec![]) else {
        panic!()
    };
    let attrs = &rl[0].resource.as_ref().unwrap().attributes;
    assert!(harrier_pdata::attrs::get(attrs, "k8s.cluster.name").is_none());
}
