//! `NetworkPolicy` (`networking.k8s.io/v1`) and `Namespace` objects.

use serde::{Deserialize, Deserializer};

use super::selector::LabelSelector;
use super::{ObjectMeta, null_default};

/// A `NetworkPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NetworkPolicy {
    /// Metadata; the policy applies in `metadata.namespace`.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: NetworkPolicySpec,
}

/// `NetworkPolicy.spec`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// Pods (in the policy's namespace) the policy applies to; `{}` selects all.
    pub pod_selector: LabelSelector,
    /// `Ingress` and/or `Egress`. When absent: `Ingress`, plus `Egress` if the policy
    /// has egress rules.
    pub policy_types: Option<Vec<String>>,
    /// Ingress rules; a connection is allowed when any rule allows it.
    #[serde(deserialize_with = "null_default")]
    pub ingress: Vec<NetworkPolicyRule>,
    /// Egress rules.
    #[serde(deserialize_with = "null_default")]
    pub egress: Vec<NetworkPolicyRule>,
}

impl NetworkPolicySpec {
    /// Whether the policy isolates selected pods for ingress.
    pub fn isolates_ingress(&self) -> bool {
        match &self.policy_types {
            Some(types) => types.iter().any(|t| t == "Ingress"),
            None => true,
        }
    }

    /// Whether the policy isolates selected pods for egress.
    pub fn isolates_egress(&self) -> bool {
        match &self.policy_types {
            Some(types) => types.iter().any(|t| t == "Egress"),
            None => !self.egress.is_empty(),
        }
    }
}

/// An ingress or egress rule. `from` (ingress) and `to` (egress) are both read into
/// `peers`. Empty `peers` means any peer; empty `ports` means any port.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct NetworkPolicyRule {
    /// Ingress peers.
    #[serde(deserialize_with = "null_default")]
    pub from: Vec<NetworkPolicyPeer>,
    /// Egress peers.
    #[serde(deserialize_with = "null_default")]
    pub to: Vec<NetworkPolicyPeer>,
    /// Ports.
    #[serde(deserialize_with = "null_default")]
    pub ports: Vec<NetworkPolicyPort>,
}

impl NetworkPolicyRule {
    /// The peers of the rule, whichever direction it is.
    pub fn peers(&self) -> &[NetworkPolicyPeer] {
        if self.from.is_empty() {
            &self.to
        } else {
            &self.from
        }
    }
}

/// A peer: pods by selector (in the policy's namespace, or in selected namespaces), or
/// an IP block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NetworkPolicyPeer {
    /// Pod selector.
    pub pod_selector: Option<LabelSelector>,
    /// Namespace selector.
    pub namespace_selector: Option<LabelSelector>,
    /// IP block.
    pub ip_block: Option<IpBlock>,
}

/// `ipBlock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IpBlock {
    /// CIDR allowed.
    #[serde(deserialize_with = "null_default")]
    pub cidr: String,
    /// CIDRs excluded from `cidr`.
    #[serde(deserialize_with = "null_default")]
    pub except: Vec<String>,
}

/// A port of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NetworkPolicyPort {
    /// `TCP` (default), `UDP` or `SCTP`.
    pub protocol: Option<String>,
    /// Port number or named port; absent means every port.
    pub port: Option<PortValue>,
    /// End of a port range starting at `port`.
    pub end_port: Option<u16>,
}

/// A port number or a named container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortValue {
    /// A number.
    Number(u16),
    /// A named port; it cannot be resolved from flows, so it never matches.
    Name(String),
}

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u16),
            Text(String),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Number(number) => PortValue::Number(number),
            Raw::Text(text) => match text.parse::<u16>() {
                Ok(number) => PortValue::Number(number),
                Err(_) => PortValue::Name(text),
            },
        })
    }
}

/// A `Namespace`: only its labels matter (for `namespaceSelector`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Namespace {
    /// Metadata.
    pub metadata: ObjectMeta,
}

/// A `Pod`: its labels, to find pods no policy selects.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Pod {
    /// Metadata.
    pub metadata: ObjectMeta,
}
