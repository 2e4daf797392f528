//! The RBAC least-privilege report: granted vs. used, per subject.
//!
//! [`rbac_report`] reads RBAC objects and audit events and builds an [`RbacReport`]:
//!
//! 1. RBAC objects become a [`GrantModel`]: every rule of every bound role, aggregated
//!    ClusterRoles expanded, flattened into [`GrantAtom`]s (one verb, group, resource
//!    and optional resource name, at the binding's scope). See [`model`] for the exact
//!    matching semantics.
//! 2. Audit events are deduplicated by `auditID` (the latest stage wins:
//!    `ResponseComplete` > `Panic` > `ResponseStarted` > `RequestReceived`), then sorted
//!    by decision: allowed (annotation `authorization.k8s.io/decision: allow`, or without
//!    it a response code below 400), denied (`forbid`, or 403), other (not counted). A
//!    request with `impersonatedUser` counts for the impersonated user; the impersonator
//!    is counted as using `impersonate` on `users` (or `serviceaccounts`) and `groups`.
//! 3. Subjects are every subject named in a binding plus every user seen in audit
//!    events. A user's grants are its own plus those of the groups it was seen with
//!    (ServiceAccounts are also in `system:serviceaccounts`,
//!    `system:serviceaccounts:<ns>` and `system:authenticated`). A group's usage is the
//!    usage of its members that its own grants allow.
//! 4. An atom is *used* when at least one allowed request of the subject matches it (a
//!    websocket `get` on `pods/exec|attach|portforward` also uses `create` grants, which
//!    kube-apiserver checks too). *Unused* = granted atoms no request used, sorted by
//!    [`Risk`].
//!
//! Timestamps are compared as strings; this orders correctly for the UTC RFC 3339
//! timestamps kube-apiserver writes.

pub mod model;
mod render;
pub mod risk;
mod suggest;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use model::{GrantAtom, GrantModel, GrantSource, Permission, SubjectKey, SubjectKind};
pub use risk::Risk;

use crate::k8s::audit::{AuditEvent, AuditEvents, Decision};
use crate::k8s::parse_objects;
use crate::k8s::rbac::RbacObjects;
use crate::{Format, ReportError};

/// Groups every authenticated identity is in. Grants through them are reported but not
/// carried into a subject's suggested role: they remain after any per-subject cleanup.
pub const BASELINE_GROUPS: &[&str] = &["system:authenticated", "system:unauthenticated"];

/// What the report cannot see; printed with every report.
pub const CAVEATS: &[&str] = &[
    "Members of system:masters bypass RBAC entirely: their requests are allowed without any grant, and removing RBAC grants does not restrict them.",
    "Only the RBAC authorizer is modelled. Requests allowed by the Node authorizer, a webhook authorizer or ABAC show up as 'allowed without an RBAC grant'; their grants are not listed.",
    "Usage comes from audit events: what the audit policy drops (levels None, omitted stages, excluded users or resources) is invisible, and a grant used only outside the audited time window is reported as unused.",
    "Group membership is known only from audit events (user.groups); a group member never seen in the window is not listed.",
    "The suggested roles cover only what was used in the window. Review them before applying; rarely used operations (rollouts, incident access) may be missing.",
];

/// The report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RbacReport {
    /// What was read.
    pub inputs: InputSummary,
    /// One entry per subject, sorted by kind and name.
    pub subjects: Vec<SubjectReport>,
    /// Limits of the analysis.
    pub caveats: Vec<String>,
}

/// What the report was built from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputSummary {
    /// Roles read.
    pub roles: usize,
    /// ClusterRoles read.
    pub cluster_roles: usize,
    /// RoleBindings read.
    pub role_bindings: usize,
    /// ClusterRoleBindings read.
    pub cluster_role_bindings: usize,
    /// Audit events read, before deduplication.
    pub audit_events: usize,
    /// Requests after deduplication by `auditID`.
    pub audit_requests: usize,
    /// Requests allowed.
    pub allowed_requests: usize,
    /// Requests denied (403 / `forbid`).
    pub denied_requests: usize,
    /// Requests neither allowed nor denied by authorization (401, errors without a
    /// decision annotation).
    pub undecided_requests: usize,
    /// Earliest event time.
    pub first_event: String,
    /// Latest event time.
    pub last_event: String,
    /// Skipped objects and lines, dangling bindings.
    pub warnings: Vec<String>,
}

/// The report for one subject.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectReport {
    /// The subject.
    #[serde(flatten)]
    pub subject: SubjectKey,
    /// Users and ServiceAccounts: the groups they were seen with (plus implied
    /// ServiceAccount groups). Groups: the members seen.
    pub groups_or_members: Vec<String>,
    /// Everything granted, directly or through groups.
    pub granted: Vec<Grant>,
    /// Allowed requests, one entry per distinct permission.
    pub used: Vec<Usage>,
    /// Granted atoms no request used, high risk first.
    pub unused: Vec<Grant>,
    /// Used grants with a wildcard: used, but broader than the use. Replace them with
    /// the suggested rules.
    pub used_wildcards: Vec<Grant>,
    /// Denied requests (needed but missing), one entry per distinct permission. Always
    /// empty for groups: a denial belongs to the user who made the request.
    pub denied: Vec<Denial>,
    /// Allowed requests no RBAC grant explains (system:masters, Node or webhook
    /// authorizer).
    pub allowed_without_rbac_grant: Vec<Usage>,
    /// Suggested least-privilege Role/ClusterRole and bindings (YAML, with each rule's
    /// evidence as a comment); empty when nothing was used.
    pub suggested_manifests: String,
}

/// A granted atom and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// What is granted.
    #[serde(flatten)]
    pub atom: GrantAtom,
    /// How dangerous it is.
    pub risk: Risk,
    /// The bindings and rules granting it.
    pub sources: Vec<GrantSource>,
}

/// One used permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The permission.
    #[serde(flatten)]
    pub permission: Permission,
    /// Allowed requests.
    pub count: u64,
    /// Time of the last one.
    pub last_used: String,
    /// Evidence: the grants that allowed it (`<atom> from <role> <rule> via <binding>`).
    pub matched_by: Vec<String>,
    /// Group reports: the members who made the requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

/// One denied permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// The permission.
    #[serde(flatten)]
    pub permission: Permission,
    /// Denied requests.
    pub count: u64,
    /// Time of the last one.
    pub last_seen: String,
}

impl RbacReport {
    /// The report of one subject, by kind (`User`, `Group`, `ServiceAccount`) and name.
    pub fn subject(&self, kind: &str, name: &str) -> Option<&SubjectReport> {
        self.subjects
            .iter()
            .find(|report| report.subject.kind.as_str() == kind && report.subject.name == name)
    }

    /// Renders the report.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => render::text(self),
            other => crate::serialise(self, other),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Tally {
    count: u64,
    last: String,
}

impl Tally {
    fn add(&mut self, time: &str) {
        self.count += 1;
        if time > self.last.as_str() {
            self.last = time.to_owned();
        }
    }
}

#[derive(Debug, Default)]
struct Activity {
    allowed: BTreeMap<Permission, Tally>,
    denied: BTreeMap<Permission, Tally>,
    groups: BTreeSet<String>,
}

/// Builds the RBAC report from RBAC inputs and audit inputs, each `(path, content)`.
///
/// # Errors
///
/// [`ReportError::Parse`] when an input is not JSON, JSON lines or YAML. Objects of
/// other kinds, unreadable objects and malformed audit lines are skipped and listed in
/// [`InputSummary::warnings`].
pub fn rbac_report(
    rbac_inputs: &[(&str, &str)],
    audit_inputs: &[(&str, &str)],
) -> Result<RbacReport, ReportError> {
    let mut objects = RbacObjects::default();
    for (path, content) in rbac_inputs {
        objects.extend(path, parse_objects(path, content)?);
    }
    let mut events = AuditEvents::default();
    for (path, content) in audit_inputs {
        events.extend(path, content)?;
    }
    Ok(build_report(&objects, &events))
}

/// Keeps one event per `auditID`, the one with the latest stage.
fn deduplicate(events: &[AuditEvent]) -> Vec<&AuditEvent> {
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    let mut kept: Vec<&AuditEvent> = Vec::new();
    for event in events {
        if event.audit_id.is_empty() {
            kept.push(event);
            continue;
        }
        match by_id.get(event.audit_id.as_str()) {
            Some(&index) => {
                if event.stage_rank() > kept[index].stage_rank() {
                    kept[index] = event;
                }
            }
            None => {
                by_id.insert(&event.audit_id, kept.len());
                kept.push(event);
            }
        }
    }
    kept
}

fn impersonation_permissions(target: &crate::k8s::audit::UserInfo) -> Vec<Permission> {
    let mut permissions = Vec::new();
    let user = match model::service_account_parts(&target.username) {
        Some((namespace, name)) => Permission {
            verb: "impersonate".into(),
            resource: "serviceaccounts".into(),
            namespace: namespace.into(),
            name: name.into(),
            ..Permission::default()
        },
        None => Permission {
            verb: "impersonate".into(),
            resource: "users".into(),
            name: target.username.clone(),
            ..Permission::default()
        },
    };
    permissions.push(user);
    for group in &target.groups {
        if BASELINE_GROUPS.contains(&group.as_str()) {
            // kube-apiserver adds system:authenticated itself; it is not impersonated.
            continue;
        }
        permissions.push(Permission {
            verb: "impersonate".into(),
            resource: "groups".into(),
            name: group.clone(),
            ..Permission::default()
        });
    }
    permissions
}

fn build_report(objects: &RbacObjects, events: &AuditEvents) -> RbacReport {
    let model = GrantModel::build(objects);
    let requests = deduplicate(&events.events);
    let mut inputs = InputSummary {
        roles: objects.roles.len(),
        cluster_roles: objects.cluster_roles.len(),
        role_bindings: objects.role_bindings.len(),
        cluster_role_bindings: objects.cluster_role_bindings.len(),
        audit_events: events.events.len(),
        audit_requests: requests.len(),
        warnings: objects
            .skipped
            .iter()
            .chain(&events.skipped)
            .chain(&model.warnings)
            .cloned()
            .collect(),
        ..InputSummary::default()
    };

    let mut activity: BTreeMap<String, Activity> = BTreeMap::new();
    for event in &requests {
        let time = event.timestamp();
        if !time.is_empty() {
            if inputs.first_event.is_empty() || time < inputs.first_event.as_str() {
                inputs.first_event = time.to_owned();
            }
            if time > inputs.last_event.as_str() {
                inputs.last_event = time.to_owned();
            }
        }
        let identity = event.impersonated_user.as_ref().unwrap_or(&event.user);
        if identity.username.is_empty() {
            inputs.undecided_requests += 1;
            continue;
        }
        let permission = Permission::from_event(event);
        let decision = event.decision();
        let entry = activity.entry(identity.username.clone()).or_default();
        entry.groups.extend(identity.groups.iter().cloned());
        match decision {
            Decision::Allow => {
                inputs.allowed_requests += 1;
                entry.allowed.entry(permission).or_default().add(time);
            }
            Decision::Deny => {
                inputs.denied_requests += 1;
                entry.denied.entry(permission).or_default().add(time);
            }
            Decision::Unknown => inputs.undecided_requests += 1,
        }
        if let Some(target) = &event.impersonated_user
            && decision == Decision::Allow
            && !event.user.username.is_empty()
        {
            let impersonator = activity.entry(event.user.username.clone()).or_default();
            impersonator
                .groups
                .extend(event.user.groups.iter().cloned());
            for permission in impersonation_permissions(target) {
                impersonator
                    .allowed
                    .entry(permission)
                    .or_default()
                    .add(time);
            }
        }
    }

    let mut subjects: BTreeSet<SubjectKey> = model.by_subject.keys().cloned().collect();
    subjects.extend(activity.keys().map(|name| SubjectKey::for_username(name)));

    let empty = Activity::default();
    let mut reports = Vec::new();
    for subject in subjects {
        let report = match subject.kind {
            SubjectKind::Group => group_report(&subject, &model, &activity),
            _ => identity_report(
                &subject,
                &model,
                activity.get(&subject.name).unwrap_or(&empty),
            ),
        };
        reports.push(report);
    }
    RbacReport {
        inputs,
        subjects: reports,
        caveats: CAVEATS.iter().map(|caveat| (*caveat).to_owned()).collect(),
    }
}

/// The groups an identity is in: those seen in audit events, plus the groups
/// kube-apiserver puts every ServiceAccount in.
fn effective_groups(subject: &SubjectKey, activity: &Activity) -> BTreeSet<String> {
    let mut groups = activity.groups.clone();
    if let Some((namespace, _)) = model::service_account_parts(&subject.name) {
        groups.insert("system:serviceaccounts".to_owned());
        groups.insert(format!("system:serviceaccounts:{namespace}"));
        groups.insert("system:authenticated".to_owned());
    }
    groups
}

fn identity_report(subject: &SubjectKey, model: &GrantModel, activity: &Activity) -> SubjectReport {
    let groups = effective_groups(subject, activity);
    let mut atoms = model.by_subject.get(subject).cloned().unwrap_or_default();
    for group in &groups {
        let key = SubjectKey {
            kind: SubjectKind::Group,
            name: group.clone(),
        };
        if let Some(group_atoms) = model.by_subject.get(&key) {
            for (atom, sources) in group_atoms {
                atoms
                    .entry(atom.clone())
                    .or_default()
                    .extend(sources.iter().cloned());
            }
        }
    }
    let uses: Vec<(Permission, Tally, Vec<String>)> = activity
        .allowed
        .iter()
        .map(|(permission, tally)| (permission.clone(), tally.clone(), Vec::new()))
        .collect();
    let denied = activity
        .denied
        .iter()
        .map(|(permission, tally)| Denial {
            permission: permission.clone(),
            count: tally.count,
            last_seen: tally.last.clone(),
        })
        .collect();
    assemble(subject, groups.into_iter().collect(), &atoms, uses, denied)
}

fn group_report(
    subject: &SubjectKey,
    model: &GrantModel,
    activity: &BTreeMap<String, Activity>,
) -> SubjectReport {
    let atoms = model.by_subject.get(subject).cloned().unwrap_or_default();
    let mut members = Vec::new();
    let mut merged: BTreeMap<Permission, (Tally, BTreeSet<String>)> = BTreeMap::new();
    for (username, member_activity) in activity {
        let member = SubjectKey::for_username(username);
        if !effective_groups(&member, member_activity).contains(&subject.name) {
            continue;
        }
        members.push(username.clone());
        for (permission, tally) in &member_activity.allowed {
            if !atoms.keys().any(|atom| atom.exercised_by(permission)) {
                continue;
            }
            let (total, users) = merged.entry(permission.clone()).or_default();
            total.count += tally.count;
            if tally.last > total.last {
                total.last = tally.last.clone();
            }
            users.insert(username.clone());
        }
    }
    let uses = merged
        .into_iter()
        .map(|(permission, (tally, users))| (permission, tally, users.into_iter().collect()))
        .collect();
    assemble(subject, members, &atoms, uses, Vec::new())
}

fn assemble(
    subject: &SubjectKey,
    groups_or_members: Vec<String>,
    atoms: &model::AtomSet,
    uses: Vec<(Permission, Tally, Vec<String>)>,
    denied: Vec<Denial>,
) -> SubjectReport {
    let mut used_atoms: BTreeSet<&GrantAtom> = BTreeSet::new();
    let mut used = Vec::new();
    let mut unexplained = Vec::new();
    let mut suggestion_input = Vec::new();
    for (permission, tally, users) in uses {
        let mut matched_by = Vec::new();
        let mut only_baseline = true;
        for (atom, sources) in atoms {
            if atom.exercised_by(&permission) {
                used_atoms.insert(atom);
                for source in sources {
                    matched_by.push(format!("{} from {}", atom.describe(), source.describe()));
                    let baseline = BASELINE_GROUPS
                        .iter()
                        .any(|group| source.subject == format!("Group {group}"));
                    only_baseline &= baseline;
                }
            }
        }
        let usage = Usage {
            permission,
            count: tally.count,
            last_used: tally.last,
            matched_by,
            users,
        };
        if usage.matched_by.is_empty() {
            suggestion_input.push(usage.clone());
            unexplained.push(usage);
        } else {
            if !only_baseline {
                suggestion_input.push(usage.clone());
            }
            used.push(usage);
        }
    }
    let grant = |(atom, sources): (&GrantAtom, &BTreeSet<GrantSource>)| Grant {
        atom: atom.clone(),
        risk: Risk::of(atom),
        sources: sources.iter().cloned().collect(),
    };
    let granted: Vec<Grant> = atoms.iter().map(grant).collect();
    let mut unused: Vec<Grant> = atoms
        .iter()
        .filter(|(atom, _)| !used_atoms.contains(atom))
        .map(grant)
        .collect();
    let used_wildcards: Vec<Grant> = atoms
        .iter()
        .filter(|(atom, _)| used_atoms.contains(atom) && atom.has_wildcard())
        .map(grant)
        .collect();
    unused.sort_by(|a, b| {
        (a.risk, a.atom.namespace.is_some(), &a.atom).cmp(&(
            b.risk,
            b.atom.namespace.is_some(),
            &b.atom,
        ))
    });
    SubjectReport {
        subject: subject.clone(),
        groups_or_members,
        granted,
        used,
        unused,
        used_wildcards,
        denied,
        allowed_without_rbac_grant: unexplained,
        suggested_manifests: suggest::manifests(subject, &suggestion_input),
    }
}
