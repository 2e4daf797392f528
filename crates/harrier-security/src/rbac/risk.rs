//! Risk classes of grants, used to sort "granted but unused" high-risk first.

use serde::Serialize;

use super::model::GrantAtom;

/// How dangerous a grant is, most dangerous first (the derive order is the sort
/// order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Reads or writes Secrets.
    Secrets,
    /// A `*` verb, group, resource or URL: grants what exists now and what is added later.
    Wildcard,
    /// `pods/exec`, `pods/attach`, `pods/portforward`: a shell or a tunnel into pods.
    PodExec,
    /// Creating pods (run anything as any ServiceAccount of the namespace).
    PodCreate,
    /// `escalate`, `bind`, `impersonate`: ways around RBAC itself.
    PrivilegeEscalation,
    /// `nodes/proxy`: the kubelet API, including exec into every pod of the node.
    NodesProxy,
    /// `serviceaccounts/token`: minting tokens for other identities.
    TokenRequest,
    /// Approving CertificateSigningRequests (`certificatesigningrequests/approval`,
    /// `approve` on signers).
    CsrApproval,
    /// Anything else.
    Other,
}

impl Risk {
    /// The risk of an atom: the first class that applies, in the enum's order.
    pub fn of(atom: &GrantAtom) -> Self {
        let resource = atom.resource.as_str();
        let core = atom.api_group.is_empty() || atom.api_group == "*";
        if core && resource == "secrets" {
            Self::Secrets
        } else if atom.has_wildcard() {
            Self::Wildcard
        } else if core && matches!(resource, "pods/exec" | "pods/attach" | "pods/portforward") {
            Self::PodExec
        } else if core && resource == "pods" && atom.verb == "create" {
            Self::PodCreate
        } else if matches!(atom.verb.as_str(), "escalate" | "bind" | "impersonate") {
            Self::PrivilegeEscalation
        } else if core && resource == "nodes/proxy" {
            Self::NodesProxy
        } else if core && resource == "serviceaccounts/token" {
            Self::TokenRequest
        } else if resource == "certificatesigningrequests/approval"
            || (resource == "signers" && atom.verb == "approve")
        {
            Self::CsrApproval
        } else {
            Self::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(verb: &str, group: &str, resource: &str) -> GrantAtom {
        GrantAtom {
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            ..GrantAtom::default()
        }
    }

    #[test]
    fn classes() {
        assert_eq!(Risk::of(&atom("get", "", "secrets")), Risk::Secrets);
        assert_eq!(Risk::of(&atom("*", "", "secrets")), Risk::Secrets);
        assert_eq!(Risk::of(&atom("get", "", "*")), Risk::Wildcard);
        assert_eq!(Risk::of(&atom("get", "apps", "*/scale")), Risk::Wildcard);
        assert_eq!(Risk::of(&atom("get", "", "pods/exec")), Risk::PodExec);
        assert_eq!(Risk::of(&atom("create", "", "pods")), Risk::PodCreate);
        assert_eq!(Risk::of(&atom("get", "", "pods")), Risk::Other);
        assert_eq!(
            Risk::of(&atom("bind", "rbac.authorization.k8s.io", "clusterroles")),
            Risk::PrivilegeEscalation
        );
        assert_eq!(Risk::of(&atom("get", "", "nodes/proxy")), Risk::NodesProxy);
        assert_eq!(
            Risk::of(&atom("create", "", "serviceaccounts/token")),
            Risk::TokenRequest
        );
        assert_eq!(
            Risk::of(&atom(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests/approval"
            )),
            Risk::CsrApproval
        );
        assert_eq!(
            Risk::of(&atom("approve", "certificates.k8s.io", "signers")),
            Risk::CsrApproval
        );
        assert!(Risk::Secrets < Risk::Wildcard && Risk::CsrApproval < Risk::Other);
    }
}
