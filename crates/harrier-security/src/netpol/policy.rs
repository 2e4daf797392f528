//! Evaluating existing NetworkPolicies against observed flows.
//!
//! Semantics (`networking.k8s.io/v1`): a pod is isolated for a direction when at least
//! one policy in its namespace selects it and has that direction in its policy types;
//! an isolated pod accepts a connection when any rule of any of those policies allows
//! it. A rule with no peers allows any peer, with no ports any port. A peer with only a
//! `podSelector` means pods of the policy's namespace; with only a `namespaceSelector`,
//! every pod of the selected namespaces; with both, the selected pods of the selected
//! namespaces; an `ipBlock` matches the address (minus `except`). Namespace labels are
//! those of given `Namespace` objects plus `kubernetes.io/metadata.name`. Named ports
//! cannot be resolved from flows and never match.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::k8s::netpol::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyRule, PortValue};

use super::flow::Endpoint;

/// Which side of a connection a rule is checked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// At the destination pod.
    Ingress,
    /// At the source pod.
    Egress,
}

/// The policies and namespace labels to evaluate against.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicySet {
    pub policies: Vec<NetworkPolicy>,
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
}

/// The outcome for one direction of one connection.
pub(crate) enum Verdict {
    /// No policy isolates the pod for this direction.
    NotIsolated,
    /// Allowed by these `(policy index, rule index)`.
    Allowed(Vec<(usize, usize)>),
    /// Isolated, and no rule allows it; the isolating policies' indexes.
    Denied(Vec<usize>),
}

impl PolicySet {
    fn namespace_labels(&self, namespace: &str) -> BTreeMap<String, String> {
        let mut labels = self
            .namespace_labels
            .get(namespace)
            .cloned()
            .unwrap_or_default();
        labels.insert(
            "kubernetes.io/metadata.name".to_owned(),
            namespace.to_owned(),
        );
        labels
    }

    /// Indexes of the policies selecting `pod`.
    pub fn selecting(&self, pod: &Endpoint) -> Vec<usize> {
        if !pod.in_cluster() {
            return Vec::new();
        }
        self.policies
            .iter()
            .enumerate()
            .filter(|(_, policy)| {
                policy.metadata.namespace == pod.namespace
                    && policy.spec.pod_selector.matches(&pod.labels)
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// Whether a connection from `source` to `destination` is allowed in `direction`
    /// (checked at `destination` for ingress, at `source` for egress).
    pub fn verdict(
        &self,
        direction: Direction,
        source: &Endpoint,
        destination: &Endpoint,
        port: u16,
        protocol: &str,
    ) -> Verdict {
        let (pod, peer) = match direction {
            Direction::Ingress => (destination, source),
            Direction::Egress => (source, destination),
        };
        let isolating: Vec<usize> = self
            .selecting(pod)
            .into_iter()
            .filter(|&index| {
                let spec = &self.policies[index].spec;
                match direction {
                    Direction::Ingress => spec.isolates_ingress(),
                    Direction::Egress => spec.isolates_egress(),
                }
            })
            .collect();
        if isolating.is_empty() {
            return Verdict::NotIsolated;
        }
        let mut allowed_by = Vec::new();
        for &index in &isolating {
            let policy = &self.policies[index];
            let rules = match direction {
                Direction::Ingress => &policy.spec.ingress,
                Direction::Egress => &policy.spec.egress,
            };
            for (rule_index, rule) in rules.iter().enumerate() {
                if self.rule_allows(&policy.metadata.namespace, rule, peer, port, protocol) {
                    allowed_by.push((index, rule_index));
                }
            }
        }
        if allowed_by.is_empty() {
            Verdict::Denied(isolating)
        } else {
            Verdict::Allowed(allowed_by)
        }
    }

    fn rule_allows(
        &self,
        policy_namespace: &str,
        rule: &NetworkPolicyRule,
        peer: &Endpoint,
        port: u16,
        protocol: &str,
    ) -> bool {
        let port_ok = rule.ports.is_empty()
            || rule.ports.iter().any(|rule_port| {
                rule_port
                    .protocol
                    .as_deref()
                    .unwrap_or("TCP")
                    .eq_ignore_ascii_case(protocol)
                    && match &rule_port.port {
                        None => true,
                        Some(PortValue::Number(start)) => match rule_port.end_port {
                            Some(end) => (*start..=end).contains(&port),
                            None => *start == port,
                        },
                        Some(PortValue::Name(_)) => false,
                    }
            });
        port_ok
            && (rule.peers().is_empty()
                || rule
                    .peers()
                    .iter()
                    .any(|rule_peer| self.peer_matches(policy_namespace, rule_peer, peer)))
    }

    fn peer_matches(
        &self,
        policy_namespace: &str,
        rule_peer: &NetworkPolicyPeer,
        peer: &Endpoint,
    ) -> bool {
        if let Some(block) = &rule_peer.ip_block {
            return cidr_contains(&block.cidr, &peer.address)
                && !block
                    .except
                    .iter()
                    .any(|except| cidr_contains(except, &peer.address));
        }
        if !peer.in_cluster() {
            return false;
        }
        let namespace_ok = match &rule_peer.namespace_selector {
            Some(selector) => selector.matches(&self.namespace_labels(&peer.namespace)),
            None => peer.namespace == policy_namespace,
        };
        let pod_ok = match &rule_peer.pod_selector {
            Some(selector) => selector.matches(&peer.labels),
            None => true,
        };
        let has_selector =
            rule_peer.namespace_selector.is_some() || rule_peer.pod_selector.is_some();
        has_selector && namespace_ok && pod_ok
    }
}

/// Whether `address` is inside `cidr` (`a.b.c.d/n` or IPv6; a bare address is /32 or
/// /128). Unparseable input never matches.
pub(crate) fn cidr_contains(cidr: &str, address: &str) -> bool {
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    let (network, prefix) = match cidr.split_once('/') {
        Some((network, prefix)) => (network, prefix.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (network, address) {
        (IpAddr::V4(network), IpAddr::V4(address)) => {
            let prefix = prefix.unwrap_or(32);
            if prefix > 32 {
                return false;
            }
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            u32::from(network) & mask == u32::from(address) & mask
        }
        (IpAddr::V6(network), IpAddr::V6(address)) => {
            let prefix = prefix.unwrap_or(128);
            if prefix > 128 {
                return false;
            }
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            u128::from(network) & mask == u128::from(address) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(namespace: &str, app: &str) -> Endpoint {
        Endpoint {
            address: "10.0.0.1".into(),
            namespace: namespace.into(),
            workload: app.into(),
            labels: BTreeMap::from([("app".to_owned(), app.to_owned())]),
        }
    }

    fn set(yaml: &str) -> PolicySet {
        let policy: NetworkPolicy = serde_yaml::from_str(yaml).unwrap();
        PolicySet {
            policies: vec![policy],
            namespace_labels: BTreeMap::new(),
        }
    }

    fn allowed(set: &PolicySet, from: &Endpoint, port: u16, protocol: &str) -> bool {
        matches!(
            set.verdict(Direction::Ingress, from, &pod("db", "pg"), port, protocol),
            Verdict::Allowed(_)
        )
    }

    #[test]
    fn peer_and_port_semantics() {
        let pod_only = set(
            "metadata: {name: p, namespace: db}\nspec:\n  podSelector: {matchLabels: {app: pg}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 5000, endPort: 5010}]\n",
        );
        assert!(allowed(&pod_only, &pod("db", "api"), 5005, "TCP"));
        assert!(
            !allowed(&pod_only, &pod("shop", "api"), 5005, "TCP"),
            "podSelector alone: the policy's namespace"
        );
        assert!(
            !allowed(&pod_only, &pod("db", "api"), 5011, "TCP"),
            "outside endPort"
        );
        assert!(
            !allowed(&pod_only, &pod("db", "api"), 5005, "UDP"),
            "protocol defaults to TCP"
        );
        assert!(!allowed(&pod_only, &pod("db", "web"), 5005, "TCP"));

        let both = set(
            "metadata: {name: p, namespace: db}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}, podSelector: {matchLabels: {app: api}}}]\n",
        );
        assert!(
            allowed(&both, &pod("shop", "api"), 1, "UDP"),
            "no ports: any port"
        );
        assert!(!allowed(&both, &pod("shop", "web"), 1, "TCP"));
        assert!(!allowed(&both, &pod("db", "api"), 1, "TCP"));

        let named = set(
            "metadata: {name: p, namespace: db}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: postgres}]\n",
        );
        assert!(
            !allowed(&named, &pod("db", "api"), 5432, "TCP"),
            "named ports never match"
        );

        let egress_only = set(
            "metadata: {name: p, namespace: db}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n",
        );
        assert!(matches!(
            egress_only.verdict(
                Direction::Ingress,
                &pod("x", "y"),
                &pod("db", "pg"),
                1,
                "TCP"
            ),
            Verdict::NotIsolated
        ));
        assert!(matches!(
            egress_only.verdict(
                Direction::Egress,
                &pod("db", "pg"),
                &pod("x", "y"),
                1,
                "TCP"
            ),
            Verdict::Denied(_)
        ));
    }

    #[test]
    fn cidrs() {
        assert!(cidr_contains("10.0.0.0/8", "10.1.2.3"));
        assert!(!cidr_contains("10.0.0.0/8", "11.1.2.3"));
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8"));
        assert!(cidr_contains("1.2.3.4/32", "1.2.3.4"));
        assert!(cidr_contains("1.2.3.4", "1.2.3.4"));
        assert!(!cidr_contains("1.2.3.4/33", "1.2.3.4"));
        assert!(cidr_contains("fd00::/8", "fd12::1"));
        assert!(!cidr_contains("fd00::/8", "10.0.0.1"));
        assert!(!cidr_contains("10.0.0.0/8", "not-an-ip"));
    }
}
