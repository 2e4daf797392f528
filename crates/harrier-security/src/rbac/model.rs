//! The grant model: what the RBAC authorizer would allow, flattened into
//! [`GrantAtom`]s per subject, and the concrete [`Permission`]s requests exercise.
//!
//! Matching follows the RBAC authorizer (`k8s.io/kubernetes/pkg/apis/rbac/v1`
//! helpers):
//!
//! - a verb, API group or resource of `*` matches anything; `*/sub` matches the
//!   subresource `sub` of any resource; `pods` does **not** match `pods/exec`;
//! - a rule with `resourceNames` matches only requests that name one of them, so never
//!   `list`, `watch`, `create` or `deletecollection` without a name;
//! - a non-resource URL matches exactly, or by prefix when it ends in `*`; non-resource
//!   rules only take effect through a ClusterRoleBinding;
//! - a ClusterRoleBinding grants cluster-wide (all namespaces and cluster-scoped
//!   resources); a RoleBinding grants only inside its own namespace, also when it refers
//!   to a ClusterRole, and never grants cluster-scoped resources or all-namespace
//!   requests;
//! - an aggregated ClusterRole (`aggregationRule.clusterRoleSelectors`) has its own rules
//!   plus the rules of every ClusterRole whose labels match a selector, transitively.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::k8s::audit::AuditEvent;
use crate::k8s::rbac::{Binding, PolicyRule, RbacObjects, Role};

/// The kind of an RBAC subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SubjectKind {
    /// A user (`user.username` in audit events).
    User,
    /// A group.
    Group,
    /// A ServiceAccount, named `system:serviceaccount:<namespace>:<name>`.
    ServiceAccount,
}

impl SubjectKind {
    /// The kind as RBAC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
            Self::ServiceAccount => "ServiceAccount",
        }
    }
}

/// A subject: kind and name. ServiceAccounts use their username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SubjectKey {
    /// The kind.
    pub kind: SubjectKind,
    /// The name (a ServiceAccount's full username).
    pub name: String,
}

impl SubjectKey {
    /// The subject an authenticated username stands for: a ServiceAccount for
    /// `system:serviceaccount:<ns>:<name>`, else a User.
    pub fn for_username(username: &str) -> Self {
        let kind = if service_account_parts(username).is_some() {
            SubjectKind::ServiceAccount
        } else {
            SubjectKind::User
        };
        Self {
            kind,
            name: username.to_owned(),
        }
    }

    /// `Kind name`, as the report prints it.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.name)
    }
}

/// `(namespace, name)` of a ServiceAccount username.
pub(crate) fn service_account_parts(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix("system:serviceaccount:")?;
    let (namespace, name) = rest.split_once(':')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains(':')).then_some((namespace, name))
}

/// One concrete request as the authorizer sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Permission {
    /// The verb.
    pub verb: String,
    /// API group; empty for the core group.
    pub api_group: String,
    /// Resource; empty for non-resource requests.
    pub resource: String,
    /// Subresource.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// Namespace; empty for cluster-scoped and all-namespace requests.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Object name; empty when the request names none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Non-resource URL path (without query); empty for resource requests.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub non_resource_url: String,
}

impl Permission {
    /// The permission an audit event exercised (authorization-wise: the impersonated
    /// user's request when it impersonated).
    pub fn from_event(event: &AuditEvent) -> Self {
        match &event.object_ref {
            Some(object) if !object.resource.is_empty() => Self {
                verb: event.verb.clone(),
                api_group: object.api_group.clone(),
                resource: object.resource.clone(),
                subresource: object.subresource.clone(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
                non_resource_url: String::new(),
            },
            _ => {
                let path = event.request_uri.split('?').next().unwrap_or("");
                Self {
                    verb: event.verb.clone(),
                    non_resource_url: if path.is_empty() {
                        "/".to_owned()
                    } else {
                        path.to_owned()
                    },
                    ..Self::default()
                }
            }
        }
    }

    /// Whether this is a resource request.
    pub fn is_resource(&self) -> bool {
        self.non_resource_url.is_empty()
    }

    /// `resource` or `resource/subresource`.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }

    /// Whether this is a `get` on `pods/exec`, `pods/attach` or `pods/portforward`:
    /// the websocket form of those requests, which kube-apiserver (since 1.30/1.31)
    /// also checks for `create`.
    pub fn is_websocket_streaming_get(&self) -> bool {
        self.verb == "get"
            && self.api_group.is_empty()
            && self.resource == "pods"
            && matches!(self.subresource.as_str(), "exec" | "attach" | "portforward")
    }

    /// One line: `verb resource[/sub][.group] [namespace/]name` or `verb /url`.
    pub fn describe(&self) -> String {
        if !self.is_resource() {
            return format!("{} {}", self.verb, self.non_resource_url);
        }
        let mut text = format!("{} {}", self.verb, self.combined_resource());
        if !self.api_group.is_empty() {
            text.push('.');
            text.push_str(&self.api_group);
        }
        match (self.namespace.is_empty(), self.name.is_empty()) {
            (true, true) => text.push_str(" (cluster)"),
            (true, false) => text.push_str(&format!(" {}", self.name)),
            (false, true) => text.push_str(&format!(" in {}", self.namespace)),
            (false, false) => text.push_str(&format!(" {}/{}", self.namespace, self.name)),
        }
        text
    }
}

/// One granted permission pattern: a single verb, group, resource and (optional)
/// resource name of one rule, at the scope of one binding. Wildcards stay wildcards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GrantAtom {
    /// Namespace the grant is limited to (a RoleBinding's); `None`: cluster-wide.
    pub namespace: Option<String>,
    /// The verb or `*`.
    pub verb: String,
    /// API group, `""` (core) or `*`.
    pub api_group: String,
    /// Resource (`pods`, `pods/exec`, `*`, `*/scale`); empty for non-resource grants.
    pub resource: String,
    /// The one object name the grant is limited to; empty: any name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_name: String,
    /// Non-resource URL pattern; empty for resource grants.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub non_resource_url: String,
}

impl GrantAtom {
    /// Whether the RBAC authorizer would allow `permission` by this atom.
    pub fn allows(&self, permission: &Permission) -> bool {
        if !(self.verb == "*" || self.verb == permission.verb) {
            return false;
        }
        if !permission.is_resource() {
            return !self.non_resource_url.is_empty()
                && self.namespace.is_none()
                && url_matches(&self.non_resource_url, &permission.non_resource_url);
        }
        if self.resource.is_empty() {
            return false;
        }
        if let Some(namespace) = &self.namespace
            && *namespace != permission.namespace
        {
            return false;
        }
        (self.api_group == "*" || self.api_group == permission.api_group)
            && resource_matches(
                &self.resource,
                &permission.resource,
                &permission.subresource,
            )
            && (self.resource_name.is_empty() || self.resource_name == permission.name)
    }

    /// Whether this atom was exercised by `permission`: it allows it, or `permission` is
    /// a websocket exec/attach/portforward `get` and this atom allows the `create`
    /// kube-apiserver checks for it too.
    pub fn exercised_by(&self, permission: &Permission) -> bool {
        self.allows(permission)
            || (permission.is_websocket_streaming_get()
                && self.allows(&Permission {
                    verb: "create".to_owned(),
                    ..permission.clone()
                }))
    }

    /// Whether any part is a wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.verb == "*"
            || self.api_group == "*"
            || self.resource == "*"
            || self.resource.starts_with("*/")
            || self.non_resource_url.ends_with('*')
    }

    /// One line: `verb resource[.group] [name] in <namespace>|cluster-wide`.
    pub fn describe(&self) -> String {
        if !self.non_resource_url.is_empty() {
            return format!("{} {}", self.verb, self.non_resource_url);
        }
        let mut text = format!("{} {}", self.verb, self.resource);
        match self.api_group.as_str() {
            "" => {}
            group => {
                text.push('.');
                text.push_str(group);
            }
        }
        if !self.resource_name.is_empty() {
            text.push_str(&format!(" name={}", self.resource_name));
        }
        match &self.namespace {
            Some(namespace) => text.push_str(&format!(" in {namespace}")),
            None => text.push_str(" cluster-wide"),
        }
        text
    }
}

/// The RBAC authorizer's resource match: `*`, exact `resource[/sub]`, or `*/sub`.
pub(crate) fn resource_matches(rule: &str, resource: &str, subresource: &str) -> bool {
    if rule == "*" {
        return true;
    }
    if subresource.is_empty() {
        return rule == resource;
    }
    match rule.split_once('/') {
        Some((rule_resource, rule_sub)) => {
            rule_sub == subresource && (rule_resource == resource || rule_resource == "*")
        }
        None => false,
    }
}

/// The RBAC authorizer's non-resource URL match.
pub(crate) fn url_matches(rule: &str, path: &str) -> bool {
    if rule == "*" || rule == path {
        return true;
    }
    rule.strip_suffix('*')
        .is_some_and(|prefix| path.starts_with(prefix))
}

/// Where a grant atom comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GrantSource {
    /// The binding: `RoleBinding <ns>/<name>` or `ClusterRoleBinding <name>`.
    pub binding: String,
    /// The role it refers to: `Role <ns>/<name>` or `ClusterRole <name>`.
    pub role: String,
    /// The rule: `rule #<i>`, or `ClusterRole <name> rule #<i>` when aggregated.
    pub rule: String,
    /// The binding's subject that brings the grant: `User x`, `Group y`, ...
    pub subject: String,
}

impl GrantSource {
    /// One line.
    pub fn describe(&self) -> String {
        format!(
            "{} {} via {} ({})",
            self.role, self.rule, self.binding, self.subject
        )
    }
}

/// Grant atoms with their sources.
pub type AtomSet = BTreeMap<GrantAtom, BTreeSet<GrantSource>>;

/// What RBAC grants each subject bound directly (groups are not yet expanded to users).
#[derive(Debug, Clone, Default)]
pub struct GrantModel {
    /// Atoms per subject named in a binding.
    pub by_subject: BTreeMap<SubjectKey, AtomSet>,
    /// Problems found: bindings to missing roles, unknown subject kinds.
    pub warnings: Vec<String>,
}

impl GrantModel {
    /// Builds the model from RBAC objects.
    pub fn build(objects: &RbacObjects) -> Self {
        let mut model = Self::default();
        let cluster_rules = aggregated_cluster_role_rules(&objects.cluster_roles);
        for binding in &objects.role_bindings {
            let namespace = binding.metadata.namespace.clone();
            let label = format!("RoleBinding {}/{}", namespace, binding.metadata.name);
            let rules = match binding.role_ref.kind.as_str() {
                "Role" => objects
                    .roles
                    .iter()
                    .find(|role| {
                        role.metadata.namespace == namespace
                            && role.metadata.name == binding.role_ref.name
                    })
                    .map(|role| {
                        (
                            format!("Role {}/{}", namespace, role.metadata.name),
                            numbered_rules(role, None),
                        )
                    }),
                "ClusterRole" => cluster_rules.get(&binding.role_ref.name).map(|rules| {
                    (
                        format!("ClusterRole {}", binding.role_ref.name),
                        rules.clone(),
                    )
                }),
                _ => None,
            };
            model.add_binding(binding, &label, Some(&namespace), rules);
        }
        for binding in &objects.cluster_role_bindings {
            let label = format!("ClusterRoleBinding {}", binding.metadata.name);
            let rules = match binding.role_ref.kind.as_str() {
                "ClusterRole" => cluster_rules.get(&binding.role_ref.name).map(|rules| {
                    (
                        format!("ClusterRole {}", binding.role_ref.name),
                        rules.clone(),
                    )
                }),
                _ => None,
            };
            model.add_binding(binding, &label, None, rules);
        }
        model
    }

    fn add_binding(
        &mut self,
        binding: &Binding,
        label: &str,
        namespace: Option<&str>,
        rules: Option<(String, Vec<(String, PolicyRule)>)>,
    ) {
        let Some((role_label, rules)) = rules else {
            self.warnings.push(format!(
                "{label} refers to {} {:?}, which is not in the input: it grants nothing here",
                binding.role_ref.kind, binding.role_ref.name
            ));
            return;
        };
        for subject in &binding.subjects {
            let key = match subject.kind.as_str() {
                "User" => SubjectKey {
                    kind: SubjectKind::User,
                    name: subject.name.clone(),
                },
                "Group" => SubjectKey {
                    kind: SubjectKind::Group,
                    name: subject.name.clone(),
                },
                "ServiceAccount" => {
                    let sa_namespace = if subject.namespace.is_empty() {
                        namespace.unwrap_or("")
                    } else {
                        &subject.namespace
                    };
                    SubjectKey {
                        kind: SubjectKind::ServiceAccount,
                        name: format!("system:serviceaccount:{sa_namespace}:{}", subject.name),
                    }
                }
                other => {
                    self.warnings
                        .push(format!("{label}: subject kind {other:?} ignored"));
                    continue;
                }
            };
            let atoms = self.by_subject.entry(key.clone()).or_default();
            for (rule_label, rule) in &rules {
                let source = GrantSource {
                    binding: label.to_owned(),
                    role: role_label.clone(),
                    rule: rule_label.clone(),
                    subject: key.describe(),
                };
                for atom in rule_atoms(rule, namespace) {
                    atoms.entry(atom).or_default().insert(source.clone());
                }
            }
        }
    }
}

fn numbered_rules(role: &Role, origin: Option<&str>) -> Vec<(String, PolicyRule)> {
    role.rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let label = match origin {
                Some(origin) => format!("{origin} rule #{index}"),
                None => format!("rule #{index}"),
            };
            (label, rule.clone())
        })
        .collect()
}

/// The rules of every ClusterRole, aggregation applied: an aggregated role gets its own
/// rules plus those of every ClusterRole its selectors match, transitively.
pub(crate) fn aggregated_cluster_role_rules(
    cluster_roles: &[Role],
) -> BTreeMap<String, Vec<(String, PolicyRule)>> {
    let by_name: BTreeMap<&str, &Role> = cluster_roles
        .iter()
        .map(|role| (role.metadata.name.as_str(), role))
        .collect();
    let mut out = BTreeMap::new();
    for role in cluster_roles {
        let mut rules = numbered_rules(role, None);
        let mut seen = BTreeSet::from([role.metadata.name.as_str()]);
        let mut pending: Vec<&Role> = vec![role];
        while let Some(current) = pending.pop() {
            let Some(aggregation) = &current.aggregation_rule else {
                continue;
            };
            for (name, candidate) in &by_name {
                let selected = aggregation
                    .cluster_role_selectors
                    .iter()
                    .any(|selector| selector.matches(&candidate.metadata.labels));
                if selected && seen.insert(name) {
                    let origin = format!("ClusterRole {name}");
                    for (label, rule) in numbered_rules(candidate, Some(&origin)) {
                        // The aggregation controller has usually copied these rules
                        // already; keep one copy (the aggregated source explains more).
                        rules.retain(|(_, existing)| *existing != rule);
                        rules.push((label, rule));
                    }
                    pending.push(candidate);
                }
            }
        }
        out.insert(role.metadata.name.clone(), rules);
    }
    out
}

/// The atoms of one rule at one scope (`None`: cluster-wide).
pub(crate) fn rule_atoms(rule: &PolicyRule, namespace: Option<&str>) -> Vec<GrantAtom> {
    let mut atoms = Vec::new();
    let scope = namespace.map(str::to_owned);
    for verb in &rule.verbs {
        if scope.is_none() {
            for url in &rule.non_resource_urls {
                atoms.push(GrantAtom {
                    verb: verb.clone(),
                    non_resource_url: url.clone(),
                    ..GrantAtom::default()
                });
            }
        }
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let base = GrantAtom {
                    namespace: scope.clone(),
                    verb: verb.clone(),
                    api_group: group.clone(),
                    resource: resource.clone(),
                    ..GrantAtom::default()
                };
                if rule.resource_names.is_empty() {
                    atoms.push(base);
                } else {
                    for name in &rule.resource_names {
                        atoms.push(GrantAtom {
                            resource_name: name.clone(),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    atoms
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
