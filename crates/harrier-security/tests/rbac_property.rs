//! Property check: for seeded random RBAC and usage, the report agrees with an
//! independent brute force over an enumerated permission universe.
//!
//! The brute force re-implements the RBAC authorizer's matching on plain rule lists
//! (no atoms, no shared code with the crate) and checks, per user:
//!
//! 1. authorizer equivalence: for every point of the universe, "some granted atom of the
//!    report allows it" equals "some bound rule allows it";
//! 2. granted atoms are exactly the cross product of the bound rules' lists at the
//!    binding's scope;
//! 3. unused == granted − used: an atom is in `unused` exactly when no allowed request
//!    of the user matches it;
//! 4. every allowed request is counted exactly once (duplicate stages included), and
//!    every denied one appears in `denied`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::collections::{BTreeMap, BTreeSet};

use harrier_security::rbac_report;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

const VERBS: &[&str] = &["get", "list", "create", "delete"];
const GROUPS: &[&str] = &["", "apps"];
/// (resource, subresource)
const RESOURCES: &[(&str, &str)] = &[
    ("pods", ""),
    ("secrets", ""),
    ("deployments", ""),
    ("pods", "exec"),
];
const NAMESPACES: &[&str] = &["a", "b"];
const NAMES: &[&str] = &["", "x", "y"];
const USERS: &[&str] = &["u0", "u1", "u2", "u3"];
const GROUP_SUBJECTS: &[&str] = &["g0", "g1"];

#[derive(Debug, Clone)]
struct Rule {
    verbs: Vec<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
}

/// A concrete request: verb, group, resource, subresource, namespace ("" = cluster), name.
type Point = (String, String, String, String, String, String);

fn pick_some(rng: &mut StdRng, options: &[&str], wildcard: &str) -> Vec<String> {
    let mut out: Vec<String> = options
        .iter()
        .filter(|_| rng.random_bool(0.4))
        .map(|s| (*s).to_owned())
        .collect();
    if rng.random_bool(0.12) {
        out.push(wildcard.to_owned());
    }
    if out.is_empty() {
        out.push(options.choose(rng).copied().unwrap_or("get").to_owned());
    }
    out
}

fn random_rule(rng: &mut StdRng) -> Rule {
    let resource_names: Vec<&str> =
        ["pods", "secrets", "deployments", "pods/exec", "*/exec"].to_vec();
    let mut resources = pick_some(rng, &resource_names, "*");
    resources.dedup();
    Rule {
        verbs: pick_some(rng, VERBS, "*"),
        groups: pick_some(rng, GROUPS, "*"),
        resources,
        names: if rng.random_bool(0.25) {
            vec!["x".to_owned()]
        } else {
            Vec::new()
        },
    }
}

fn rule_json(rule: &Rule) -> serde_json::Value {
    json!({"verbs": rule.verbs, "apiGroups": rule.groups, "resources": rule.resources, "resourceNames": rule.names})
}

/// The brute-force authorizer match for one rule.
fn rule_allows(rule: &Rule, point: &Point) -> bool {
    let (verb, group, resource, sub, _, name) = point;
    let combined = if sub.is_empty() {
        resource.clone()
    } else {
        format!("{resource}/{sub}")
    };
    let verb_ok = rule.verbs.iter().any(|v| v == "*" || v == verb);
    let group_ok = rule.groups.iter().any(|g| g == "*" || g == group);
    let resource_ok = rule
        .resources
        .iter()
        .any(|r| r == "*" || *r == combined || (!sub.is_empty() && *r == format!("*/{sub}")));
    let name_ok = rule.names.is_empty() || rule.names.iter().any(|n| !name.is_empty() && n == name);
    verb_ok && group_ok && resource_ok && name_ok
}

/// A bound rule at a scope (`Some(ns)`: RoleBinding).
#[derive(Debug, Clone)]
struct Bound {
    rule: Rule,
    scope: Option<String>,
    subject: String,
}

fn bound_allows(bound: &Bound, point: &Point) -> bool {
    let scope_ok = match &bound.scope {
        Some(ns) => *ns == point.4,
        None => true,
    };
    scope_ok && rule_allows(&bound.rule, point)
}

fn universe() -> Vec<Point> {
    let mut points = Vec::new();
    for verb in VERBS {
        for group in GROUPS {
            for (resource, sub) in RESOURCES {
                for namespace in NAMESPACES.iter().chain(&[""]) {
                    for name in NAMES {
                        points.push((
                            verb.to_string(),
                            group.to_string(),
                            resource.to_string(),
                            sub.to_string(),
                            namespace.to_string(),
                            name.to_string(),
                        ));
                    }
                }
            }
        }
    }
    points
}

/// Totals over a case, to check the generator exercises what it should.
#[derive(Default)]
struct Totals {
    unused: usize,
    used_atoms: usize,
    denied: usize,
    wildcard_grants: usize,
    name_grants: usize,
}

fn run_case(seed: u64, totals: &mut Totals) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut items = Vec::new();
    // ClusterRoles; the last one aggregates those labelled `agg: "yes"`.
    let mut cluster_roles: Vec<(String, Vec<Rule>, bool)> = Vec::new();
    for index in 0..3 {
        let rules: Vec<Rule> = (0..rng.random_range(1..=2))
            .map(|_| random_rule(&mut rng))
            .collect();
        let labelled = rng.random_bool(0.5);
        let name = format!("cr{index}");
        let labels = if labelled {
            json!({"agg": "yes"})
        } else {
            json!({})
        };
        items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels}, "rules": rules.iter().map(rule_json).collect::<Vec<_>>()}));
        cluster_roles.push((name, rules, labelled));
    }
    let aggregated_rules: Vec<Rule> = cluster_roles
        .iter()
        .filter(|(_, _, labelled)| *labelled)
        .flat_map(|(_, rules, _)| rules.clone())
        .collect();
    items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "aggregate"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]}, "rules": []}));
    cluster_roles.push(("aggregate".to_owned(), aggregated_rules, false));
    // Roles in each namespace.
    let mut roles: BTreeMap<String, Vec<Rule>> = BTreeMap::new();
    for namespace in NAMESPACES {
        let rules: Vec<Rule> = (0..rng.random_range(1..=2))
            .map(|_| random_rule(&mut rng))
            .collect();
        items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "role", "namespace": namespace}, "rules": rules.iter().map(rule_json).collect::<Vec<_>>()}));
        roles.insert(namespace.to_string(), rules);
    }
    // Bindings.
    let mut bound: Vec<Bound> = Vec::new();
    for index in 0..6 {
        let is_group = rng.random_bool(0.4);
        let subject_name = if is_group {
            GROUP_SUBJECTS.choose(&mut rng).copied().unwrap_or("g0")
        } else {
            USERS.choose(&mut rng).copied().unwrap_or("u0")
        };
        let subject_kind = if is_group { "Group" } else { "User" };
        let subject_key = format!("{subject_kind}:{subject_name}");
        let subjects = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": subject_kind, "name": subject_name}]);
        let namespaced = rng.random_bool(0.6);
        let namespace = NAMESPACES.choose(&mut rng).copied().unwrap_or("a");
        let to_role = namespaced && rng.random_bool(0.5);
        let cluster_role = cluster_roles
            .choose(&mut rng)
            .cloned()
            .expect("cluster roles");
        let (role_kind, role_name, rules) = if to_role {
            ("Role", "role".to_owned(), roles[namespace].clone())
        } else {
            (
                "ClusterRole",
                cluster_role.0.clone(),
                cluster_role.1.clone(),
            )
        };
        let name = format!("b{index}");
        if namespaced {
            items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
                "subjects": subjects}));
        } else {
            items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role.0},
                "subjects": subjects}));
        }
        for rule in rules {
            bound.push(Bound {
                rule,
                scope: namespaced.then(|| namespace.to_owned()),
                subject: subject_key.clone(),
            });
        }
    }
    let rbac = json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string();

    // Group membership and usage. Requests are allowed exactly when the brute force
    // grants them (what the authorizer would decide).
    let points = universe();
    let membership: BTreeMap<&str, Vec<&str>> = USERS
        .iter()
        .map(|user| {
            (
                *user,
                GROUP_SUBJECTS
                    .iter()
                    .copied()
                    .filter(|_| rng.random_bool(0.5))
                    .collect(),
            )
        })
        .collect();
    let user_bound = |user: &str| -> Vec<Bound> {
        bound
            .iter()
            .filter(|b| {
                b.subject == format!("User:{user}")
                    || membership[user]
                        .iter()
                        .any(|group| b.subject == format!("Group:{group}"))
            })
            .cloned()
            .collect()
    };
    let mut lines = Vec::new();
    let mut allowed: BTreeMap<&str, BTreeMap<Point, u64>> = BTreeMap::new();
    let mut denied: BTreeMap<&str, BTreeSet<Point>> = BTreeMap::new();
    for (request, _) in (0..120).enumerate() {
        let user = USERS.choose(&mut rng).copied().unwrap_or("u0");
        // Favour granted points so that usage is substantial.
        let granted_points: Vec<&Point> = points
            .iter()
            .filter(|p| user_bound(user).iter().any(|b| bound_allows(b, p)))
            .collect();
        let point = if !granted_points.is_empty() && rng.random_bool(0.8) {
            (*granted_points.choose(&mut rng).expect("non-empty")).clone()
        } else {
            points.choose(&mut rng).cloned().expect("universe")
        };
        let is_allowed = user_bound(user).iter().any(|b| bound_allows(b, &point));
        let mut groups: Vec<&str> = membership[user].clone();
        groups.push("system:authenticated");
        let mut object_ref =
            json!({"resource": point.2, "apiGroup": point.1, "subresource": point.3});
        if !point.4.is_empty() {
            object_ref["namespace"] = json!(point.4);
        }
        if !point.5.is_empty() {
            object_ref["name"] = json!(point.5);
        }
        let code = if is_allowed { 200 } else { 403 };
        let event = |stage: &str| {
            json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": format!("id-{request}"),
                "stage": stage, "verb": point.0, "user": {"username": user, "groups": groups},
                "objectRef": object_ref, "responseStatus": {"code": code},
                "stageTimestamp": format!("2026-11-20T10:00:{:02}.000000Z", request % 60)})
            .to_string()
        };
        if rng.random_bool(0.3) {
            lines.push(event("ResponseStarted"));
        }
        lines.push(event("ResponseComplete"));
        if is_allowed {
            *allowed.entry(user).or_default().entry(point).or_default() += 1;
        } else {
            denied.entry(user).or_default().insert(point);
        }
    }
    let audit = lines.join("\n");

    let report = rbac_report(&[("rbac.json", &rbac)], &[("audit.log", &audit)]).unwrap();

    for user in USERS {
        let rules = user_bound(user);
        let used_points: Vec<&Point> = allowed
            .get(user)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let Some(subject) = report.subject("User", user) else {
            assert!(
                rules.is_empty() && used_points.is_empty() && !denied.contains_key(user),
                "seed {seed}: {user} missing"
            );
            continue;
        };
        let context = format!("seed {seed} user {user}");

        // 1. Authorizer equivalence over the universe.
        for point in &points {
            let permission = harrier_security::rbac::Permission {
                verb: point.0.clone(),
                api_group: point.1.clone(),
                resource: point.2.clone(),
                subresource: point.3.clone(),
                namespace: point.4.clone(),
                name: point.5.clone(),
                non_resource_url: String::new(),
            };
            let by_report = subject
                .granted
                .iter()
                .any(|grant| grant.atom.allows(&permission));
            let by_brute_force = rules.iter().any(|b| bound_allows(b, point));
            assert_eq!(by_report, by_brute_force, "{context}: {point:?}");
        }

        // 2. Granted atoms are the rules' cross products at their scopes.
        let mut expected_atoms: BTreeSet<(Option<String>, String, String, String, String)> =
            BTreeSet::new();
        for b in &rules {
            for verb in &b.rule.verbs {
                for group in &b.rule.groups {
                    for resource in &b.rule.resources {
                        let names = if b.rule.names.is_empty() {
                            vec![String::new()]
                        } else {
                            b.rule.names.clone()
                        };
                        for name in names {
                            expected_atoms.insert((
                                b.scope.clone(),
                                verb.clone(),
                                group.clone(),
                                resource.clone(),
                                name,
                            ));
                        }
                    }
                }
            }
        }
        let atom_key = |atom: &harrier_security::rbac::GrantAtom| {
            (
                atom.namespace.clone(),
                atom.verb.clone(),
                atom.api_group.clone(),
                atom.resource.clone(),
                atom.resource_name.clone(),
            )
        };
        let granted_atoms: BTreeSet<_> =
            subject.granted.iter().map(|g| atom_key(&g.atom)).collect();
        assert_eq!(granted_atoms, expected_atoms, "{context}");

        // 3. unused == granted − used, each atom decided by brute force over the uses.
        let atom_rule = |(scope, verb, group, resource, name): &(
            Option<String>,
            String,
            String,
            String,
            String,
        )| Bound {
            rule: Rule {
                verbs: vec![verb.clone()],
                groups: vec![group.clone()],
                resources: vec![resource.clone()],
                names: if name.is_empty() {
                    Vec::new()
                } else {
                    vec![name.clone()]
                },
            },
            scope: scope.clone(),
            subject: String::new(),
        };
        let expected_unused: BTreeSet<_> = expected_atoms
            .iter()
            .filter(|atom| {
                let single = atom_rule(atom);
                !used_points.iter().any(|point| {
                    bound_allows(&single, point)
                        || (point.0 == "get"
                            && point.1.is_empty()
                            && point.2 == "pods"
                            && point.3 == "exec"
                            && {
                                let as_create = (
                                    "create".to_owned(),
                                    point.1.clone(),
                                    point.2.clone(),
                                    point.3.clone(),
                                    point.4.clone(),
                                    point.5.clone(),
                                );
                                bound_allows(&single, &as_create)
                            })
                })
            })
            .cloned()
            .collect();
        let reported_unused: BTreeSet<_> =
            subject.unused.iter().map(|g| atom_key(&g.atom)).collect();
        assert_eq!(reported_unused, expected_unused, "{context}");
        totals.unused += reported_unused.len();
        totals.used_atoms += granted_atoms.len() - reported_unused.len();
        totals.denied += subject.denied.len();
        totals.wildcard_grants += subject
            .granted
            .iter()
            .filter(|g| g.atom.has_wildcard())
            .count();
        totals.name_grants += subject
            .granted
            .iter()
            .filter(|g| !g.atom.resource_name.is_empty())
            .count();
        let risks: Vec<_> = subject.unused.iter().map(|g| g.risk).collect();
        assert!(
            risks.windows(2).all(|w| w[0] <= w[1]),
            "{context}: unused sorted by risk"
        );

        // 4. Usage counts and denials.
        let reported_used: BTreeMap<Point, u64> = subject
            .used
            .iter()
            .map(|usage| {
                let p = &usage.permission;
                (
                    (
                        p.verb.clone(),
                        p.api_group.clone(),
                        p.resource.clone(),
                        p.subresource.clone(),
                        p.namespace.clone(),
                        p.name.clone(),
                    ),
                    usage.count,
                )
            })
            .collect();
        assert_eq!(
            reported_used,
            allowed.get(user).cloned().unwrap_or_default(),
            "{context}"
        );
        assert!(subject.allowed_without_rbac_grant.is_empty(), "{context}");
        let reported_denied: BTreeSet<Point> = subject
            .denied
            .iter()
            .map(|d| {
                let p = &d.permission;
                (
                    p.verb.clone(),
                    p.api_group.clone(),
                    p.resource.clone(),
                    p.subresource.clone(),
                    p.namespace.clone(),
                    p.name.clone(),
                )
            })
            .collect();
        assert_eq!(
            reported_denied,
            denied.get(user).cloned().unwrap_or_default(),
            "{context}"
        );
    }
}

#[test]
fn unused_equals_granted_minus_used_for_random_rbac() {
    let mut totals = Totals::default();
    for seed in 0..40 {
        run_case(seed, &mut totals);
    }
    // The generator must exercise every branch it is meant to.
    assert!(
        totals.unused > 100 && totals.used_atoms > 100,
        "{} {}",
        totals.unused,
        totals.used_atoms
    );
    assert!(totals.denied > 20 && totals.wildcard_grants > 20 && totals.name_grants > 20);
}
