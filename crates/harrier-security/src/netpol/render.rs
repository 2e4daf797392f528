//! Text rendering and the suggested NetworkPolicy YAML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{NetpolReport, ObservedRule, Peer, WorkloadAdvice};
use crate::yaml::{flow_map, object_name, quote};

/// The suggested NetworkPolicy for one workload.
pub(crate) fn policy_yaml(advice: &WorkloadAdvice) -> String {
    let flows: u64 = advice
        .ingress
        .iter()
        .chain(&advice.egress)
        .map(|rule| rule.flows)
        .sum::<u64>()
        + advice.dns_flows;
    let mut out = format!(
        "# Suggested NetworkPolicy for {}/{} from {flows} observed flows. Review before applying.\n",
        advice.namespace, advice.workload
    );
    if super::is_cluster_dns(&advice.namespace, &advice.workload, &advice.pod_selector) {
        out.push_str(
            "# WARNING: this is the cluster DNS. Every pod needs it; limiting its ingress to the\n# clients observed in the window breaks DNS for all others.\n",
        );
    }
    out.push_str("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n");
    let _ = writeln!(
        out,
        "  name: {}",
        object_name(&["harrier", &advice.workload])
    );
    let _ = writeln!(out, "  namespace: {}", quote(&advice.namespace));
    out.push_str(
        "  annotations:\n    harrier.dev/generated-by: \"netpol-advise\"\nspec:\n  podSelector:\n",
    );
    if !advice.labels_observed {
        out.push_str("    # pod labels were not observed: this selector is an assumption\n");
    }
    let _ = writeln!(out, "    matchLabels: {}", flow_map(&advice.pod_selector));
    out.push_str("  policyTypes: [\"Ingress\", \"Egress\"]\n");
    if advice.ingress.is_empty() {
        out.push_str("  # no inbound flows observed: all ingress denied\n  ingress: []\n");
    } else {
        out.push_str("  ingress:\n");
        for rule in &advice.ingress {
            rule_yaml(&mut out, "from", rule);
        }
    }
    out.push_str("  egress:\n");
    let _ = writeln!(
        out,
        "  # DNS to kube-dns, always allowed ({} observed flows)",
        advice.dns_flows
    );
    out.push_str("  - to:\n");
    peer_yaml(
        &mut out,
        &Peer::Workload {
            namespace: "kube-system".to_owned(),
            workload: "kube-dns".to_owned(),
            pod_selector: BTreeMap::from([("k8s-app".to_owned(), "kube-dns".to_owned())]),
            labels_observed: true,
        },
    );
    out.push_str(
        "    ports:\n    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53\n",
    );
    for rule in &advice.egress {
        rule_yaml(&mut out, "to", rule);
    }
    out
}

fn rule_yaml(out: &mut String, field: &str, rule: &ObservedRule) {
    let _ = writeln!(
        out,
        "  # {} {} {}/{}: {} flows",
        if field == "from" { "from" } else { "to" },
        describe_peer(&rule.peer),
        rule.port,
        rule.protocol,
        rule.flows
    );
    let _ = writeln!(out, "  - {field}:");
    peer_yaml(out, &rule.peer);
    let _ = writeln!(
        out,
        "    ports:\n    - protocol: {}\n      port: {}",
        rule.protocol, rule.port
    );
}

fn peer_yaml(out: &mut String, peer: &Peer) {
    match peer {
        Peer::Workload {
            namespace,
            pod_selector,
            labels_observed,
            ..
        } => {
            let namespace_labels =
                BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), namespace.clone())]);
            let _ = writeln!(
                out,
                "    - namespaceSelector:\n        matchLabels: {}",
                flow_map(&namespace_labels)
            );
            if !labels_observed {
                out.push_str(
                    "      # peer labels were not observed: this selector is an assumption\n",
                );
            }
            let _ = writeln!(
                out,
                "      podSelector:\n        matchLabels: {}",
                flow_map(pod_selector)
            );
        }
        Peer::External { cidr } => {
            let _ = writeln!(out, "    - ipBlock:\n        cidr: {}", quote(cidr));
        }
    }
}

fn describe_peer(peer: &Peer) -> String {
    match peer {
        Peer::Workload {
            namespace,
            workload,
            ..
        } => format!("{namespace}/{workload}"),
        Peer::External { cidr } => cidr.clone(),
    }
}

pub(crate) fn text(report: &NetpolReport) -> String {
    let mut out = String::new();
    let inputs = &report.inputs;
    let _ = writeln!(out, "NetworkPolicy advice");
    let _ = writeln!(
        out,
        "inputs: {} flow records, {} flows, {} distinct connections; {} NetworkPolicies, {} Namespaces, {} Pods",
        inputs.flow_records,
        inputs.flows,
        inputs.connections,
        inputs.policies,
        inputs.namespaces,
        inputs.pods
    );
    for warning in &inputs.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for advice in &report.workloads {
        let _ = writeln!(out, "\n== {}/{} ==", advice.namespace, advice.workload);
        for rule in &advice.ingress {
            let _ = writeln!(
                out,
                "  in  from {} {}/{} ({} flows)",
                describe_peer(&rule.peer),
                rule.port,
                rule.protocol,
                rule.flows
            );
        }
        for rule in &advice.egress {
            let _ = writeln!(
                out,
                "  out to   {} {}/{} ({} flows)",
                describe_peer(&rule.peer),
                rule.port,
                rule.protocol,
                rule.flows
            );
        }
        if advice.dns_flows > 0 {
            let _ = writeln!(out, "  out to   kube-dns 53 ({} flows)", advice.dns_flows);
        }
        out.push_str("suggested policy:\n");
        for line in advice.suggested_policy.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(comparison) = &report.comparison {
        let _ = writeln!(out, "\n== existing policies ==");
        let _ = writeln!(
            out,
            "rules that allowed no observed flow ({}):",
            comparison.unused_rules.len()
        );
        for rule in &comparison.unused_rules {
            let _ = writeln!(
                out,
                "  {} {:?} rule #{}",
                rule.policy, rule.direction, rule.rule_index
            );
        }
        let _ = writeln!(
            out,
            "observed flows the policies block ({}):",
            comparison.blocked_flows.len()
        );
        for flow in &comparison.blocked_flows {
            let _ = writeln!(
                out,
                "  {:?}: {} -> {} {}/{} ({} flows) isolated by {}",
                flow.direction,
                flow.source,
                flow.destination,
                flow.port,
                flow.protocol,
                flow.flows,
                flow.isolated_by.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "selected by no policy ({}):",
            comparison.unselected.len()
        );
        for unselected in &comparison.unselected {
            let _ = writeln!(
                out,
                "  {} {}/{}",
                unselected.kind, unselected.namespace, unselected.name
            );
        }
    }
    let _ = writeln!(out, "\ncaveats:");
    for caveat in &report.caveats {
        let _ = writeln!(out, "- {caveat}");
    }
    out
}
