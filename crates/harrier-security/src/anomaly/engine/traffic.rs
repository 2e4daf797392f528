//! The runtime and network detectors: `novel_process` (runtime events) and
//! `novel_connection` (flow records and client spans).

use super::Engine;
use crate::anomaly::baseline::Observation;
use crate::anomaly::config::{ImageIdentity, NOVEL_CONNECTION, NOVEL_PROCESS, ProcessGroup};
use crate::anomaly::names::{
    attr_str, attr_text, human_duration, image_repository, is_external_host, is_external_ip,
    workload_of_pod,
};
use crate::finding::{Finding, Severity};
use harrier_pdata::otlp::common::v1::KeyValue;

/// The longest command line quoted in a `novel_process` reason.
const MAX_COMMAND_LINE: usize = 200;

impl Engine {
    /// Runs `novel_process` on a runtime event (`event.domain = "runtime"`).
    pub fn runtime(&mut self, attrs: &[KeyValue], now: u64, out: &mut Vec<Finding>) {
        self.tick(now);
        let Some(settings) = self.settings(NOVEL_PROCESS) else {
            return;
        };
        let (group_by, image_identity) = (settings.group_by, settings.image_identity);
        let Some(executable) = attr_str(attrs, "process.executable.name") else {
            return;
        };
        let namespace = attr_str(attrs, "k8s.namespace.name");
        let pod = attr_str(attrs, "k8s.pod.name");
        let workload = attr_str(attrs, "k8s.workload.name").or(pod.map(workload_of_pod));
        let image = attr_str(attrs, "container.image.name").map(|i| match image_identity {
            ImageIdentity::Repository => image_repository(i),
            ImageIdentity::Reference => i,
        });
        let workload_key = workload.map(|w| format!("{}/{w}", namespace.unwrap_or("")));
        let (entity, label) = match (group_by, image, &workload_key) {
            (ProcessGroup::Image, Some(image), _) => {
                (format!("image:{image}"), format!("image {image}"))
            }
            (_, _, Some(w)) => (format!("workload:{w}"), format!("workload {w}")),
            (ProcessGroup::Workload, Some(image), None) => {
                (format!("image:{image}"), format!("image {image}"))
            }
            _ => return,
        };
        if let Observation::Novel { history } =
            self.observe(NOVEL_PROCESS, &entity, executable, now)
        {
            let mut reason = format!(
                "process `{executable}` never seen before in {label} ({} of history)",
                human_duration(history)
            );
            if let (Some(ns), Some(pod)) = (namespace, pod) {
                reason.push_str(&format!(", pod {ns}/{pod}"));
            }
            if let Some(cmd) = attr_str(attrs, "process.command_line") {
                let cut: String = cmd.chars().take(MAX_COMMAND_LINE).collect();
                reason.push_str(&format!(": `{cut}`"));
            }
            out.push(Finding {
                kind: NOVEL_PROCESS,
                severity: self.severity(NOVEL_PROCESS, Severity::High),
                reason,
            });
        }
    }

    /// Runs `novel_connection` on a flow record (`event.domain = "network.flow"`).
    pub fn flow(&mut self, attrs: &[KeyValue], now: u64, out: &mut Vec<Finding>) {
        self.tick(now);
        if !self.enabled(NOVEL_CONNECTION) {
            return;
        }
        let workload = |side: &str| {
            attr_str(attrs, &format!("{side}.k8s.workload.name")).map(|w| {
                let ns = attr_str(attrs, &format!("{side}.k8s.namespace.name")).unwrap_or("");
                format!("{ns}/{w}")
            })
        };
        let Some(source) =
            workload("source").or_else(|| attr_str(attrs, "source.address").map(str::to_string))
        else {
            return;
        };
        self.flow_edge(attrs, &source, now, out);
    }

    /// Runs `novel_connection` on a runtime event that carries a connection (a Falco
    /// outbound-connection alert has `destination.address` and `destination.port`): the
    /// source is the event's own workload (`k8s.namespace.name` / `k8s.workload.name`,
    /// else derived from `k8s.pod.name`).
    pub fn runtime_connection(&mut self, attrs: &[KeyValue], now: u64, out: &mut Vec<Finding>) {
        if !self.enabled(NOVEL_CONNECTION) || attr_str(attrs, "destination.address").is_none() {
            return;
        }
        let namespace = attr_str(attrs, "k8s.namespace.name").unwrap_or("");
        let workload = attr_str(attrs, "k8s.workload.name")
            .or_else(|| attr_str(attrs, "k8s.pod.name").map(workload_of_pod));
        let Some(workload) = workload else {
            return;
        };
        self.flow_edge(attrs, &format!("{namespace}/{workload}"), now, out);
    }

    /// The destination half of a flow record or connection event, judged for `source`.
    fn flow_edge(&mut self, attrs: &[KeyValue], source: &str, now: u64, out: &mut Vec<Finding>) {
        let workload = |side: &str| {
            attr_str(attrs, &format!("{side}.k8s.workload.name")).map(|w| {
                let ns = attr_str(attrs, &format!("{side}.k8s.namespace.name")).unwrap_or("");
                format!("{ns}/{w}")
            })
        };
        let dst_workload = workload("destination");
        let dst_address = attr_str(attrs, "destination.address");
        let external =
            dst_workload.is_none() && dst_address.and_then(is_external_ip).unwrap_or(false);
        let Some(destination) = dst_workload.or(dst_address.map(str::to_string)) else {
            return;
        };
        let port = attr_text(attrs, "destination.port");
        let transport = attr_str(attrs, "network.transport");
        self.connection(
            source,
            &destination,
            port.as_deref(),
            transport,
            external,
            now,
            out,
        );
    }

    /// Runs `novel_connection` on a span of kind CLIENT: the source is the resource's
    /// `service.name` (prefixed by `k8s.namespace.name` when present), the destination
    /// `server.address` or `peer.service` with `server.port`.
    pub fn client_span(
        &mut self,
        resource: &[KeyValue],
        attrs: &[KeyValue],
        now: u64,
        out: &mut Vec<Finding>,
    ) {
        self.tick(now);
        if !self.enabled(NOVEL_CONNECTION) {
            return;
        }
        let Some(service) = attr_str(resource, "service.name") else {
            return;
        };
        let source = match attr_str(resource, "k8s.namespace.name") {
            Some(ns) => format!("{ns}/{service}"),
            None => service.to_string(),
        };
        let address = attr_str(attrs, "server.address").or(attr_str(attrs, "net.peer.name"));
        let (destination, external) = match (address, attr_str(attrs, "peer.service")) {
            (Some(a), _) => (a, is_external_host(a)),
            (None, Some(p)) => (p, false),
            (None, None) => return,
        };
        let port = attr_text(attrs, "server.port").or(attr_text(attrs, "net.peer.port"));
        let transport = attr_str(attrs, "network.transport");
        self.connection(
            &source,
            destination,
            port.as_deref(),
            transport,
            external,
            now,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn connection(
        &mut self,
        source: &str,
        destination: &str,
        port: Option<&str>,
        transport: Option<&str>,
        external: bool,
        now: u64,
        out: &mut Vec<Finding>,
    ) {
        let mut edge = destination.to_string();
        if let Some(port) = port {
            edge.push(':');
            edge.push_str(port);
        }
        if let Some(transport) = transport {
            edge.push('/');
            edge.push_str(&transport.to_ascii_lowercase());
        }
        if let Observation::Novel { history } = self.observe(NOVEL_CONNECTION, source, &edge, now) {
            let (default, note) = if external {
                (Severity::High, " (external destination)")
            } else {
                (Severity::Medium, "")
            };
            out.push(Finding {
                kind: NOVEL_CONNECTION,
                severity: self.severity(NOVEL_CONNECTION, default),
                reason: format!(
                    "first connection from {source} to {edge}{note} in {} of history",
                    human_duration(history)
                ),
            });
        }
    }
}
