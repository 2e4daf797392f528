//! NetworkPolicy advice on a small set of flows: in-cluster peers with noisy labels, an
//! external destination and client, DNS, a workload without labels; and the comparison
//! with existing policies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use harrier_security::netpol::{Direction, Peer};
use harrier_security::{Format, NetpolReport, netpol_advise};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn report(with_policies: bool) -> NetpolReport {
    let flows = fixture("flows.jsonl");
    let policies = fixture("policies.yaml");
    let policy_inputs: Vec<(&str, &str)> = if with_policies {
        vec![("policies.yaml", policies.as_str())]
    } else {
        Vec::new()
    };
    netpol_advise(&[("flows.jsonl", &flows)], &policy_inputs).unwrap()
}

#[test]
fn aggregates_flows_per_workload() {
    let report = report(false);
    assert_eq!(
        (
            report.inputs.flow_records,
            report.inputs.flows,
            report.inputs.connections
        ),
        (15, 14, 7),
        "the audit record is skipped silently; the OTLP-shaped record counts"
    );
    assert!(report.comparison.is_none());
    let names: Vec<String> = report
        .workloads
        .iter()
        .map(|w| format!("{}/{}", w.namespace, w.workload))
        .collect();
    assert_eq!(
        names,
        [
            "db/postgres",
            "kube-system/coredns",
            "shop/checkout",
            "shop/frontend",
            "shop/report-job"
        ]
    );

    let checkout = report.workload("shop", "checkout").unwrap();
    assert!(checkout.labels_observed);
    assert_eq!(
        checkout.pod_selector.len(),
        2,
        "pod-template-hash dropped: {:?}",
        checkout.pod_selector
    );
    assert_eq!(checkout.dns_flows, 5);
    assert_eq!(checkout.ingress.len(), 1);
    assert_eq!(checkout.ingress[0].flows, 3);
    assert_eq!(checkout.egress.len(), 2);
    assert_eq!(
        checkout.egress[1].peer,
        Peer::External {
            cidr: "203.0.113.10/32".to_owned()
        }
    );

    let postgres = report.workload("db", "postgres").unwrap();
    let selector: Vec<(&str, &str)> = postgres
        .pod_selector
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        selector,
        [("app", "postgres")],
        "statefulset and revision labels dropped"
    );

    // Two frontend pods with different pod-template-hash: only the common label is kept.
    let frontend = report.workload("shop", "frontend").unwrap();
    assert_eq!(frontend.pod_selector.keys().collect::<Vec<_>>(), ["app"]);
    assert_eq!(
        frontend.ingress[0].peer,
        Peer::External {
            cidr: "198.51.100.7/32".to_owned()
        }
    );

    let job = report.workload("shop", "report-job").unwrap();
    assert!(!job.labels_observed);
    assert!(job.suggested_policy.contains("ingress: []"));

    assert!(
        report
            .workload("kube-system", "coredns")
            .unwrap()
            .suggested_policy
            .contains("# WARNING: this is the cluster DNS")
    );
}

#[test]
fn suggested_policy_for_checkout() {
    let report = report(false);
    let expected = r#"# Suggested NetworkPolicy for shop/checkout from 12 observed flows. Review before applying.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: harrier-checkout
  namespace: "shop"
  annotations:
    harrier.dev/generated-by: "netpol-advise"
spec:
  podSelector:
    matchLabels: {"app": "checkout", "tier": "backend"}
  policyTypes: ["Ingress", "Egress"]
  ingress:
  # from shop/frontend 8080/TCP: 3 flows
  - from:
    - namespaceSelector:
        matchLabels: {"kubernetes.io/metadata.name": "shop"}
      podSelector:
        matchLabels: {"app": "frontend"}
    ports:
    - protocol: TCP
      port: 8080
  egress:
  # DNS to kube-dns, always allowed (5 observed flows)
  - to:
    - namespaceSelector:
        matchLabels: {"kubernetes.io/metadata.name": "kube-system"}
      podSelector:
        matchLabels: {"k8s-app": "kube-dns"}
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
  # to db/postgres 5432/TCP: 2 flows
  - to:
    - namespaceSelector:
        matchLabels: {"kubernetes.io/metadata.name": "db"}
      podSelector:
        matchLabels: {"app": "postgres"}
    ports:
    - protocol: TCP
      port: 5432
  # to 203.0.113.10/32 443/TCP: 2 flows
  - to:
    - ipBlock:
        cidr: "203.0.113.10/32"
    ports:
    - protocol: TCP
      port: 443
"#;
    assert_eq!(
        report
            .workload("shop", "checkout")
            .unwrap()
            .suggested_policy,
        expected
    );
}

#[test]
fn suggested_policies_are_valid_network_policies() {
    use harrier_security::k8s::netpol::NetworkPolicy;
    let report = report(false);
    for advice in &report.workloads {
        let value: serde_yaml::Value = serde_yaml::from_str(&advice.suggested_policy).unwrap();
        assert_eq!(value["kind"], serde_yaml::Value::from("NetworkPolicy"));
        let policy: NetworkPolicy = serde_yaml::from_value(value).unwrap();
        assert_eq!(policy.metadata.namespace, advice.namespace);
        assert!(policy.spec.isolates_ingress() && policy.spec.isolates_egress());
        assert_eq!(policy.spec.ingress.len(), advice.ingress.len());
        assert_eq!(
            policy.spec.egress.len(),
            advice.egress.len() + 1,
            "plus DNS"
        );
    }
}

#[test]
fn applying_the_suggestions_allows_every_observed_flow() {
    // Feed the suggested policies back as the existing policies: nothing is blocked,
    // and every rule allowed something (the DNS rule only where DNS was seen). The one
    // exception is report-job, whose pod labels were never observed: its assumed
    // selector matches nothing we know of, which the comparison must show.
    let flows = fixture("flows.jsonl");
    let first = netpol_advise(&[("flows.jsonl", &flows)], &[]).unwrap();
    let suggested: String = first
        .workloads
        .iter()
        .map(|advice| format!("---\n{}", advice.suggested_policy))
        .collect();
    let second = netpol_advise(
        &[("flows.jsonl", &flows)],
        &[("suggested.yaml", &suggested)],
    )
    .unwrap();
    let comparison = second.comparison.unwrap();
    let blocked: Vec<String> = comparison
        .blocked_flows
        .iter()
        .map(|f| format!("{:?} {} -> {}", f.direction, f.source, f.destination))
        .collect();
    assert_eq!(blocked, ["Ingress shop/report-job -> db/postgres"]);
    let unselected: Vec<String> = comparison
        .unselected
        .iter()
        .map(|u| format!("{}/{}", u.namespace, u.name))
        .collect();
    assert_eq!(unselected, ["shop/report-job"]);
    let unused: Vec<String> = comparison
        .unused_rules
        .iter()
        .map(|r| format!("{} {:?} #{}", r.policy, r.direction, r.rule_index))
        .collect();
    assert_eq!(
        unused,
        [
            "db/harrier-postgres Ingress #1",
            "db/harrier-postgres Egress #0",
            "kube-system/harrier-coredns Egress #0",
            "shop/harrier-frontend Egress #0",
            "shop/harrier-report-job Egress #0",
            "shop/harrier-report-job Egress #1",
        ],
        "DNS rules of workloads that made no DNS query, and report-job's rules"
    );
}

#[test]
fn compares_existing_policies() {
    let report = report(true);
    assert_eq!(
        (
            report.inputs.policies,
            report.inputs.namespaces,
            report.inputs.pods
        ),
        (3, 1, 2)
    );
    let comparison = report.comparison.as_ref().unwrap();

    let unused: Vec<(&str, Direction, usize)> = comparison
        .unused_rules
        .iter()
        .map(|r| (r.policy.as_str(), r.direction, r.rule_index))
        .collect();
    assert_eq!(
        unused,
        [
            ("db/postgres-ingress", Direction::Ingress, 1),
            ("shop/frontend-ingress", Direction::Ingress, 1)
        ]
    );

    let blocked: Vec<String> = comparison
        .blocked_flows
        .iter()
        .map(|f| {
            format!(
                "{:?} {} -> {} {}/{} x{} by {}",
                f.direction,
                f.source,
                f.destination,
                f.port,
                f.protocol,
                f.flows,
                f.isolated_by.join(",")
            )
        })
        .collect();
    assert_eq!(
        blocked,
        [
            "Egress shop/checkout -> db/postgres 5432/TCP x2 by shop/default-deny-egress",
            "Egress shop/checkout -> kube-system/coredns 53/TCP x1 by shop/default-deny-egress",
            "Egress shop/frontend -> shop/checkout 8080/TCP x3 by shop/default-deny-egress",
            "Egress shop/report-job -> db/postgres 5432/TCP x1 by shop/default-deny-egress",
            "Ingress shop/report-job -> db/postgres 5432/TCP x1 by db/postgres-ingress",
        ]
    );

    let unselected: Vec<String> = comparison
        .unselected
        .iter()
        .map(|u| format!("{} {}/{}", u.kind, u.namespace, u.name))
        .collect();
    assert_eq!(
        unselected,
        [
            "workload kube-system/coredns",
            "pod kube-system/coredns-abc"
        ]
    );
}

#[test]
fn renders_text_json_and_yaml() {
    let report = report(true);
    let text = report.render(Format::Text);
    assert!(text.contains("== shop/checkout =="), "{text}");
    assert!(
        text.contains("observed flows the policies block (5):"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
    assert_eq!(json["workloads"][2]["workload"], "checkout");
    assert_eq!(
        json["workloads"][2]["egress"][1]["peer"]["kind"],
        "external"
    );
    assert_eq!(
        json["comparison"]["blocked_flows"][4]["direction"],
        "ingress"
    );
    let yaml: serde_yaml::Value = serde_yaml::from_str(&report.render(Format::Yaml)).unwrap();
    assert_eq!(yaml["inputs"]["connections"], serde_yaml::Value::from(7));
}
