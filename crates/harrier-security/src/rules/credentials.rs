//! Rules on identities and credentials: `sa_in_kube_namespace`, `token_request` and
//! `suspicious_csr`.
//!
//! "System identity" below means a Kubernetes component: a `system:` user other than
//! `system:anonymous` (controller manager, scheduler, `system:node:*`, ...) or a
//! service account of `kube-system`. Service accounts of other namespaces count as
//! workloads.
//!
//! **`sa_in_kube_namespace`** fires when a non-system identity creates a service
//! account in `namespaces` (option, default `kube-system`, `kube-public`,
//! `kube-node-lease`), where it blends in with the control plane (Falco: Service
//! Account Created in Kube Namespace).
//!
//! **`token_request`** fires when a non-system identity creates a
//! `serviceaccounts/token` (a TokenRequest, as `kubectl create token` does): the
//! bearer of the token acts as that service account, also outside the cluster.
//! Kubelets (`system:node:*`) requesting projected tokens for their pods are system
//! identities. Escalated (high by default) when `spec.expirationSeconds` exceeds
//! `max_expiration_seconds` (option, default 86400).
//!
//! **`suspicious_csr`** fires on:
//! - a `certificatesigningrequests` create whose `spec.request` asks for a `system:`
//!   common name or the `system:masters` organization, unless it is a kubelet asking
//!   for its own `system:node:<name>`, a bootstrap token (`system:bootstrap:*`,
//!   `system:bootstrappers`) asking for a `system:node:*` name, or another system
//!   identity. The PKCS#10 subject is read from the DER (see `csr`); a request that
//!   cannot be read gives no finding.
//! - a `certificatesigningrequests/approval` update or patch that adds an `Approved`
//!   condition (or whose object is not in the event) by an identity not in `approvers`
//!   (option, default [`CSR_APPROVERS`]).
//!
//! Escalated (critical by default) when the subject includes `O=system:masters`, a
//! group that bypasses RBAC entirely, or, for an approval, a `system:` name.

use super::csr::{self, Subject};
use super::identity::{SERVICE_ACCOUNT_PREFIX, actor, is_system_identity};
use super::options::Options;
use super::request::object_label;
use super::{Hit, Rule, written};
use crate::audit::{self, AuditView};
use harrier_pdata::otlp::common::v1::AnyValue;

/// Namespaces reserved for the control plane.
pub const KUBE_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Identities that approve CSRs as part of running the cluster: the controller
/// manager's `csrapproving` controller, with or without service account credentials.
pub const CSR_APPROVERS: &[&str] = &[
    "system:kube-controller-manager",
    "system:serviceaccount:kube-system:certificate-controller",
];

/// The group whose members pass every RBAC check.
const MASTERS_GROUP: &str = "system:masters";

const CERTIFICATES_GROUP: &str = "certificates.k8s.io";

pub(crate) fn build_sa_in_kube_namespace(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(SaInKubeNamespace {
        namespaces: options.strings("namespaces", KUBE_NAMESPACES),
    })
}

pub(crate) fn build_token_request(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(TokenRequest {
        max_expiration_seconds: options.positive_int("max_expiration_seconds", 86_400),
    })
}

pub(crate) fn build_csr(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(SuspiciousCsr {
        approvers: options.strings("approvers", CSR_APPROVERS),
    })
}

fn is_service_account_request(event: &AuditView<'_>, subresource: Option<&str>) -> bool {
    event.api_group().is_none()
        && event.resource() == Some("serviceaccounts")
        && event.subresource() == subresource
        && event.verb() == Some("create")
}

/// A human duration: `365d`, `12h`, `90m`, `45s`.
fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[derive(Debug)]
struct SaInKubeNamespace {
    namespaces: Vec<String>,
}

impl Rule for SaInKubeNamespace {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if !is_service_account_request(event, None) {
            return None;
        }
        let namespace = event.namespace()?;
        if !self.namespaces.iter().any(|n| n == namespace) {
            return None;
        }
        if event.user().is_some_and(is_system_identity) {
            return None;
        }
        let reason = format!(
            "{} created service account {} in a control-plane namespace, where it blends in with system components",
            actor(event),
            object_label(event),
        );
        Some(Hit::new(false, reason))
    }
}

#[derive(Debug)]
struct TokenRequest {
    max_expiration_seconds: u64,
}

impl Rule for TokenRequest {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if !is_service_account_request(event, Some("token")) {
            return None;
        }
        let user = event.user();
        if user.is_some_and(is_system_identity) {
            return None;
        }
        let namespace = event.namespace().unwrap_or("?");
        let account = event.object_name().unwrap_or("?");
        let own = user.is_some_and(|u| {
            u.strip_prefix(SERVICE_ACCOUNT_PREFIX) == Some(&format!("{namespace}:{account}"))
        });
        let spec = event
            .request_object()
            .and_then(|o| audit::path(o, &["spec"]));
        let expiration = spec
            .and_then(|s| audit::path(s, &["expirationSeconds"]))
            .and_then(audit::as_i64);
        let audiences: Vec<&str> = spec
            .and_then(|s| audit::path(s, &["audiences"]))
            .map(audit::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(audit::as_str)
            .collect();
        let limit = i64::try_from(self.max_expiration_seconds).unwrap_or(i64::MAX);
        let escalated = expiration.is_some_and(|e| e > limit);
        let mut reason = format!(
            "{} requested a token for {}service account {namespace}/{account}",
            actor(event),
            if own { "its own " } else { "" },
        );
        if let Some(seconds) = expiration {
            reason.push_str(&format!(" valid for {}", human_duration(seconds)));
        }
        if !audiences.is_empty() {
            reason.push_str(&format!(" (audiences {})", audiences.join(",")));
        }
        if escalated {
            reason.push_str(&format!(
                ", longer than the {} allowed; its bearer can act as the account from anywhere until then",
                human_duration(limit)
            ));
        } else {
            reason.push_str(": its bearer can act as the account from anywhere");
        }
        Some(Hit::new(escalated, reason))
    }
}

#[derive(Debug)]
struct SuspiciousCsr {
    approvers: Vec<String>,
}

/// The subject of the CSR in `object` (`spec.request`).
fn subject_in(object: &AnyValue) -> Option<Subject> {
    audit::path(object, &["spec", "request"])
        .and_then(audit::as_str)
        .and_then(csr::subject_of_request)
}

fn spec_field<'o>(object: Option<&'o AnyValue>, key: &str) -> Option<&'o str> {
    object
        .and_then(|o| audit::path(o, &["spec", key]))
        .and_then(audit::as_str)
}

/// Whether `requester` (with `groups`) normally asks for `common_name`.
fn is_expected_system_name(requester: Option<&str>, groups: &[&str], common_name: &str) -> bool {
    let Some(requester) = requester else {
        return false;
    };
    if requester.starts_with("system:node:") {
        return requester == common_name;
    }
    if requester.starts_with("system:bootstrap:") || groups.contains(&"system:bootstrappers") {
        return common_name.starts_with("system:node:");
    }
    is_system_identity(requester)
}

impl SuspiciousCsr {
    fn check_create(&self, event: &AuditView<'_>) -> Option<Hit> {
        let object = event.request_object()?;
        let subject = subject_in(object)?;
        let masters = subject.organizations.iter().any(|o| o == MASTERS_GROUP);
        let system_name = subject
            .common_name
            .as_deref()
            .filter(|cn| cn.starts_with("system:"));
        let unexpected_name = system_name
            .is_some_and(|cn| !is_expected_system_name(event.user(), &event.groups(), cn));
        if !masters && !unexpected_name {
            return None;
        }
        let signer = spec_field(Some(object), "signerName").unwrap_or("unknown signer");
        let why = if masters {
            "a signed client certificate would be in system:masters, which bypasses RBAC"
        } else {
            "a signed client certificate would authenticate as that system identity"
        };
        let reason = format!(
            "{} requested a certificate for {} (CSR {}, {signer}): {why}",
            actor(event),
            subject.describe(),
            object_label(event),
        );
        Some(Hit::new(masters, reason))
    }

    fn check_approval(&self, event: &AuditView<'_>) -> Option<Hit> {
        if !matches!(event.verb(), Some("update" | "patch")) {
            return None;
        }
        if event
            .user()
            .is_some_and(|u| self.approvers.iter().any(|a| a == u))
        {
            return None;
        }
        let written = written::changed_object(event);
        if let Some(object) = written.as_deref() {
            let approved = audit::path(object, &["status", "conditions"])
                .map(audit::as_array)
                .unwrap_or_default()
                .iter()
                .any(|c| audit::path(c, &["type"]).and_then(audit::as_str) == Some("Approved"));
            if !approved {
                return None;
            }
        }
        // The CSR itself: from the update's full object, else the response.
        let csr = written
            .as_deref()
            .filter(|o| audit::path(o, &["spec", "request"]).is_some())
            .or_else(|| event.response_object());
        let subject = csr.and_then(subject_in);
        let privileged = subject.as_ref().is_some_and(|s| {
            s.organizations.iter().any(|o| o == MASTERS_GROUP)
                || s.common_name
                    .as_deref()
                    .is_some_and(|cn| cn.starts_with("system:"))
        });
        let mut details = Vec::new();
        if let Some(requester) = spec_field(csr, "username") {
            details.push(format!("requested by {requester}"));
        }
        if let Some(signer) = spec_field(csr, "signerName") {
            details.push(signer.to_string());
        }
        if let Some(subject) = &subject {
            details.push(format!("for {}", subject.describe()));
        }
        let details = if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", details.join(", "))
        };
        let reason = format!(
            "{} approved CSR {}{details}: approvals are normally left to the controller manager, and a manual one can mint credentials for any identity the signer allows",
            actor(event),
            event.object_name().unwrap_or("<unnamed>"),
        );
        Some(Hit::new(privileged, reason))
    }
}

impl Rule for SuspiciousCsr {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if event.api_group() != Some(CERTIFICATES_GROUP)
            || event.resource() != Some("certificatesigningrequests")
        {
            return None;
        }
        match (event.subresource(), event.verb()?) {
            (None, "create") => self.check_create(event),
            (Some("approval"), _) => self.check_approval(event),
            _ => None,
        }
    }
}
