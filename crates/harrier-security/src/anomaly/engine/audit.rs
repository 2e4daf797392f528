//! The audit detectors: `rbac_denied`, `rbac_denied_burst`, `novel_api_call`,
//! `novel_source`, `novel_image` and `novel_exec`.

use super::Engine;
use crate::anomaly::baseline::Observation;
use crate::anomaly::config::{
    ImageIdentity, NOVEL_API_CALL, NOVEL_EXEC, NOVEL_IMAGE, NOVEL_SOURCE, RBAC_DENIED,
    RBAC_DENIED_BURST, SourceField,
};
use crate::anomaly::names::{
    human_duration, image_repository, normalize_user_agent, workload_of_pod,
};
use crate::audit::{AuditView, as_array, as_str, path};
use crate::finding::{Finding, Severity};

impl Engine {
    /// Runs the audit detectors on one event.
    ///
    /// `RequestReceived` events are skipped: the request's outcome is not known yet, and
    /// the same request comes again at `ResponseStarted` / `ResponseComplete`.
    pub fn audit(&mut self, event: &AuditView<'_>, now: u64, out: &mut Vec<Finding>) {
        self.tick(now);
        if event.stage() == Some("RequestReceived") {
            return;
        }
        if event.is_denied() {
            self.denied(event, now, out);
            // A refused request still shows where an identity acts from: a stolen
            // token probing from a new address is worth a tag even though every call
            // fails. (A 401 has no authenticated identity.)
            if event.status_code() != Some(401)
                && self.enabled(NOVEL_SOURCE)
                && let Some(user) = event.user()
            {
                self.novel_source(event, user, now, out);
            }
            return;
        }
        if !event.is_allowed() {
            return;
        }
        let Some(user) = event.user() else {
            return;
        };
        if self.enabled(NOVEL_API_CALL) {
            self.novel_api_call(event, user, now, out);
        }
        if self.enabled(NOVEL_SOURCE) {
            self.novel_source(event, user, now, out);
        }
        if self.enabled(NOVEL_IMAGE) {
            self.novel_image(event, user, now, out);
        }
        if self.enabled(NOVEL_EXEC) {
            self.novel_exec(event, user, now, out);
        }
    }

    fn denied(&mut self, event: &AuditView<'_>, now: u64, out: &mut Vec<Finding>) {
        let identity = match event.user() {
            Some(user) => user.to_string(),
            None => format!(
                "unauthenticated client {}",
                event.source_address().unwrap_or("(unknown address)")
            ),
        };
        let what = operation(event);
        let code = event.status_code();
        if self.enabled(RBAC_DENIED) {
            let default = if code == Some(401) {
                Severity::Medium
            } else {
                Severity::Low
            };
            let answer = match (
                code,
                event.attr("k8s.audit.response.reason").and_then(as_str),
            ) {
                (Some(c), Some(r)) => format!("{c} {r}"),
                (Some(c), None) => c.to_string(),
                (None, _) => "decision forbid".to_string(),
            };
            out.push(Finding {
                kind: RBAC_DENIED,
                severity: self.severity(RBAC_DENIED, default),
                reason: format!("{identity} was denied `{what}` {} ({answer})", scope(event)),
            });
        }
        if self.enabled(RBAC_DENIED_BURST) {
            // Burst windows are not persisted, so recording one leaves `dirty` alone.
            let burst = self.burst.record(&identity, &what, now);
            if let Some(burst) = burst {
                let window = self
                    .settings(RBAC_DENIED_BURST)
                    .map(|s| human_duration(s.window))
                    .unwrap_or_default();
                out.push(Finding {
                    kind: RBAC_DENIED_BURST,
                    severity: self.severity(RBAC_DENIED_BURST, Severity::High),
                    reason: format!(
                        "{identity} was denied {} times ({} distinct operations) within {window}, \
                         last `{what}`: possible reconnaissance",
                        burst.denials, burst.distinct
                    ),
                });
            }
        }
    }

    fn novel_api_call(
        &mut self,
        event: &AuditView<'_>,
        user: &str,
        now: u64,
        out: &mut Vec<Finding>,
    ) {
        let (Some(verb), Some(resource)) = (event.verb(), event.resource()) else {
            return;
        };
        let group = event.api_group().unwrap_or("");
        let subresource = event.subresource().unwrap_or("");
        let namespace = event.namespace().unwrap_or("cluster");
        let value = format!("{verb}|{group}|{resource}|{subresource}|{namespace}");
        if let Observation::Novel { history } = self.observe(NOVEL_API_CALL, user, &value, now) {
            let sensitive = is_sensitive(group, resource, subresource);
            let default = if sensitive {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(Finding {
                kind: NOVEL_API_CALL,
                severity: self.severity(NOVEL_API_CALL, default),
                reason: format!(
                    "first `{}` ({}) by {user} in {} of history",
                    operation(event),
                    scope_short(event),
                    human_duration(history)
                ),
            });
        }
    }

    fn novel_source(
        &mut self,
        event: &AuditView<'_>,
        user: &str,
        now: u64,
        out: &mut Vec<Finding>,
    ) {
        let fields = self
            .settings(NOVEL_SOURCE)
            .map(|s| s.fields.clone())
            .unwrap_or_default();
        let mut parts = Vec::new();
        let mut severity = Severity::Low;
        let mut longest = None;
        for field in fields {
            let (value, label) = match field {
                SourceField::Address => match event.source_address() {
                    Some(a) => (format!("addr:{a}"), format!("address {a}")),
                    None => continue,
                },
                SourceField::UserAgent => match event.user_agent().map(normalize_user_agent) {
                    Some(ua) if !ua.is_empty() => {
                        (format!("ua:{ua}"), format!("user agent `{ua}`"))
                    }
                    _ => continue,
                },
            };
            if let Observation::Novel { history } = self.observe(NOVEL_SOURCE, user, &value, now) {
                if field == SourceField::Address {
                    severity = Severity::Medium;
                }
                longest = Some(history);
                parts.push(label);
            }
        }
        if let Some(history) = longest {
            out.push(Finding {
                kind: NOVEL_SOURCE,
                severity: self.severity(NOVEL_SOURCE, severity),
                reason: format!(
                    "{user} seen from new {} in {} of history",
                    parts.join(" and new "),
                    human_duration(history)
                ),
            });
        }
    }

    fn novel_image(&mut self, event: &AuditView<'_>, user: &str, now: u64, out: &mut Vec<Finding>) {
        if !matches!(event.verb(), Some("create" | "update" | "patch")) {
            return;
        }
        let Some(resource) = event.resource() else {
            return;
        };
        if event.subresource().is_some() {
            return;
        }
        let Some(object) = event.request_object() else {
            return;
        };
        let spec_path: &[&str] = match resource {
            "pods" => &["spec"],
            "deployments"
            | "statefulsets"
            | "daemonsets"
            | "replicasets"
            | "jobs"
            | "replicationcontrollers" => &["spec", "template", "spec"],
            "cronjobs" => &["spec", "jobTemplate", "spec", "template", "spec"],
            "podtemplates" => &["template", "spec"],
            _ => return,
        };
        let Some(spec) = path(object, spec_path) else {
            return;
        };
        let identity = self
            .settings(NOVEL_IMAGE)
            .map_or(ImageIdentity::Repository, |s| s.image_identity);
        let mut images: Vec<&str> = Vec::new();
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for container in path(spec, &[list]).map(as_array).unwrap_or_default() {
                if let Some(image) = path(container, &["image"]).and_then(as_str) {
                    let image = match identity {
                        ImageIdentity::Repository => image_repository(image),
                        ImageIdentity::Reference => image,
                    };
                    if !image.is_empty() && !images.contains(&image) {
                        images.push(image);
                    }
                }
            }
        }
        let namespace = event.namespace();
        let mut novel = Vec::new();
        for image in images {
            let in_namespace = namespace.map(|ns| {
                let entity = format!("ns:{ns}");
                self.observe(NOVEL_IMAGE, &entity, image, now)
            });
            let in_cluster = self.observe(NOVEL_IMAGE, "cluster", image, now);
            let ns_novel = matches!(in_namespace, Some(Observation::Novel { .. }));
            let cluster_novel = matches!(in_cluster, Observation::Novel { .. });
            if ns_novel || cluster_novel {
                let where_ = match (namespace, ns_novel, cluster_novel) {
                    (Some(ns), true, true) => format!("namespace {ns} and the cluster"),
                    (Some(ns), true, false) => format!("namespace {ns}"),
                    _ => "the cluster".to_string(),
                };
                novel.push(format!("{image} (new to {where_})"));
            }
        }
        if !novel.is_empty() {
            let object = match (namespace, event.object_name()) {
                (Some(ns), Some(name)) => format!(" {ns}/{name}"),
                (Some(ns), None) => format!(" in namespace {ns}"),
                (None, Some(name)) => format!(" {name}"),
                (None, None) => String::new(),
            };
            out.push(Finding {
                kind: NOVEL_IMAGE,
                severity: self.severity(NOVEL_IMAGE, Severity::Medium),
                reason: format!(
                    "image {} in `{}`{object} by {user}",
                    novel.join(", "),
                    operation(event)
                ),
            });
        }
    }

    fn novel_exec(&mut self, event: &AuditView<'_>, user: &str, now: u64, out: &mut Vec<Finding>) {
        if event.resource() != Some("pods")
            || !matches!(event.subresource(), Some("exec" | "attach"))
            || !matches!(event.verb(), Some("create" | "get"))
        {
            return;
        }
        let (Some(namespace), Some(pod)) = (event.namespace(), event.object_name()) else {
            return;
        };
        let workload = format!("{namespace}/{}", workload_of_pod(pod));
        // The identity's history comes from all its audit activity, not only its
        // earlier execs: its first exec ever is novel once it is past learning.
        let since = self.identity_since(user);
        if let Observation::Novel { history } =
            self.observe_known_since(NOVEL_EXEC, user, &workload, now, since)
        {
            out.push(Finding {
                kind: NOVEL_EXEC,
                severity: self.severity(NOVEL_EXEC, Severity::Medium),
                reason: format!(
                    "first {} by {user} into workload {workload} (pod {pod}) in {} of history",
                    event.subresource().unwrap_or("exec"),
                    human_duration(history)
                ),
            });
        }
    }
}

/// `verb resource[/subresource]`, with the API group for non-core resources
/// (`create clusterrolebindings.rbac.authorization.k8s.io`), or the request path for a
/// non-resource request.
fn operation(event: &AuditView<'_>) -> String {
    let verb = event.verb().unwrap_or("(no verb)");
    let Some(resource) = event.resource() else {
        let path = event
            .attr("url.path")
            .and_then(as_str)
            .unwrap_or("(unknown)");
        return format!("{verb} {path}");
    };
    let mut out = format!("{verb} {resource}");
    if let Some(group) = event.api_group() {
        out.push('.');
        out.push_str(group);
    }
    if let Some(sub) = event.subresource() {
        out.push('/');
        out.push_str(sub);
    }
    out
}

/// `in namespace shop` or `cluster-wide`.
fn scope(event: &AuditView<'_>) -> String {
    match event.namespace() {
        Some(ns) => format!("in namespace {ns}"),
        None => "cluster-wide".to_string(),
    }
}

/// `namespace shop` or `cluster-wide`.
fn scope_short(event: &AuditView<'_>) -> String {
    match event.namespace() {
        Some(ns) => format!("namespace {ns}"),
        None => "cluster-wide".to_string(),
    }
}

/// Secrets, RBAC objects, tokens, exec-like subresources and CSRs.
fn is_sensitive(group: &str, resource: &str, subresource: &str) -> bool {
    match resource {
        "secrets" | "certificatesigningrequests" => true,
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings" => {
            group == "rbac.authorization.k8s.io"
        }
        "serviceaccounts" => subresource == "token",
        "pods" => matches!(subresource, "exec" | "attach" | "portforward"),
        _ => false,
    }
}
