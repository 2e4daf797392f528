//! Rules on direct access to workloads, nodes and the API: `pod_exec`, `nodes_proxy`
//! and `anonymous_access`.
//!
//! **`pod_exec`** fires on `pods/exec`, `pods/attach` and `pods/portforward` with verb
//! `create` (SPDY) or `get` (websockets, as `kubectl` 1.30+ and most web consoles
//! connect), and on `update` / `patch` of `pods/ephemeralcontainers` (`kubectl debug`).
//! The reason carries the command, container and ports from the request URI, and the
//! ephemeral container's image when the request object is there. A plain `get` of a
//! pod is not matched. Escalated (high by default) in `escalate_namespaces` (option,
//! default `["kube-system"]`), where the control plane's pods run.
//!
//! **`nodes_proxy`** fires on `nodes/proxy` with any verb: the API server relays the
//! request to the kubelet's API, which can list pods, read logs and run commands in
//! any container on the node with no `pods/exec` audit event. Escalated (critical by
//! default) when the kubelet path is `/run`, `/exec`, `/attach`, `/portForward` or
//! `/cri`. Other node subresources (`nodes/status`, `nodes/metrics`) are not matched.
//!
//! **`anonymous_access`** fires when `system:anonymous` (or a member of
//! `system:unauthenticated`) was allowed anything but the health and version endpoints
//! (option `allowed_paths`, default [`ANONYMOUS_ALLOWED_PATHS`], each matched with its
//! subpaths, e.g. `/readyz/ping`). Escalated (critical by default) for writes and for
//! secrets. (CIS Kubernetes Benchmark: anonymous auth; Falco: Anonymous Request
//! Allowed.)

use super::identity::actor;
use super::options::Options;
use super::request::{self, is_write, object_label, query_params, uri_path};
use super::written;
use super::{Hit, Rule};
use crate::audit::{self, AuditView};

/// Paths anonymous requests may reach by default.
pub const ANONYMOUS_ALLOWED_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version"];

/// Kubelet API paths that run or attach to processes.
const KUBELET_EXEC_PATHS: &[&str] = &["/run", "/exec", "/attach", "/portForward", "/cri"];

pub(crate) fn build_pod_exec(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(PodExec {
        escalate_namespaces: options.strings("escalate_namespaces", &["kube-system"]),
    })
}

pub(crate) fn build_nodes_proxy(_options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(NodesProxy)
}

pub(crate) fn build_anonymous(options: &mut Options<'_>) -> Box<dyn Rule> {
    Box::new(AnonymousAccess {
        allowed_paths: options.strings("allowed_paths", ANONYMOUS_ALLOWED_PATHS),
    })
}

#[derive(Debug)]
struct PodExec {
    escalate_namespaces: Vec<String>,
}

/// The values of query parameter `key`, joined by `sep`.
fn param(params: &[(String, String)], key: &str, sep: &str) -> Option<String> {
    let values: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(sep))
}

impl Rule for PodExec {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if event.api_group().is_some() || event.resource()? != "pods" {
            return None;
        }
        let verb = event.verb()?;
        let subresource = event.subresource()?;
        let stream = matches!(subresource, "exec" | "attach" | "portforward")
            && matches!(verb, "create" | "get");
        let debug = subresource == "ephemeralcontainers" && matches!(verb, "update" | "patch");
        if !stream && !debug {
            return None;
        }
        let who = actor(event);
        let pod = object_label(event);
        let params = query_params(event);
        let container = param(&params, "container", ",")
            .map(|c| format!(" (container `{c}`)"))
            .unwrap_or_default();
        let transport = if verb == "get" {
            ", over a websocket"
        } else {
            ""
        };
        let mut reason = match subresource {
            "exec" => {
                let command = param(&params, "command", " ")
                    .map(|c| format!("`{c}`"))
                    .unwrap_or_else(|| "a command".to_string());
                format!("{who} ran {command} in pod {pod}{container} through pods/exec{transport}")
            }
            "attach" => {
                format!("{who} attached to pod {pod}{container} through pods/attach{transport}")
            }
            "portforward" => {
                let ports = param(&params, "ports", ",")
                    .map(|p| format!(" (ports {p})"))
                    .unwrap_or_default();
                format!(
                    "{who} port-forwarded to pod {pod}{ports} through pods/portforward{transport}, bypassing Services and NetworkPolicies"
                )
            }
            _ => {
                let image = written::changed_object(event)
                    .and_then(|o| {
                        audit::path(&o, &["spec", "ephemeralContainers"])
                            .map(audit::as_array)
                            .and_then(|list| list.last())
                            .and_then(|c| audit::path(c, &["image"]))
                            .and_then(audit::as_str)
                            .map(|image| format!(" running `{image}`"))
                    })
                    .unwrap_or_default();
                format!(
                    "{who} added an ephemeral container{image} to pod {pod} through pods/ephemeralcontainers"
                )
            }
        };
        if matches!(subresource, "exec" | "attach" | "ephemeralcontainers") {
            reason.push_str(": interactive access inside a running workload");
        }
        let escalated = event
            .namespace()
            .is_some_and(|ns| self.escalate_namespaces.iter().any(|e| e == ns));
        if escalated {
            reason.push_str(", in a namespace of control-plane components");
        }
        Some(Hit::new(escalated, reason))
    }
}

#[derive(Debug)]
struct NodesProxy;

/// The kubelet path of a `nodes/proxy` URI: what follows `/proxy`.
fn kubelet_path(uri: &str) -> &str {
    let mut rest = uri;
    while let Some(at) = rest.find("/proxy") {
        let after = &rest[at + "/proxy".len()..];
        if after.is_empty() || after.starts_with('/') {
            return if after.is_empty() { "/" } else { after };
        }
        rest = after;
    }
    "/"
}

impl Rule for NodesProxy {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        if event.api_group().is_some()
            || event.resource()? != "nodes"
            || event.subresource()? != "proxy"
        {
            return None;
        }
        let path = kubelet_path(uri_path(event).unwrap_or_default());
        let escalated = KUBELET_EXEC_PATHS
            .iter()
            .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
        let node = event.object_name().unwrap_or("<unknown>");
        let why = if escalated {
            "running commands in containers without any pods/exec audit event"
        } else {
            "the kubelet API is reachable around pod-level authorization"
        };
        let reason = format!(
            "{} called the kubelet of node {node} through nodes/proxy ({} {path}): {why}",
            actor(event),
            event.verb().unwrap_or("?"),
        );
        Some(Hit::new(escalated, reason))
    }
}

#[derive(Debug)]
struct AnonymousAccess {
    allowed_paths: Vec<String>,
}

impl Rule for AnonymousAccess {
    fn check(&self, event: &AuditView<'_>) -> Option<Hit> {
        // Every event passes here: look at the groups without collecting them.
        let anonymous = event.user() == Some("system:anonymous")
            || event
                .attr("k8s.audit.user.groups")
                .map(audit::as_array)
                .unwrap_or_default()
                .iter()
                .any(|g| audit::as_str(g) == Some("system:unauthenticated"));
        if !anonymous {
            return None;
        }
        if event.resource().is_none()
            && let Some(path) = uri_path(event)
        {
            let path = path.trim_end_matches('/');
            let allowed = self.allowed_paths.iter().any(|a| {
                let a = a.trim_end_matches('/');
                path == a || path.strip_prefix(a).is_some_and(|r| r.starts_with('/'))
            });
            if allowed {
                return None;
            }
        }
        let verb = event.verb().unwrap_or("?");
        let escalated = is_write(verb) || event.resource() == Some("secrets");
        let code = event
            .status_code()
            .map(|c| format!(" (HTTP {c})"))
            .unwrap_or_default();
        let reason = format!(
            "{} was allowed to {verb} {}{code} without authenticating: anonymous requests should reach only health and version endpoints",
            actor(event),
            request::target_label(event),
        );
        Some(Hit::new(escalated, reason))
    }
}
