//! Tests of the grant model: matching, scoping and aggregation.

use super::*;

fn permission(
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
    ns: &str,
    name: &str,
) -> Permission {
    Permission {
        verb: verb.into(),
        api_group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.into(),
        name: name.into(),
        non_resource_url: String::new(),
    }
}

fn atom(ns: Option<&str>, verb: &str, group: &str, resource: &str, name: &str) -> GrantAtom {
    GrantAtom {
        namespace: ns.map(Into::into),
        verb: verb.into(),
        api_group: group.into(),
        resource: resource.into(),
        resource_name: name.into(),
        non_resource_url: String::new(),
    }
}

#[test]
fn resource_and_subresource_matching() {
    assert!(resource_matches("pods", "pods", ""));
    assert!(
        !resource_matches("pods", "pods", "exec"),
        "pods does not cover pods/exec"
    );
    assert!(resource_matches("pods/exec", "pods", "exec"));
    assert!(!resource_matches("pods/exec", "pods", ""));
    assert!(resource_matches("*/scale", "deployments", "scale"));
    assert!(!resource_matches("*/scale", "deployments", ""));
    assert!(
        !resource_matches("pods/*", "pods", "exec"),
        "no trailing wildcard on subresources"
    );
    assert!(resource_matches("*", "pods", "exec"));
}

#[test]
fn wildcards_names_and_scope_near_misses() {
    let get_secret = permission("get", "", "secrets", "", "shop", "db-creds");
    assert!(atom(Some("shop"), "get", "", "secrets", "db-creds").allows(&get_secret));
    assert!(!atom(Some("shop"), "get", "", "secrets", "other").allows(&get_secret));
    assert!(
        !atom(Some("shop"), "get", "", "secrets", "db-creds")
            .allows(&permission("list", "", "secrets", "", "shop", ""))
    );
    assert!(
        !atom(Some("shop"), "list", "", "secrets", "db-creds")
            .allows(&permission("list", "", "secrets", "", "shop", "")),
        "resourceNames never match a nameless list"
    );
    assert!(!atom(Some("other"), "get", "", "secrets", "").allows(&get_secret));
    assert!(atom(None, "get", "", "secrets", "").allows(&get_secret));
    assert!(atom(None, "*", "*", "*", "").allows(&get_secret));
    assert!(
        !atom(None, "get", "apps", "secrets", "").allows(&get_secret),
        "wrong group"
    );
    assert!(
        !atom(Some("shop"), "get", "", "nodes", "")
            .allows(&permission("get", "", "nodes", "", "", "n1")),
        "a RoleBinding never grants cluster-scoped"
    );
    assert!(
        !atom(Some("shop"), "list", "", "pods", "")
            .allows(&permission("list", "", "pods", "", "", "")),
        "nor all-namespace lists"
    );
}

#[test]
fn non_resource_urls() {
    let healthz = Permission {
        verb: "get".into(),
        non_resource_url: "/healthz/ready".into(),
        ..Default::default()
    };
    let atom = |url: &str| GrantAtom {
        verb: "get".into(),
        non_resource_url: url.into(),
        ..Default::default()
    };
    assert!(atom("/healthz/*").allows(&healthz));
    assert!(atom("/healthz*").allows(&healthz));
    assert!(atom("*").allows(&healthz));
    assert!(!atom("/healthz").allows(&healthz));
    assert!(!atom("/healthz/ready").allows(&permission("get", "", "healthz", "", "", "")));
    assert!(!atom("/healthz/*").allows(&Permission {
        verb: "post".into(),
        ..healthz.clone()
    }));
}

#[test]
fn websocket_exec_get_exercises_create_grants() {
    let exec_get = permission("get", "", "pods", "exec", "shop", "web-1");
    let create = atom(Some("shop"), "create", "", "pods/exec", "");
    assert!(!create.allows(&exec_get));
    assert!(create.exercised_by(&exec_get));
    assert!(!atom(Some("shop"), "create", "", "pods", "").exercised_by(&exec_get));
}

#[test]
fn service_account_usernames() {
    assert_eq!(
        service_account_parts("system:serviceaccount:ci:deployer"),
        Some(("ci", "deployer"))
    );
    assert_eq!(service_account_parts("system:serviceaccount:ci"), None);
    assert_eq!(SubjectKey::for_username("alice").kind, SubjectKind::User);
}
