//! NetworkPolicy advice from observed flows.
//!
//! [`netpol_advise`] reads flow records ([`flow`] describes the accepted shapes) and,
//! optionally, existing `NetworkPolicy` objects (plus `Namespace` objects for their
//! labels and `Pod` objects to find unselected pods), and builds a [`NetpolReport`]:
//!
//! - **Per workload** seen in the cluster (an endpoint with a namespace), a suggested
//!   NetworkPolicy: `podSelector` by the labels its pods had in common, noise labels
//!   dropped ([`NOISE_LABELS`]); one ingress rule per observed client (workload or
//!   external address) x port x protocol and one egress rule per observed server;
//!   workloads are addressed with `namespaceSelector` on `kubernetes.io/metadata.name`
//!   plus `podSelector`, addresses outside the cluster with an `ipBlock` /32 (/128 for
//!   IPv6). An egress rule to kube-dns (`k8s-app: kube-dns` in `kube-system`, port 53
//!   UDP and TCP) is always added, and flows to it are folded into that rule.
//! - **With policies**: rules that allowed no observed flow, observed flows the
//!   policies would block (per direction), and workloads or pods no policy selects.
//!
//! Flows are aggregated by (source, destination, port, protocol); the source port is
//! ignored. Policy evaluation semantics are in [`policy`].

mod compare;
pub mod flow;
pub mod policy;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::k8s::netpol::{Namespace, NetworkPolicy, Pod};
use crate::k8s::{kind_of, parse_objects};
use crate::{Format, ReportError};

use flow::{Endpoint, Flow, FlowRecords};
pub use policy::Direction;
use policy::PolicySet;

/// Labels that differ between pods of one workload or between rollouts; never used in
/// a suggested selector.
pub const NOISE_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "pod-template-generation",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
];

/// Label key used for a workload whose pod labels were never observed (the selector is
/// then an assumption, flagged in the output).
pub const FALLBACK_LABEL: &str = "app.kubernetes.io/name";

/// What the advice cannot see; printed with every report.
pub const CAVEATS: &[&str] = &[
    "Suggestions cover only the flows observed in the window: traffic that did not happen in it (batch jobs, failover, rare admin paths) will be blocked if they are applied.",
    "Endpoints without Kubernetes metadata are treated as outside the cluster and addressed by /32 ipBlock; pod IPs change, so such rules for in-cluster pods are fragile.",
    "Workload selectors use labels common to the observed pods; where no labels were observed the selector is an assumption (app.kubernetes.io/name=<workload>) and must be checked.",
    "Policy evaluation ignores named ports (they never match), and what a CNI does beyond the NetworkPolicy API (ipBlock on pod IPs, host-network pods, node traffic) is not modelled.",
];

/// The report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetpolReport {
    /// What was read.
    pub inputs: NetpolInputs,
    /// One entry per in-cluster workload, sorted by namespace and name.
    pub workloads: Vec<WorkloadAdvice>,
    /// Present when policies were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<PolicyComparison>,
    /// Limits of the analysis.
    pub caveats: Vec<String>,
}

/// What the report was built from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetpolInputs {
    /// Records read.
    pub flow_records: usize,
    /// Flow records used.
    pub flows: usize,
    /// Distinct (source, destination, port, protocol) connections.
    pub connections: usize,
    /// NetworkPolicies read.
    pub policies: usize,
    /// Namespaces read.
    pub namespaces: usize,
    /// Pods read.
    pub pods: usize,
    /// Skipped records and objects.
    pub warnings: Vec<String>,
}

/// A peer of a suggested rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Peer {
    /// Pods of a workload.
    Workload {
        /// Namespace.
        namespace: String,
        /// Workload name.
        workload: String,
        /// The labels selecting its pods.
        pod_selector: BTreeMap<String, String>,
        /// Whether `pod_selector` comes from observed labels (else it is assumed).
        labels_observed: bool,
    },
    /// An address outside the cluster.
    External {
        /// `a.b.c.d/32` or `x::y/128`.
        cidr: String,
    },
}

/// An observed connection, as a rule of a suggested policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedRule {
    /// The other side.
    pub peer: Peer,
    /// The destination port.
    pub port: u16,
    /// The protocol.
    pub protocol: String,
    /// Flow records behind it.
    pub flows: u64,
}

/// Advice for one workload.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadAdvice {
    /// Namespace.
    pub namespace: String,
    /// Workload name.
    pub workload: String,
    /// Labels selecting its pods.
    pub pod_selector: BTreeMap<String, String>,
    /// Whether `pod_selector` comes from observed labels.
    pub labels_observed: bool,
    /// Observed clients.
    pub ingress: Vec<ObservedRule>,
    /// Observed servers (DNS to kube-dns excluded: it is always allowed).
    pub egress: Vec<ObservedRule>,
    /// Flows to kube-dns folded into the DNS rule.
    pub dns_flows: u64,
    /// The suggested NetworkPolicy (YAML with evidence comments).
    pub suggested_policy: String,
}

/// Existing policies compared with observed flows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyComparison {
    /// Rules that allowed no observed flow.
    pub unused_rules: Vec<UnusedRule>,
    /// Observed flows the policies do not allow.
    pub blocked_flows: Vec<BlockedFlow>,
    /// Workloads (from flows) and pods (from inputs) no policy selects.
    pub unselected: Vec<Unselected>,
}

/// A policy rule no observed flow used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedRule {
    /// `namespace/name`.
    pub policy: String,
    /// The rule's direction.
    pub direction: Direction,
    /// Its index in `spec.ingress` / `spec.egress`.
    pub rule_index: usize,
}

/// An observed connection the policies block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedFlow {
    /// Where it is blocked: ingress at the destination, egress at the source.
    pub direction: Direction,
    /// `namespace/workload` or address.
    pub source: String,
    /// `namespace/workload` or address.
    pub destination: String,
    /// Destination port.
    pub port: u16,
    /// Protocol.
    pub protocol: String,
    /// Flow records.
    pub flows: u64,
    /// The policies isolating the pod (`namespace/name`).
    pub isolated_by: Vec<String>,
}

/// A workload or pod no policy selects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unselected {
    /// Namespace.
    pub namespace: String,
    /// Workload (from flows) or pod name (from `Pod` inputs).
    pub name: String,
    /// `workload` or `pod`.
    pub kind: String,
}

impl NetpolReport {
    /// The advice for one workload.
    pub fn workload(&self, namespace: &str, workload: &str) -> Option<&WorkloadAdvice> {
        self.workloads
            .iter()
            .find(|advice| advice.namespace == namespace && advice.workload == workload)
    }

    /// Renders the report.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => render::text(self),
            other => crate::serialise(self, other),
        }
    }
}

/// An endpoint identity: a workload, or an address outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum EndpointId {
    Workload(String, String),
    External(String),
}

impl EndpointId {
    fn of(endpoint: &Endpoint) -> Self {
        if endpoint.in_cluster() {
            Self::Workload(endpoint.namespace.clone(), endpoint.workload.clone())
        } else {
            Self::External(endpoint.address.clone())
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Workload(namespace, workload) => format!("{namespace}/{workload}"),
            Self::External(address) => address.clone(),
        }
    }
}

type ConnectionKey = (EndpointId, EndpointId, u16, String);

/// Builds the NetworkPolicy advice from flow inputs and (optional) policy inputs, each
/// `(path, content)`.
///
/// # Errors
///
/// [`ReportError::Parse`] when a flow input line is not JSON, or a policy input is not
/// JSON or YAML. Records that are not flows and objects of other kinds are skipped and
/// listed in [`NetpolInputs::warnings`].
pub fn netpol_advise(
    flow_inputs: &[(&str, &str)],
    policy_inputs: &[(&str, &str)],
) -> Result<NetpolReport, ReportError> {
    let mut records = FlowRecords::default();
    for (path, content) in flow_inputs {
        records.extend(path, content)?;
    }
    let mut policies = PolicySet::default();
    let mut pods = Vec::new();
    let mut warnings = records.skipped.clone();
    let mut namespaces = 0;
    for (path, content) in policy_inputs {
        for object in parse_objects(path, content)? {
            let kind = kind_of(&object).to_owned();
            let outcome = match kind.as_str() {
                "NetworkPolicy" => {
                    NetworkPolicy::deserialize(&object).map(|policy| policies.policies.push(policy))
                }
                "Namespace" => Namespace::deserialize(&object).map(|namespace| {
                    namespaces += 1;
                    policies
                        .namespace_labels
                        .insert(namespace.metadata.name, namespace.metadata.labels);
                }),
                "Pod" => Pod::deserialize(&object).map(|pod| pods.push(pod)),
                _ => {
                    warnings.push(format!("{}: object of kind {kind:?} ignored", path));
                    Ok(())
                }
            };
            if let Err(error) = outcome {
                warnings.push(format!("{}: unreadable {kind}: {error}", path));
            }
        }
    }
    let have_policy_inputs = !policy_inputs.is_empty();
    Ok(build(
        &records,
        &policies,
        &pods,
        have_policy_inputs,
        namespaces,
        warnings,
    ))
}

fn build(
    records: &FlowRecords,
    policies: &PolicySet,
    pods: &[Pod],
    have_policy_inputs: bool,
    namespaces: usize,
    warnings: Vec<String>,
) -> NetpolReport {
    // Labels per workload: those every observation with labels agreed on.
    let mut labels: BTreeMap<EndpointId, BTreeMap<String, String>> = BTreeMap::new();
    let mut connections: BTreeMap<ConnectionKey, u64> = BTreeMap::new();
    let mut workloads: BTreeSet<EndpointId> = BTreeSet::new();
    for flow in &records.flows {
        for endpoint in [&flow.source, &flow.destination] {
            let id = EndpointId::of(endpoint);
            if endpoint.in_cluster() {
                workloads.insert(id.clone());
            }
            if !endpoint.labels.is_empty() {
                labels
                    .entry(id)
                    .and_modify(|common| common.retain(|k, v| endpoint.labels.get(k) == Some(v)))
                    .or_insert_with(|| endpoint.labels.clone());
            }
        }
        let key = (
            EndpointId::of(&flow.source),
            EndpointId::of(&flow.destination),
            flow.port,
            flow.protocol.clone(),
        );
        *connections.entry(key).or_default() += 1;
    }
    let endpoint = |id: &EndpointId| -> Endpoint {
        match id {
            EndpointId::Workload(namespace, workload) => Endpoint {
                address: String::new(),
                namespace: namespace.clone(),
                workload: workload.clone(),
                labels: labels.get(id).cloned().unwrap_or_default(),
            },
            EndpointId::External(address) => Endpoint {
                address: address.clone(),
                workload: address.clone(),
                ..Endpoint::default()
            },
        }
    };
    let peer = |id: &EndpointId| -> Peer {
        match id {
            EndpointId::Workload(namespace, workload) => {
                let (pod_selector, labels_observed) = selector_for(labels.get(id), workload);
                Peer::Workload {
                    namespace: namespace.clone(),
                    workload: workload.clone(),
                    pod_selector,
                    labels_observed,
                }
            }
            EndpointId::External(address) => Peer::External {
                cidr: host_cidr(address),
            },
        }
    };

    let mut advice = Vec::new();
    for id in &workloads {
        let EndpointId::Workload(namespace, workload) = id else {
            continue;
        };
        let (pod_selector, labels_observed) = selector_for(labels.get(id), workload);
        let mut ingress = Vec::new();
        let mut egress = Vec::new();
        let mut dns_flows = 0;
        for ((source, destination, port, protocol), &count) in &connections {
            if destination == id {
                ingress.push(ObservedRule {
                    peer: peer(source),
                    port: *port,
                    protocol: protocol.clone(),
                    flows: count,
                });
            }
            if source == id {
                let flow = Flow {
                    source: endpoint(source),
                    destination: endpoint(destination),
                    port: *port,
                    protocol: protocol.clone(),
                };
                if is_dns(&flow) {
                    dns_flows += count;
                } else {
                    egress.push(ObservedRule {
                        peer: peer(destination),
                        port: *port,
                        protocol: protocol.clone(),
                        flows: count,
                    });
                }
            }
        }
        let mut entry = WorkloadAdvice {
            namespace: namespace.clone(),
            workload: workload.clone(),
            pod_selector,
            labels_observed,
            ingress,
            egress,
            dns_flows,
            suggested_policy: String::new(),
        };
        entry.suggested_policy = render::policy_yaml(&entry);
        advice.push(entry);
    }

    let comparison = have_policy_inputs
        .then(|| compare::compare(policies, pods, &connections, &workloads, &endpoint));
    NetpolReport {
        inputs: NetpolInputs {
            flow_records: records.records,
            flows: records.flows.len(),
            connections: connections.len(),
            policies: policies.policies.len(),
            namespaces,
            pods: pods.len(),
            warnings,
        },
        workloads: advice,
        comparison,
        caveats: CAVEATS.iter().map(|caveat| (*caveat).to_owned()).collect(),
    }
}

/// The selector for a workload: observed common labels minus noise, or the fallback.
fn selector_for(
    labels: Option<&BTreeMap<String, String>>,
    workload: &str,
) -> (BTreeMap<String, String>, bool) {
    let selector: BTreeMap<String, String> = labels
        .map(|labels| {
            labels
                .iter()
                .filter(|(key, _)| !NOISE_LABELS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    if selector.is_empty() {
        (
            BTreeMap::from([(FALLBACK_LABEL.to_owned(), workload.to_owned())]),
            false,
        )
    } else {
        (selector, true)
    }
}

/// `address/32` (or `/128` for IPv6).
fn host_cidr(address: &str) -> String {
    if address.contains(':') {
        format!("{address}/128")
    } else {
        format!("{address}/32")
    }
}

/// Whether a flow goes to the cluster DNS on port 53.
fn is_dns(flow: &Flow) -> bool {
    let destination = &flow.destination;
    flow.port == 53
        && is_cluster_dns(
            &destination.namespace,
            &destination.workload,
            &destination.labels,
        )
}

/// Whether a workload is the cluster DNS (kube-dns / CoreDNS in kube-system).
pub(crate) fn is_cluster_dns(
    namespace: &str,
    workload: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    namespace == "kube-system"
        && (matches!(workload, "kube-dns" | "coredns")
            || labels.get("k8s-app").map(String::as_str) == Some("kube-dns"))
}
