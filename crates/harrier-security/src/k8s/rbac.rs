//! RBAC objects: `Role`, `ClusterRole`, `RoleBinding`, `ClusterRoleBinding`
//! (`rbac.authorization.k8s.io/v1`).

use serde::Deserialize;
use serde_json::Value;

use super::selector::LabelSelector;
use super::{ObjectMeta, kind_of, null_default};

/// A `PolicyRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PolicyRule {
    /// Verbs; `*` means all.
    #[serde(deserialize_with = "null_default")]
    pub verbs: Vec<String>,
    /// API groups; `""` is the core group, `*` all.
    #[serde(deserialize_with = "null_default")]
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource`, `*` or `*/subresource`.
    #[serde(deserialize_with = "null_default")]
    pub resources: Vec<String>,
    /// Object names the rule is limited to; empty means any.
    #[serde(deserialize_with = "null_default")]
    pub resource_names: Vec<String>,
    /// Non-resource URL paths; a trailing `*` matches any suffix.
    #[serde(rename = "nonResourceURLs", deserialize_with = "null_default")]
    pub non_resource_urls: Vec<String>,
}

/// A ClusterRole's `aggregationRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AggregationRule {
    /// ClusterRoles whose labels match any of these selectors contribute their rules.
    #[serde(deserialize_with = "null_default")]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

/// A `Role` (namespaced) or `ClusterRole`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Role {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The rules.
    #[serde(deserialize_with = "null_default")]
    pub rules: Vec<PolicyRule>,
    /// ClusterRoles only: the aggregation rule.
    pub aggregation_rule: Option<AggregationRule>,
}

/// A binding's `roleRef`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RoleRef {
    /// `Role` or `ClusterRole`.
    #[serde(deserialize_with = "null_default")]
    pub kind: String,
    /// The role's name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
}

/// A binding's subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    #[serde(deserialize_with = "null_default")]
    pub kind: String,
    /// The name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// ServiceAccounts: their namespace.
    #[serde(deserialize_with = "null_default")]
    pub namespace: String,
}

/// A `RoleBinding` or `ClusterRoleBinding`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Binding {
    /// Metadata; `namespace` is empty for ClusterRoleBindings.
    pub metadata: ObjectMeta,
    /// The role granted.
    pub role_ref: RoleRef,
    /// Who it is granted to.
    #[serde(deserialize_with = "null_default")]
    pub subjects: Vec<Subject>,
}

/// The RBAC objects of a set of inputs, sorted by kind.
#[derive(Debug, Clone, Default)]
pub struct RbacObjects {
    /// `Role`s.
    pub roles: Vec<Role>,
    /// `ClusterRole`s.
    pub cluster_roles: Vec<Role>,
    /// `RoleBinding`s.
    pub role_bindings: Vec<Binding>,
    /// `ClusterRoleBinding`s.
    pub cluster_role_bindings: Vec<Binding>,
    /// Objects of other kinds, or of an RBAC kind that did not read, by description.
    pub skipped: Vec<String>,
}

impl RbacObjects {
    /// Sorts `objects` into the four RBAC kinds; other kinds are noted in `skipped`.
    pub fn from_objects(path: &str, objects: Vec<Value>) -> Self {
        let mut out = Self::default();
        out.extend(path, objects);
        out
    }

    /// Adds `objects` (from the file `path`).
    pub fn extend(&mut self, path: &str, objects: Vec<Value>) {
        for object in objects {
            let kind = kind_of(&object).to_owned();
            let outcome = match kind.as_str() {
                "Role" => Role::deserialize(&object).map(|role| self.roles.push(role)),
                "ClusterRole" => {
                    Role::deserialize(&object).map(|role| self.cluster_roles.push(role))
                }
                "RoleBinding" => {
                    Binding::deserialize(&object).map(|binding| self.role_bindings.push(binding))
                }
                "ClusterRoleBinding" => Binding::deserialize(&object)
                    .map(|binding| self.cluster_role_bindings.push(binding)),
                _ => {
                    self.skipped
                        .push(format!("{path}: object of kind {kind:?} ignored"));
                    Ok(())
                }
            };
            if let Err(error) = outcome {
                self.skipped
                    .push(format!("{path}: unreadable {kind}: {error}"));
            }
        }
    }
}
