//! Tests of `pod_exec`, `nodes_proxy` and `anonymous_access`.

use super::fixtures::{
    ALICE, Ev, anonymous, exec, fired, node_proxy, only, rules_from, run, run_with,
};
use crate::finding::Severity;
use serde_json::json;

// ---- pod_exec ----

#[test]
fn exec_is_medium_and_quotes_the_command() {
    let finding = only(
        &run(&exec(
            "shop",
            "create",
            "command=sh&command=-c&command=cat%20%2Fetc%2Fshadow&container=app&stdin=true&tty=true",
        )),
        "pod_exec",
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.reason,
        "alice@example.com ran `sh -c cat /etc/shadow` in pod shop/web-1 (container `app`) through pods/exec: interactive access inside a running workload"
    );
}

#[test]
fn exec_over_websockets_arrives_as_get() {
    let finding = only(&run(&exec("shop", "get", "command=bash")), "pod_exec");
    assert!(finding.reason.contains("`bash`") && finding.reason.contains("over a websocket"));
}

#[test]
fn exec_into_kube_system_is_high() {
    let finding = only(
        &run(&exec("kube-system", "create", "command=sh")),
        "pod_exec",
    );
    assert_eq!(finding.severity, Severity::High);
    assert!(
        finding
            .reason
            .ends_with("in a namespace of control-plane components")
    );
}

#[test]
fn attach_portforward_and_debug() {
    let attach = Ev::new(ALICE, "create")
        .on("", "pods", "shop", "web-1")
        .sub("attach")
        .code(101);
    assert!(
        only(&run(&attach), "pod_exec")
            .reason
            .contains("attached to pod shop/web-1 through pods/attach")
    );
    let forward = Ev::new(ALICE, "get")
        .on("", "pods", "db", "pg-0")
        .sub("portforward")
        .uri("/api/v1/namespaces/db/pods/pg-0/portforward?ports=5432")
        .code(101);
    assert!(
        only(&run(&forward), "pod_exec")
            .reason
            .contains("port-forwarded to pod db/pg-0 (ports 5432)")
    );
    let debug = Ev::new(ALICE, "patch")
        .on("", "pods", "shop", "web-1")
        .sub("ephemeralcontainers")
        .request(json!({"spec": {"ephemeralContainers": [{"name": "debugger-x", "image": "busybox:1.36"}]}}));
    assert!(
        only(&run(&debug), "pod_exec")
            .reason
            .contains("added an ephemeral container running `busybox:1.36` to pod shop/web-1")
    );
}

#[test]
fn exec_near_misses() {
    assert!(run(&exec("shop", "create", "command=sh").code(403)).is_empty());
    assert!(run(&Ev::new(ALICE, "get").on("", "pods", "shop", "web-1")).is_empty());
    assert!(
        run(&Ev::new(ALICE, "get")
            .on("", "pods", "shop", "web-1")
            .sub("log"))
        .is_empty()
    );
    assert!(
        run(&Ev::new(ALICE, "get")
            .on("", "pods", "shop", "web-1")
            .sub("ephemeralcontainers"))
        .is_empty()
    );
    assert!(run(&Ev::new(ALICE, "list").on("", "pods", "shop", "")).is_empty());
    // RequestReceived: no outcome yet.
    let received = exec("shop", "create", "command=sh")
        .stage("RequestReceived")
        .without("responseStatus")
        .without("annotations");
    assert!(run(&received).is_empty());
}

// ---- nodes_proxy ----

#[test]
fn nodes_proxy_is_high() {
    let finding = only(&run(&node_proxy("get", "/pods")), "nodes_proxy");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.reason,
        "alice@example.com called the kubelet of node worker-1 through nodes/proxy (get /pods): the kubelet API is reachable around pod-level authorization"
    );
}

#[test]
fn kubelet_run_through_nodes_proxy_is_critical() {
    let finding = only(
        &run(&node_proxy(
            "create",
            "/run/kube-system/etcd-cp-1/etcd?cmd=id",
        )),
        "nodes_proxy",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding
            .reason
            .contains("(create /run/kube-system/etcd-cp-1/etcd)")
    );
    assert_eq!(
        only(&run(&node_proxy("get", "/exec/ns/pod/c")), "nodes_proxy").severity,
        Severity::Critical
    );
    // `/runtime...` is not `/run`.
    assert_eq!(
        only(&run(&node_proxy("get", "/runningpods/")), "nodes_proxy").severity,
        Severity::High
    );
}

#[test]
fn nodes_proxy_near_misses() {
    assert!(
        run(&Ev::new(ALICE, "patch")
            .on("", "nodes", "", "worker-1")
            .sub("status"))
        .is_empty()
    );
    assert!(run(&Ev::new(ALICE, "get").on("", "nodes", "", "worker-1")).is_empty());
    assert!(run(&node_proxy("get", "/pods").code(403)).is_empty());
    // `services/proxy` is a different thing.
    assert!(
        run(&Ev::new(ALICE, "get")
            .on("", "services", "shop", "web")
            .sub("proxy"))
        .is_empty()
    );
}

// ---- anonymous_access ----

#[test]
fn anonymous_read_is_high_and_secrets_critical() {
    let finding = only(&run(&anonymous("get").uri("/api")), "anonymous_access");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.reason,
        "system:anonymous was allowed to get /api (HTTP 200) without authenticating: anonymous requests should reach only health and version endpoints"
    );
    let finding = only(
        &run(&anonymous("list").on("", "secrets", "kube-system", "")),
        "anonymous_access",
    );
    assert_eq!(finding.severity, Severity::Critical);
    assert!(
        finding
            .reason
            .contains("allowed to list secrets in kube-system")
    );
    assert_eq!(
        only(
            &run(&anonymous("create").on("", "configmaps", "shop", "")),
            "anonymous_access"
        )
        .severity,
        Severity::Critical
    );
}

#[test]
fn anonymous_health_endpoints_and_refusals() {
    for uri in [
        "/healthz",
        "/healthz?verbose",
        "/livez",
        "/readyz/ping",
        "/version",
        "/version/",
    ] {
        assert!(run(&anonymous("get").uri(uri)).is_empty(), "{uri}");
    }
    assert!(fired(
        &run(&anonymous("get").uri("/healthzz")),
        "anonymous_access"
    ));
    assert!(run(&anonymous("get").on("", "pods", "shop", "").code(403)).is_empty());
    assert!(run(&anonymous("get").uri("/api").code(401)).is_empty());
    // A member of system:unauthenticated under another name.
    let ev = Ev::new("anonymous-proxy", "get")
        .groups(&["system:unauthenticated"])
        .uri("/apis");
    assert!(fired(&run(&ev), "anonymous_access"));
    // Authenticated users are not anonymous.
    assert!(run(&Ev::new(ALICE, "get").uri("/api")).is_empty());
}

#[test]
fn anonymous_allowed_paths_option() {
    let rules = rules_from(
        "[anonymous_access]\nallowed_paths = [\"/healthz\", \"/.well-known/openid-configuration\"]\n",
    );
    assert!(
        run_with(
            &rules,
            &anonymous("get").uri("/.well-known/openid-configuration")
        )
        .is_empty()
    );
    assert!(fired(
        &run_with(&rules, &anonymous("get").uri("/version")),
        "anonymous_access"
    ));
}
