//! The stateless rules on Kubernetes audit events.
//!
//! Each rule looks at one audit event (through [`AuditView`]) and reports at most one
//! [`Finding`]. Falco's Kubernetes audit rules and the Pod Security Standards are the
//! reference; the rules are:
//!
//! | rule | default severity | fires on |
//! |---|---|---|
//! | `privileged_pod` | high (critical: privileged or `SYS_ADMIN` with `hostPID`, Windows `hostProcess`) | pods and workload templates violating PSS baseline controls (or `allowPrivilegeEscalation: true`) |
//! | `sensitive_mount` | high (critical: `/` or a container runtime socket) | `hostPath` volumes of host credentials, runtimes, `/proc`, `/etc`, ... |
//! | `pod_exec` | medium (high in `kube-system`) | `pods/exec`, `attach`, `portforward`, `ephemeralcontainers` |
//! | `rbac_wildcard_role` | high (critical: `*` verbs on `*` resources in `*` groups) | Roles/ClusterRoles with `*`, or `escalate` / `bind` / `impersonate` |
//! | `cluster_admin_binding` | critical | (Cluster)RoleBindings to `cluster-admin` (or `admin` cluster-wide) |
//! | `sa_in_kube_namespace` | medium | ServiceAccounts created in `kube-*` namespaces by non-system identities |
//! | `token_request` | medium (high above `max_expiration_seconds`) | `serviceaccounts/token` by non-system identities |
//! | `suspicious_csr` | high (critical: `O=system:masters`) | CSRs for `system:` names, approvals by non-controllers |
//! | `nodes_proxy` | high (critical: kubelet `run`/`exec`/`attach`/`portForward`) | `nodes/proxy` (the kubelet API through the API server) |
//! | `anonymous_access` | high (critical: writes, secrets) | `system:anonymous` / `system:unauthenticated` allowed outside health endpoints |
//!
//! **What every rule ignores.** Events whose request did not go through (a 401/403
//! answer, an authorizer decision `forbid`, any answer of 400 or more, or no answer and
//! no decision, as at the `RequestReceived` stage): a refused create did not happen, and
//! refusals are the business of the `rbac_denied` detectors. Dry-run requests
//! (`dryRun=` in the request URI, `url.path`) change nothing and are ignored too.
//! Long-running requests (exec, port-forward) give one record per kept stage; with the
//! receiver's default stages that is one, with `ResponseStarted` kept it is two, and
//! duplicates are left to the processor.
//!
//! **Configuration.** [`RuleSet::from_config`] reads the
//! `[processors.anomaly.detectors.<name>]` tables. Every rule accepts:
//!
//! - `enabled` (default `true`);
//! - `severity`: the rule's base severity (defaults above). An *escalated* finding (the
//!   parenthesised cases above) is one level higher, at most `critical`;
//! - `exempt_users`: user names whose requests the rule ignores, exact or as a prefix
//!   ending in `*` (`system:node:*`). Matched against the authenticated user, not an
//!   impersonated one. Setting it replaces the rule's default list;
//! - `exempt_namespaces`: target namespaces the rule ignores (default none).
//!
//! Rule options are documented in the rule's module ([`privileged`], [`mounts`],
//! [`access`], [`rbac`], [`credentials`]).

pub mod access;
pub mod credentials;
mod csr;
mod identity;
pub mod mounts;
mod options;
mod pod_spec;
pub mod privileged;
pub mod rbac;
mod request;
mod written;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access;
#[cfg(test)]
mod tests_mount;
#[cfg(test)]
mod tests_pod;
#[cfg(test)]
mod tests_rbac;

use crate::audit::AuditView;
use crate::finding::{Finding, Severity};
use harrier_core::error::ConfigError;
use options::Options;

pub use pod_spec::CONTROLLER_USERS;
use std::collections::BTreeMap;

/// The names of the stateless rules, in evaluation order.
pub const NAMES: &[&str] = &[
    "privileged_pod",
    "sensitive_mount",
    "pod_exec",
    "rbac_wildcard_role",
    "cluster_admin_binding",
    "sa_in_kube_namespace",
    "token_request",
    "suspicious_csr",
    "nodes_proxy",
    "anonymous_access",
];

/// What a rule found in one event, before the rule's configured severity is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    /// One level above the rule's base severity.
    pub escalated: bool,
    /// One sentence: who, what, why unusual.
    pub reason: String,
}

impl Hit {
    fn new(escalated: bool, reason: String) -> Hit {
        Hit { escalated, reason }
    }
}

/// One rule's check; configuration is read when the rule is built.
pub(crate) trait Rule: std::fmt::Debug + Send + Sync {
    /// The finding for an allowed, non-dry-run event, if any.
    fn check(&self, event: &AuditView<'_>) -> Option<Hit>;
}

/// A rule's fixed properties.
struct Spec {
    default_severity: Severity,
    default_exempt_users: &'static [&'static str],
    build: fn(&mut Options<'_>) -> Box<dyn Rule>,
}

fn spec(name: &str) -> Option<Spec> {
    let (default_severity, default_exempt_users, build): (_, _, fn(&mut Options<'_>) -> _) =
        match name {
            "privileged_pod" => (
                Severity::High,
                pod_spec::CONTROLLER_USERS,
                privileged::build,
            ),
            "sensitive_mount" => (Severity::High, pod_spec::CONTROLLER_USERS, mounts::build),
            "pod_exec" => (Severity::Medium, &[][..], access::build_pod_exec),
            "rbac_wildcard_role" => (Severity::High, rbac::ROLE_MANAGERS, rbac::build_wildcard),
            "cluster_admin_binding" => (
                Severity::Critical,
                rbac::BINDING_MANAGERS,
                rbac::build_admin_binding,
            ),
            "sa_in_kube_namespace" => (
                Severity::Medium,
                &[][..],
                credentials::build_sa_in_kube_namespace,
            ),
            "token_request" => (Severity::Medium, &[][..], credentials::build_token_request),
            "suspicious_csr" => (Severity::High, &[][..], credentials::build_csr),
            "nodes_proxy" => (Severity::High, &[][..], access::build_nodes_proxy),
            "anonymous_access" => (Severity::High, &[][..], access::build_anonymous),
            _ => return None,
        };
    Some(Spec {
        default_severity,
        default_exempt_users,
        build,
    })
}

/// A rule with its common settings.
#[derive(Debug)]
struct Configured {
    name: &'static str,
    severity: Severity,
    exempt_users: Vec<String>,
    exempt_namespaces: Vec<String>,
    rule: Box<dyn Rule>,
}

impl Configured {
    fn exempts(&self, event: &AuditView<'_>) -> bool {
        let user_exempt = event.user().is_some_and(|user| {
            self.exempt_users
                .iter()
                .any(|pattern| identity::matches_pattern(pattern, user))
        });
        let namespace_exempt = event
            .namespace()
            .is_some_and(|ns| self.exempt_namespaces.iter().any(|e| e == ns));
        user_exempt || namespace_exempt
    }
}

/// The enabled stateless rules, configured.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Configured>,
}

impl RuleSet {
    /// Builds the rules from the processor's `[processors.anomaly.detectors.<name>]`
    /// tables. `detectors` holds every detector's table, also the stateful detectors'
    /// ones: names not in [`NAMES`] are left alone. A rule without a table runs with its
    /// defaults.
    ///
    /// # Errors
    /// Every problem found, each naming its key path relative to the processor's
    /// section, e.g. `detectors.token_request.max_expiration_seconds`: a rule's value
    /// that is not a table, an unknown key, a value of the wrong type or out of range.
    pub fn from_config(
        detectors: &BTreeMap<String, toml::Value>,
    ) -> Result<RuleSet, Vec<ConfigError>> {
        let mut rules = Vec::with_capacity(NAMES.len());
        let mut errors = Vec::new();
        for &name in NAMES {
            let prefix = format!("detectors.{name}");
            let table = match detectors.get(name) {
                None => None,
                Some(toml::Value::Table(table)) => Some(table),
                Some(_) => {
                    errors.push(ConfigError::new(prefix, "expected a table of rule options"));
                    continue;
                }
            };
            let Some(spec) = spec(name) else {
                continue;
            };
            let mut options = Options::new(prefix, table);
            let enabled = options.bool("enabled", true);
            let severity = options.severity("severity", spec.default_severity);
            let exempt_users = options.strings("exempt_users", spec.default_exempt_users);
            let exempt_namespaces = options.strings("exempt_namespaces", &[]);
            let rule = (spec.build)(&mut options);
            errors.extend(options.finish());
            if enabled {
                rules.push(Configured {
                    name,
                    severity,
                    exempt_users,
                    exempt_namespaces,
                    rule,
                });
            }
        }
        if errors.is_empty() {
            Ok(RuleSet { rules })
        } else {
            Err(errors)
        }
    }

    /// The names of the enabled rules, in evaluation order.
    pub fn enabled(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rules.iter().map(|r| r.name)
    }

    /// Runs every enabled rule on `event`, appending one [`Finding`] per rule that
    /// fires. Refused and dry-run requests give nothing (see the module docs).
    pub fn evaluate(&self, event: &AuditView<'_>, out: &mut Vec<Finding>) {
        if !event.is_allowed() || request::is_dry_run(event) {
            return;
        }
        for configured in &self.rules {
            if configured.exempts(event) {
                continue;
            }
            if let Some(hit) = configured.rule.check(event) {
                out.push(Finding {
                    kind: configured.name,
                    severity: if hit.escalated {
                        raise(configured.severity)
                    } else {
                        configured.severity
                    },
                    reason: hit.reason,
                });
            }
        }
    }
}

impl Default for RuleSet {
    /// Every rule with its defaults.
    fn default() -> RuleSet {
        // The defaults are valid; an empty configuration cannot fail.
        RuleSet::from_config(&BTreeMap::new()).unwrap_or(RuleSet { rules: Vec::new() })
    }
}

/// One level up, at most critical.
fn raise(severity: Severity) -> Severity {
    match severity {
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}
