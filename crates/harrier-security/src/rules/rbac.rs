//! RBAC escalation rules: `rbac_wildcard_role` and `cluster_admin_binding`.
//!
//! **`rbac_wildcard_role`** fires on `create`, `update` and `patch` of Roles and
//! ClusterRoles (Falco: ClusterRole With Wildcard Created) whose rules grant:
//! `*` in `verbs`; a `*` in `resources` (also `pods/*`, `*/scale`); `*` in `apiGroups`
//! together with a write verb; or the verbs `escalate`, `bind` or `impersonate`, which
//! let the holder exceed its own permissions. `resourceNames` are not wildcards in RBAC
//! and are not looked at. Escalated (critical by default) for `*` verbs on `*`
//! resources in `*` API groups: a copy of `cluster-admin`. Default `exempt_users`:
//! [`ROLE_MANAGERS`] (the API server's bootstrap roles, the ClusterRole aggregation
//! controller).
//!
//! **`cluster_admin_binding`** fires on `create`, `update` and `patch` of RoleBindings
//! and ClusterRoleBindings whose `roleRef` names a ClusterRole in `roles` (option,
//! default `["cluster-admin"]`), or, for ClusterRoleBindings only, in
//! `cluster_wide_roles` (option, default `["admin"]`: namespace admin in every
//! namespace). The `roleRef` is taken from the request object, else the response
//! object (a patch that only adds subjects). Default `exempt_users`:
//! [`BINDING_MANAGERS`].

use super::identity::actor;
use super::options::Options;
use super::request::{join_limited, object_label, past_tense};
use super::{Hit, Rule, written};
use crate::audit::{self, AuditView};
use harrier_pdata::otlp::common::v1::AnyValue;

/// The RBAC API group.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Identities that write roles as part of running the cluster.
pub const ROLE_MANAGERS: &[&str] = &[
    "system:apiserver",
    "system:kube-controller-manager",
    "system:serviceaccount:kube-system:clusterrole-aggregation-controller",
];

/// Identities that write bindings as part of running the cluster.
pub const BINDING_MANAGERS: &[&str] = &["system:apiserver"];

/// Verbs that let a role holder exceed its own permissions.
const ESCALATION_VERBS: &[&str] = &["escalate", "bind", "impersonate"];

/// Verbs that change state.
const WRITE_VERBS: &[&str] = &[
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];

const MAX_LISTED: usize = 4;

pub(crate) fn build_wildcard(_options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(WildcardRole)
}

pub(crate) fn build_admin_binding(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(AdminBinding {
        roles: options.strings("roles", &["cluster-admin"]),
        cluster_wide_roles: options.strings("cluster_wide_roles", &["admin"]),
    })
}

fn strings<'v>(value: &'v AnyValue, key: &str) -> Vec<&'v str> {
    audit::path(value, &[key])
        .map(audit::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(audit::as_str)
        .collect()
}

fn is_rbac_write(event: &AuditView<'_>, resources: &[&str]) -> bool {
    event.api_group() == Some(RBAC_GROUP)
        && event.subresource().is_none()
        && event.resource().is_some_and(|r| resources.contains(&r))
        && matches!(event.verb(), Some("create" | "update" | "patch"))
}

/// `clusterrole`, `rolebinding`, ... for a reason.
fn kind_label(resource: &str) -> &str {
    resource.strip_suffix('s').unwrap_or(resource)
}

#[derive(Debug)]
struct WildcardRole;

impl Rule for WildcardRole {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if !is_rbac_write(event, &["roles", "clusterroles"]) {
            return None;
        }
        let object = written::changed_object(event)?;
        let rules = audit::path(&object, &["rules"]).map(audit::as_array)?;
        let mut problems = Vec::new();
        let mut escalated = false;
        for rule in rules {
            let verbs = strings(rule, "verbs");
            let resources = strings(rule, "resources");
            let groups = strings(rule, "apiGroups");
            let on = if resources.is_empty() {
                let urls = strings(rule, "nonResourceURLs");
                format!("URLs {}", urls.join(","))
            } else {
                format!("resources {}", resources.join(","))
            };
            let wild_verbs = verbs.contains(&"*");
            let wild_resources: Vec<&str> = resources
                .iter()
                .copied()
                .filter(|r| r.contains('*'))
                .collect();
            let wild_groups = groups.contains(&"*");
            let writes = verbs.iter().any(|v| WRITE_VERBS.contains(v));
            if wild_verbs && wild_groups && resources.contains(&"*") {
                escalated = true;
                problems.push("every verb on every resource in every API group".to_string());
                continue;
            }
            if wild_verbs {
                problems.push(format!("verbs * on {on}"));
            }
            if !wild_resources.is_empty() {
                problems.push(format!(
                    "resources {} (verbs {})",
                    wild_resources.join(","),
                    verbs.join(",")
                ));
            }
            if wild_groups && writes && !wild_verbs && wild_resources.is_empty() {
                problems.push(format!(
                    "apiGroups * with write verbs {} on {on}",
                    verbs.join(",")
                ));
            }
            let dangerous: Vec<&str> = verbs
                .iter()
                .copied()
                .filter(|v| ESCALATION_VERBS.contains(v))
                .collect();
            if !dangerous.is_empty() {
                problems.push(format!("verbs {} on {on}", dangerous.join(",")));
            }
        }
        if problems.is_empty() {
            return None;
        }
        let reason = format!(
            "{} {} {} {} granting {}: wildcards grant every current and future permission, escalate/bind/impersonate let the holder exceed its own",
            actor(event),
            past_tense(event.verb().unwrap_or_default()),
            kind_label(event.resource().unwrap_or_default()),
            object_label(event),
            join_limited(&problems, MAX_LISTED),
        );
        Some(Hit::new(escalated, reason))
    }
}

#[derive(Debug)]
struct AdminBinding {
    roles: Vec<String>,
    cluster_wide_roles: Vec<String>,
}

impl Rule for AdminBinding {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if !is_rbac_write(event, &["rolebindings", "clusterrolebindings"]) {
            return None;
        }
        let cluster_wide = event.resource() == Some("clusterrolebindings");
        let object = written::changed_object(event);
        let role_ref = object
            .as_deref()
            .and_then(|o| audit::path(o, &["roleRef"]))
            .or_else(|| {
                event
                    .response_object()
                    .and_then(|o| audit::path(o, &["roleRef"]))
            })?;
        let field = |key| audit::path(role_ref, &[key]).and_then(audit::as_str);
        let role = field("name")?;
        if field("kind").is_some_and(|kind| kind != "ClusterRole") {
            return None;
        }
        let matched = self.roles.iter().any(|r| r == role)
            || (cluster_wide && self.cluster_wide_roles.iter().any(|r| r == role));
        if !matched {
            return None;
        }
        let subjects_of = |o: &AnyValue| -> Vec<String> {
            audit::path(o, &["subjects"])
                .map(audit::as_array)
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    let f = |key| {
                        audit::path(s, &[key])
                            .and_then(audit::as_str)
                            .unwrap_or("?")
                    };
                    match (
                        f("kind"),
                        audit::path(s, &["namespace"]).and_then(audit::as_str),
                    ) {
                        ("ServiceAccount", Some(ns)) => {
                            format!("ServiceAccount {ns}/{}", f("name"))
                        }
                        (kind, _) => format!("{kind} {}", f("name")),
                    }
                })
                .collect()
        };
        let mut subjects = object.as_deref().map(subjects_of).unwrap_or_default();
        if subjects.is_empty() {
            subjects = event.response_object().map(subjects_of).unwrap_or_default();
        }
        let subjects = if subjects.is_empty() {
            "its subjects".to_string()
        } else {
            join_limited(&subjects, MAX_LISTED)
        };
        let full_admin = self.roles.iter().any(|r| r == role);
        let scope = match (cluster_wide, full_admin, event.namespace()) {
            (true, true, _) => "the whole cluster".to_string(),
            (true, false, _) => "every namespace".to_string(),
            (false, _, Some(ns)) => format!("namespace {ns}"),
            (false, _, None) => "its namespace".to_string(),
        };
        let reason = format!(
            "{} {} {} {} binding {subjects} to ClusterRole {role}: full control of {scope}",
            actor(event),
            past_tense(event.verb().unwrap_or_default()),
            kind_label(event.resource().unwrap_or_default()),
            object_label(event),
        );
        Some(Hit::new(false, reason))
    }
}
