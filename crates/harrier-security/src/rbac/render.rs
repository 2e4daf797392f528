//! Text rendering of the RBAC report.

use std::fmt::Write as _;

use super::RbacReport;

/// How many granted atoms the text lists per subject before summarising.
const MAX_GRANTED_LINES: usize = 50;

pub(crate) fn text(report: &RbacReport) -> String {
    let mut out = String::new();
    let inputs = &report.inputs;
    let _ = writeln!(out, "RBAC least-privilege report");
    let _ = writeln!(
        out,
        "inputs: {} Roles, {} ClusterRoles, {} RoleBindings, {} ClusterRoleBindings; {} audit events = {} requests ({} allowed, {} denied, {} undecided) from {} to {}",
        inputs.roles,
        inputs.cluster_roles,
        inputs.role_bindings,
        inputs.cluster_role_bindings,
        inputs.audit_events,
        inputs.audit_requests,
        inputs.allowed_requests,
        inputs.denied_requests,
        inputs.undecided_requests,
        or_dash(&inputs.first_event),
        or_dash(&inputs.last_event),
    );
    for warning in &inputs.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for subject in &report.subjects {
        let _ = writeln!(out, "\n== {} ==", subject.subject.describe());
        if !subject.groups_or_members.is_empty() {
            let label = if subject.subject.kind == super::SubjectKind::Group {
                "members"
            } else {
                "groups"
            };
            let _ = writeln!(out, "{label}: {}", subject.groups_or_members.join(", "));
        }
        let _ = writeln!(out, "granted ({}):", subject.granted.len());
        for grant in subject.granted.iter().take(MAX_GRANTED_LINES) {
            let sources: Vec<String> = grant.sources.iter().map(|s| s.describe()).collect();
            let _ = writeln!(out, "  {}  [{}]", grant.atom.describe(), sources.join("; "));
        }
        if subject.granted.len() > MAX_GRANTED_LINES {
            let _ = writeln!(
                out,
                "  ... {} more (see the JSON or YAML output)",
                subject.granted.len() - MAX_GRANTED_LINES
            );
        }
        let _ = writeln!(out, "used ({}):", subject.used.len());
        for usage in &subject.used {
            let _ = writeln!(
                out,
                "  {}  x{} last {}",
                usage.permission.describe(),
                usage.count,
                usage.last_used
            );
            for evidence in &usage.matched_by {
                let _ = writeln!(out, "    by {evidence}");
            }
            if !usage.users.is_empty() {
                let _ = writeln!(out, "    users: {}", usage.users.join(", "));
            }
        }
        let _ = writeln!(
            out,
            "granted but unused ({}), high risk first:",
            subject.unused.len()
        );
        for grant in &subject.unused {
            let _ = writeln!(out, "  [{:?}] {}", grant.risk, grant.atom.describe());
        }
        if !subject.used_wildcards.is_empty() {
            let _ = writeln!(out, "used wildcard grants, broader than their use:");
            for grant in &subject.used_wildcards {
                let _ = writeln!(out, "  [{:?}] {}", grant.risk, grant.atom.describe());
            }
        }
        if !subject.denied.is_empty() {
            let _ = writeln!(
                out,
                "denied ({}), needed but missing:",
                subject.denied.len()
            );
            for denial in &subject.denied {
                let _ = writeln!(
                    out,
                    "  {}  x{} last {}",
                    denial.permission.describe(),
                    denial.count,
                    denial.last_seen
                );
            }
        }
        if !subject.allowed_without_rbac_grant.is_empty() {
            let _ = writeln!(
                out,
                "allowed without an RBAC grant (another authorizer or system:masters):"
            );
            for usage in &subject.allowed_without_rbac_grant {
                let _ = writeln!(
                    out,
                    "  {}  x{} last {}",
                    usage.permission.describe(),
                    usage.count,
                    usage.last_used
                );
            }
        }
        if !subject.suggested_manifests.is_empty() {
            let _ = writeln!(out, "suggested least-privilege manifests:");
            for line in subject.suggested_manifests.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let _ = writeln!(out, "\ncaveats:");
    for caveat in &report.caveats {
        let _ = writeln!(out, "- {caveat}");
    }
    out
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}
