//! Suggested least-privilege manifests from observed usage.
//!
//! Usage in a namespace becomes a `Role` + `RoleBinding` in that namespace; cluster-scoped
//! and all-namespace usage and non-resource URLs become a `ClusterRole` +
//! `ClusterRoleBinding`. One rule per API group and resource, with the verbs used. A
//! rule is limited with `resourceNames` when every request named an object and no verb
//! needs the whole collection (`list`, `watch`, `create`, `deletecollection`). A
//! websocket `get` on `pods/exec|attach|portforward` also gets `create`, which
//! kube-apiserver checks for it. Each rule carries its evidence as a YAML comment:
//! requests per verb and the last time.

use std::collections::{BTreeMap, BTreeSet};

use super::Usage;
use super::model::{SubjectKey, SubjectKind, service_account_parts};
use crate::yaml::{flow_list, object_name, quote};

#[derive(Default)]
struct RuleDraft {
    verbs: BTreeMap<String, (u64, String)>,
    names: BTreeSet<String>,
    every_request_named: bool,
    websocket_create: bool,
}

/// `(api group, resource)` or `("", url)` for non-resource rules.
type RuleKey = (bool, String, String);

/// Manifests as multi-document YAML; empty when `usages` is empty.
pub(crate) fn manifests(subject: &SubjectKey, usages: &[Usage]) -> String {
    // Scope: Some(namespace) for a Role, None for the ClusterRole.
    let mut scopes: BTreeMap<Option<String>, BTreeMap<RuleKey, RuleDraft>> = BTreeMap::new();
    for usage in usages {
        let permission = &usage.permission;
        let (scope, key) = if permission.is_resource() {
            let scope = (!permission.namespace.is_empty()).then(|| permission.namespace.clone());
            (
                scope,
                (
                    true,
                    permission.api_group.clone(),
                    permission.combined_resource(),
                ),
            )
        } else {
            (
                None,
                (false, String::new(), permission.non_resource_url.clone()),
            )
        };
        let draft = scopes
            .entry(scope)
            .or_default()
            .entry(key)
            .or_insert_with(|| RuleDraft {
                every_request_named: true,
                ..RuleDraft::default()
            });
        let stats = draft.verbs.entry(permission.verb.clone()).or_default();
        stats.0 += usage.count;
        if usage.last_used > stats.1 {
            stats.1 = usage.last_used.clone();
        }
        if permission.name.is_empty() {
            draft.every_request_named = false;
        } else {
            draft.names.insert(permission.name.clone());
        }
        draft.websocket_create |= permission.is_websocket_streaming_get();
    }
    if scopes.is_empty() {
        return String::new();
    }
    let base_name = object_name(&["harrier-least-privilege", &subject_short_name(subject)]);
    let mut out = format!(
        "# Least-privilege suggestion for {} from observed usage. Review before applying.\n",
        subject.describe()
    );
    for (scope, rules) in &scopes {
        let (role_kind, binding_kind) = match scope {
            Some(_) => ("Role", "RoleBinding"),
            None => ("ClusterRole", "ClusterRoleBinding"),
        };
        out.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\n");
        out.push_str(&format!(
            "kind: {role_kind}\nmetadata:\n  name: {base_name}\n"
        ));
        if let Some(namespace) = scope {
            out.push_str(&format!("  namespace: {}\n", quote(namespace)));
        }
        out.push_str("  annotations:\n    harrier.dev/generated-by: \"rbac-report\"\nrules:\n");
        for ((is_resource, group, resource), draft) in rules {
            out.push_str(&rule_yaml(*is_resource, group, resource, draft));
        }
        out.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\n");
        out.push_str(&format!(
            "kind: {binding_kind}\nmetadata:\n  name: {base_name}\n"
        ));
        if let Some(namespace) = scope {
            out.push_str(&format!("  namespace: {}\n", quote(namespace)));
        }
        out.push_str(&format!(
            "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {base_name}\nsubjects:\n"
        ));
        out.push_str(&subject_yaml(subject));
    }
    out
}

fn rule_yaml(is_resource: bool, group: &str, resource: &str, draft: &RuleDraft) -> String {
    let evidence: Vec<String> = draft
        .verbs
        .iter()
        .map(|(verb, (count, last))| format!("{verb} x{count} (last {last})"))
        .collect();
    let mut verbs: BTreeSet<String> = draft.verbs.keys().cloned().collect();
    let mut out = format!("# evidence: {}\n", evidence.join(", "));
    if draft.websocket_create && !verbs.contains("create") {
        out.push_str(
            "# create: kube-apiserver also checks it for exec/attach/portforward over websockets\n",
        );
        verbs.insert("create".to_owned());
    }
    let verbs: Vec<String> = verbs.into_iter().collect();
    if is_resource {
        out.push_str(&format!("- apiGroups: {}\n", flow_list(&[group])));
        out.push_str(&format!("  resources: {}\n", flow_list(&[resource])));
        let collection_verb = verbs.iter().any(|verb| {
            matches!(
                verb.as_str(),
                "list" | "watch" | "create" | "deletecollection"
            )
        });
        if draft.every_request_named && !collection_verb && !draft.names.is_empty() {
            let names: Vec<&String> = draft.names.iter().collect();
            out.push_str(&format!("  resourceNames: {}\n", flow_list(&names)));
        }
    } else {
        out.push_str(&format!("- nonResourceURLs: {}\n", flow_list(&[resource])));
    }
    out.push_str(&format!("  verbs: {}\n", flow_list(&verbs)));
    out
}

fn subject_yaml(subject: &SubjectKey) -> String {
    match (subject.kind, service_account_parts(&subject.name)) {
        (SubjectKind::ServiceAccount, Some((namespace, name))) => format!(
            "- kind: ServiceAccount\n  name: {}\n  namespace: {}\n",
            quote(name),
            quote(namespace)
        ),
        (kind, _) => format!(
            "- apiGroup: rbac.authorization.k8s.io\n  kind: {}\n  name: {}\n",
            kind.as_str(),
            quote(&subject.name)
        ),
    }
}

fn subject_short_name(subject: &SubjectKey) -> String {
    match service_account_parts(&subject.name) {
        Some((namespace, name)) => format!("{namespace}-{name}"),
        None => subject.name.clone(),
    }
}
