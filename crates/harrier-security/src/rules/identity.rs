//! Who made a request: naming the actor in reasons, telling cluster components from
//! people and workloads, and matching `exempt_users` patterns.

use crate::audit::AuditView;

/// The prefix of service account user names.
pub(crate) const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Whether `user` is a Kubernetes component rather than a person or a workload: a
/// `system:` user (kube-controller-manager, kube-scheduler, `system:node:*`, ...) other
/// than `system:anonymous`, or a service account of `kube-system` (the controllers run
/// with `--use-service-account-credentials`). Other namespaces' service accounts count
/// as workloads.
pub(crate) fn is_system_identity(user: &str) -> bool {
    if user == "system:anonymous" {
        return false;
    }
    match user.strip_prefix(SERVICE_ACCOUNT_PREFIX) {
        Some(account) => account.starts_with("kube-system:"),
        None => user.starts_with("system:"),
    }
}

/// `pattern` is `value`, or a prefix of it when `pattern` ends in `*`.
pub(crate) fn matches_pattern(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// The actor for a reason: the user, and whom it impersonated.
pub(crate) fn actor(event: &AuditView<'_>) -> String {
    let user = event.user().unwrap_or("an unauthenticated client");
    match event.impersonated_user() {
        Some(as_user) => format!("{user} (impersonating {as_user})"),
        None => user.to_string(),
    }
}
