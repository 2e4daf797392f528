//! Finding the pod spec in an event that creates or changes pods or workloads.
//!
//! Pods carry it at `spec`; Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs
//! and ReplicationControllers at `spec.template.spec`; CronJobs at
//! `spec.jobTemplate.spec.template.spec`. The object looked at is the one the request
//! writes ([`super::written::changed_object`]).

use crate::audit::{self, AuditView};
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue};

/// Identities that only instantiate pod templates someone else wrote (the workload
/// controllers, and kubelets creating mirror pods of static pods): the default
/// `exempt_users` of `privileged_pod` and `sensitive_mount`, so a privileged Deployment
/// gives one finding (its author's) rather than one per replica.
pub const CONTROLLER_USERS: &[&str] = &[
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:kube-system:daemon-set-controller",
    "system:serviceaccount:kube-system:statefulset-controller",
    "system:serviceaccount:kube-system:job-controller",
    "system:serviceaccount:kube-system:cronjob-controller",
    "system:serviceaccount:kube-system:replication-controller",
    "system:serviceaccount:kube-system:deployment-controller",
    "system:kube-controller-manager",
    "system:node:*",
];

/// Where the pod spec sits in the event's object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Location {
    /// `pod`, `deployment`, ... for reasons.
    pub kind: &'static str,
    /// Through `pods/ephemeralcontainers`: only the ephemeral containers can change
    /// (the request object is the whole pod, whose other fields were there before).
    pub ephemeral_only: bool,
    spec: &'static [&'static str],
    metadata: &'static [&'static str],
}

const POD: (&[&str], &[&str]) = (&["spec"], &["metadata"]);
const TEMPLATE: (&[&str], &[&str]) = (
    &["spec", "template", "spec"],
    &["spec", "template", "metadata"],
);
const JOB_TEMPLATE: (&[&str], &[&str]) = (
    &["spec", "jobTemplate", "spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "metadata"],
);

impl Location {
    /// Where the event's object keeps its pod spec, if the event creates or changes a
    /// pod (also its ephemeral containers) or a workload with a pod template.
    pub fn of(event: &AuditView<'_>) -> Option<Location> {
        let verb = event.verb()?;
        if !matches!(verb, "create" | "update" | "patch") {
            return None;
        }
        let (kind, (spec, metadata)) =
            match (event.api_group(), event.resource()?, event.subresource()) {
                (None, "pods", None) => ("pod", POD),
                (None, "pods", Some("ephemeralcontainers")) if verb != "create" => ("pod", POD),
                (None, "replicationcontrollers", None) => ("replicationcontroller", TEMPLATE),
                (Some("apps" | "extensions"), resource, None) => (
                    match resource {
                        "deployments" => "deployment",
                        "daemonsets" => "daemonset",
                        "statefulsets" => "statefulset",
                        "replicasets" => "replicaset",
                        _ => return None,
                    },
                    TEMPLATE,
                ),
                (Some("batch"), "jobs", None) => ("job", TEMPLATE),
                (Some("batch"), "cronjobs", None) => ("cronjob", JOB_TEMPLATE),
                _ => return None,
            };
        Some(Location {
            kind,
            ephemeral_only: event.subresource() == Some("ephemeralcontainers"),
            spec,
            metadata,
        })
    }

    /// The pod spec in `object`, and the pod metadata beside it.
    pub fn template<'o>(&self, object: &'o AnyValue) -> Option<PodTemplate<'o>> {
        Some(PodTemplate {
            spec: audit::path(object, self.spec)?,
            metadata: audit::path(object, self.metadata),
        })
    }
}

/// A pod spec and its metadata, borrowed from an event's object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PodTemplate<'o> {
    /// `PodSpec`.
    pub spec: &'o AnyValue,
    /// `ObjectMeta` of the pod (annotations), if present.
    pub metadata: Option<&'o AnyValue>,
}

/// The role of ephemeral containers.
pub(crate) const EPHEMERAL: &str = "ephemeral container";

/// One container of a pod spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Container<'o> {
    /// `container`, `init container` or `ephemeral container`.
    pub role: &'static str,
    /// Its name, if the object says.
    pub name: Option<&'o str>,
    /// Its position in its list (for unnamed containers of a JSON patch).
    pub index: usize,
    /// The `Container` object.
    pub value: &'o AnyValue,
}

impl Container<'_> {
    /// `` container `app` `` (or `` init container #0 ``) for a reason.
    pub fn label(&self) -> String {
        match self.name {
            Some(name) => format!("{} `{name}`", self.role),
            None => format!("{} #{}", self.role, self.index),
        }
    }

    /// The image reference, if any.
    pub fn image(&self) -> Option<&str> {
        audit::path(self.value, &["image"]).and_then(audit::as_str)
    }

    /// A field of its `securityContext`.
    pub fn security(&self, keys: &[&str]) -> Option<&AnyValue> {
        audit::path(self.value, &["securityContext"]).and_then(|sc| audit::path(sc, keys))
    }
}

impl<'o> PodTemplate<'o> {
    /// Every container, init container and ephemeral container.
    pub fn containers(&self) -> Vec<Container<'o>> {
        let mut out = Vec::new();
        for (list, role) in [
            ("containers", "container"),
            ("initContainers", "init container"),
            ("ephemeralContainers", EPHEMERAL),
        ] {
            let Some(items) = audit::path(self.spec, &[list]) else {
                continue;
            };
            for (index, value) in audit::as_array(items).iter().enumerate() {
                // Padding left by a JSON patch that set only a later element.
                if audit::kv_entries(value).is_empty() {
                    continue;
                }
                let name = audit::path(value, &["name"])
                    .and_then(audit::as_str)
                    .filter(|n| !n.is_empty());
                out.push(Container {
                    role,
                    name,
                    index,
                    value,
                });
            }
        }
        out
    }

    /// A field of the pod-level `securityContext`.
    pub fn pod_security(&self, keys: &[&str]) -> Option<&'o AnyValue> {
        audit::path(self.spec, &["securityContext"]).and_then(|sc| audit::path(sc, keys))
    }

    /// Every pod annotation.
    pub fn annotations(&self) -> &'o [KeyValue] {
        self.metadata
            .and_then(|m| audit::path(m, &["annotations"]))
            .map(audit::kv_entries)
            .unwrap_or_default()
    }
}

/// The image's repository: the reference without its `@digest` and `:tag`.
pub(crate) fn image_repository(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(repo, _)| repo);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// Whether the container's image repository matches one of `patterns` (exact, or a
/// prefix ending in `*`).
pub(crate) fn image_exempt(patterns: &[String], container: &Container<'_>) -> bool {
    container.image().is_some_and(|image| {
        let repository = image_repository(image);
        patterns
            .iter()
            .any(|p| super::identity::matches_pattern(p, repository))
    })
}
