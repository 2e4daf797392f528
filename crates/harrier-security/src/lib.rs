//! Harrier's security layer: findings from Kubernetes telemetry, in-flight and after
//! the fact.
//!
//! In-flight, the [`anomaly`] processor tags audit events, runtime events, flow records
//! and spans with findings of the stateless [`rules`] (over the [`audit`] view) and of
//! stateful per-entity baselines (see [`finding`] for what they report). The [`falco`]
//! receiver brings Falco alerts and Tetragon events in as runtime and flow records.
//!
//! After the fact, two least-privilege reports built from what a cluster actually did.
//! Two reports, each a pure function from input files (given as `(path, content)`
//! pairs, so callers decide how to read them) to a serialisable report:
//!
//! - [`rbac_report`]: RBAC objects plus audit events give, per subject, what RBAC
//!   grants, what was used (with counts, last use and the grant rule that allowed it),
//!   what is granted but unused (high risk first), what was denied, and a suggested
//!   least-privilege Role/ClusterRole with bindings. See [`rbac`].
//! - [`netpol_advise`]: network flow records (and optionally existing NetworkPolicies)
//!   give a suggested NetworkPolicy per workload, plus, when policies are given, rules
//!   that allowed nothing, flows the policies would block, and workloads no policy
//!   selects. See [`netpol`].
//!
//! Both reports render as text, JSON or YAML with `render(Format)`.
//!
//! # Usage
//!
//! ```
//! use harrier_security::{Format, rbac_report};
//!
//! let rbac = r#"
//! apiVersion: v1
//! kind: List
//! items:
//! - apiVersion: rbac.authorization.k8s.io/v1
//!   kind: Role
//!   metadata: {name: reader, namespace: shop}
//!   rules:
//!   - apiGroups: [""]
//!     resources: ["pods", "secrets"]
//!     verbs: ["get", "list"]
//! - apiVersion: rbac.authorization.k8s.io/v1
//!   kind: RoleBinding
//!   metadata: {name: reader-alice, namespace: shop}
//!   roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
//!   subjects:
//!   - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
//! "#;
//! let audit = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"list","user":{"username":"alice","groups":["system:authenticated"]},"objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T10:00:00.000000Z"}"#;
//!
//! let report = rbac_report(&[("rbac.yaml", rbac)], &[("audit.log", audit)])?;
//! let alice = report.subject("User", "alice").expect("alice is bound");
//! assert_eq!(alice.used.len(), 1);
//! // `get secrets` is the riskiest permission alice never used.
//! assert_eq!(alice.unused[0].atom.resource, "secrets");
//! println!("{}", report.render(Format::Text));
//! # Ok::<(), harrier_security::ReportError>(())
//! ```
//!
//! ```
//! use harrier_security::{Format, netpol_advise};
//!
//! let flows = r#"{"source.address":"10.0.1.5","source.port":40112,"destination.address":"10.0.2.7","destination.port":5432,"network.transport":"tcp","source.k8s.namespace.name":"shop","source.k8s.workload.name":"checkout","source.k8s.pod.labels":{"app":"checkout","pod-template-hash":"5d9c7b8f4"},"destination.k8s.namespace.name":"db","destination.k8s.workload.name":"postgres","destination.k8s.pod.labels":{"app":"postgres"}}"#;
//! let report = netpol_advise(&[("flows.jsonl", flows)], &[])?;
//! assert_eq!(report.workloads.len(), 2);
//! println!("{}", report.render(Format::Yaml));
//! # Ok::<(), harrier_security::ReportError>(())
//! ```
//!
//! # Input formats
//!
//! Kubernetes objects are read as `kubectl get ... -o yaml` or `-o json` writes them: a
//! `v1` `List` with `items` of mixed kinds, single objects, multi-document YAML, or JSON
//! lines. Unknown fields are ignored and missing fields are empty; objects of kinds a
//! report does not use are skipped and listed in the report's input summary.
//!
//! Audit events are `audit.k8s.io/v1` `Event`s, one JSON object per line (the log
//! backend), or an `EventList` (the webhook backend). The flow record shape is described
//! in [`netpol::flow`].

#![warn(missing_docs)]

pub mod anomaly;
pub mod audit;
pub mod falco;
pub mod finding;
pub mod k8s;
pub mod netpol;
pub mod rbac;
pub mod rules;
mod yaml;

use harrier_core::component::Registry;

/// Registers this crate's collector components: the `anomaly` processor and the
/// `falco` receiver.
pub fn register_all(registry: &mut Registry) {
    registry.add_processor(anomaly::AnomalyFactory);
    registry.add_receiver(falco::FalcoFactory);
}

pub use netpol::{NetpolReport, netpol_advise};
pub use rbac::{RbacReport, rbac_report};

/// Errors of the reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An input file could not be read as JSON, JSON lines or YAML.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The input's path, as given.
        path: String,
        /// The line, when known.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable text with the suggested manifests inline.
    #[default]
    Text,
    /// The report as one JSON document.
    Json,
    /// The report as one YAML document.
    Yaml,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "yaml" => Ok(Self::Yaml),
            other => Err(format!(
                "unknown format {other:?}: expected text, json or yaml"
            )),
        }
    }
}

/// Serialises `value` as `format` (JSON or YAML); serialisation of the report types
/// cannot fail, but if it did the error text is returned instead of panicking.
pub(crate) fn serialise<T: serde::Serialize>(value: &T, format: Format) -> String {
    let result = match format {
        Format::Yaml => serde_yaml::to_string(value).map_err(|e| e.to_string()),
        _ => serde_json::to_string_pretty(value)
            .map(|mut text| {
                text.push('\n');
                text
            })
            .map_err(|e| e.to_string()),
    };
    result.unwrap_or_else(|error| format!("error: cannot serialise the report: {error}\n"))
}
