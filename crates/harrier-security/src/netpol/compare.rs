//! Comparing existing NetworkPolicies with observed connections.

use std::collections::{BTreeMap, BTreeSet};

use super::flow::Endpoint;
use super::policy::{Direction, PolicySet, Verdict};
use super::{BlockedFlow, ConnectionKey, EndpointId, PolicyComparison, Unselected, UnusedRule};
use crate::k8s::netpol::Pod;

/// Rules that allowed nothing, connections blocked per direction, and workloads or pods
/// no policy selects.
pub(super) fn compare(
    policies: &PolicySet,
    pods: &[Pod],
    connections: &BTreeMap<ConnectionKey, u64>,
    workloads: &BTreeSet<EndpointId>,
    endpoint: &dyn Fn(&EndpointId) -> Endpoint,
) -> PolicyComparison {
    let policy_name = |index: usize| {
        format!(
            "{}/{}",
            policies.policies[index].metadata.namespace, policies.policies[index].metadata.name
        )
    };
    let mut used_rules: BTreeSet<(usize, Direction, usize)> = BTreeSet::new();
    let mut blocked = Vec::new();
    for ((source, destination, port, protocol), &count) in connections {
        let (source_endpoint, destination_endpoint) = (endpoint(source), endpoint(destination));
        for direction in [Direction::Egress, Direction::Ingress] {
            match policies.verdict(
                direction,
                &source_endpoint,
                &destination_endpoint,
                *port,
                protocol,
            ) {
                Verdict::NotIsolated => {}
                Verdict::Allowed(rules) => {
                    used_rules.extend(
                        rules
                            .into_iter()
                            .map(|(policy, rule)| (policy, direction, rule)),
                    );
                }
                Verdict::Denied(isolating) => blocked.push(BlockedFlow {
                    direction,
                    source: source.describe(),
                    destination: destination.describe(),
                    port: *port,
                    protocol: protocol.clone(),
                    flows: count,
                    isolated_by: isolating.into_iter().map(policy_name).collect(),
                }),
            }
        }
    }
    let mut unused_rules = Vec::new();
    for (index, policy) in policies.policies.iter().enumerate() {
        let directions = [
            (
                Direction::Ingress,
                policy.spec.isolates_ingress(),
                policy.spec.ingress.len(),
            ),
            (
                Direction::Egress,
                policy.spec.isolates_egress(),
                policy.spec.egress.len(),
            ),
        ];
        for (direction, isolates, rules) in directions {
            if !isolates {
                continue;
            }
            for rule_index in 0..rules {
                if !used_rules.contains(&(index, direction, rule_index)) {
                    unused_rules.push(UnusedRule {
                        policy: policy_name(index),
                        direction,
                        rule_index,
                    });
                }
            }
        }
    }
    let mut unselected = BTreeSet::new();
    for id in workloads {
        let EndpointId::Workload(namespace, workload) = id else {
            continue;
        };
        if policies.selecting(&endpoint(id)).is_empty() {
            unselected.insert(Unselected {
                namespace: namespace.clone(),
                name: workload.clone(),
                kind: "workload".to_owned(),
            });
        }
    }
    for pod in pods {
        let pod_endpoint = Endpoint {
            namespace: pod.metadata.namespace.clone(),
            workload: pod.metadata.name.clone(),
            labels: pod.metadata.labels.clone(),
            ..Endpoint::default()
        };
        if policies.selecting(&pod_endpoint).is_empty() {
            unselected.insert(Unselected {
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                kind: "pod".to_owned(),
            });
        }
    }
    PolicyComparison {
        unused_rules,
        blocked_flows: blocked,
        unselected: unselected.into_iter().collect(),
    }
}
