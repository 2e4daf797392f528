//! The simulated cluster: its identities and their habits, its workloads and their
//! usual programs, and the routine connections between them.

/// An identity and its usual behaviour.
pub(super) struct Profile {
    pub(super) user: &'static str,
    pub(super) groups: &'static [&'static str],
    pub(super) ip: &'static str,
    pub(super) agent: &'static str,
    /// (verb, apiGroup, resource, subresource, namespace) the identity uses routinely.
    pub(super) calls: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
    /// Events per simulated hour.
    pub(super) rate: u32,
}

pub(super) const SA_GROUPS: &[&str] = &["system:serviceaccounts", "system:authenticated"];
pub(super) const USER_GROUPS: &[&str] = &["system:authenticated"];

pub(super) const PROFILES: &[Profile] = &[
    Profile {
        user: "system:serviceaccount:monitoring:prometheus",
        groups: SA_GROUPS,
        ip: "10.244.1.10",
        agent: "prometheus/2.53.0",
        calls: &[
            ("list", "", "pods", "", ""),
            ("watch", "", "pods", "", ""),
            ("list", "", "nodes", "", ""),
            ("list", "", "endpoints", "", ""),
            ("watch", "", "endpoints", "", ""),
            ("list", "", "services", "", ""),
        ],
        rate: 6,
    },
    Profile {
        user: "system:serviceaccount:shop:frontend",
        groups: SA_GROUPS,
        ip: "10.244.2.21",
        agent: "frontend/1.4.0 (linux/amd64) kubernetes-client",
        calls: &[
            ("get", "", "configmaps", "", "shop"),
            ("watch", "", "configmaps", "", "shop"),
        ],
        rate: 2,
    },
    Profile {
        user: "system:serviceaccount:shop:cart",
        groups: SA_GROUPS,
        ip: "10.244.2.22",
        agent: "cart/2.1 kubernetes-client",
        calls: &[
            ("get", "", "secrets", "", "shop"),
            ("get", "", "configmaps", "", "shop"),
        ],
        rate: 2,
    },
    Profile {
        user: "system:serviceaccount:payments:api",
        groups: SA_GROUPS,
        ip: "10.244.3.30",
        agent: "payments-api/5.0 kubernetes-client",
        calls: &[
            ("get", "", "secrets", "", "payments"),
            ("list", "coordination.k8s.io", "leases", "", "payments"),
            ("update", "coordination.k8s.io", "leases", "", "payments"),
        ],
        rate: 3,
    },
    Profile {
        user: "system:serviceaccount:ci:deployer",
        groups: SA_GROUPS,
        ip: "10.244.4.40",
        agent: "argocd-application-controller/v2.11",
        calls: &[
            ("get", "apps", "deployments", "", "shop"),
            ("patch", "apps", "deployments", "", "shop"),
            ("get", "apps", "deployments", "", "payments"),
            ("patch", "apps", "deployments", "", "payments"),
            ("list", "", "configmaps", "", "shop"),
        ],
        rate: 1,
    },
    Profile {
        user: "alice@example.com",
        groups: USER_GROUPS,
        ip: "192.168.10.15",
        agent: "kubectl/v1.30.2 (linux/amd64) kubernetes/39683505",
        calls: &[
            ("list", "", "pods", "", "shop"),
            ("get", "", "pods", "", "shop"),
            ("get", "", "pods", "log", "shop"),
            ("list", "apps", "deployments", "", "shop"),
        ],
        rate: 1,
    },
    Profile {
        user: "bob@example.com",
        groups: &["oncall", "system:authenticated"],
        ip: "192.168.10.22",
        agent: "kubectl/v1.30.2 (darwin/arm64) kubernetes/39683505",
        calls: &[
            ("list", "", "pods", "", ""),
            ("get", "", "nodes", "", ""),
            ("list", "", "events", "", "payments"),
            ("get", "", "pods", "log", "payments"),
        ],
        rate: 1,
    },
    Profile {
        user: "system:kube-controller-manager",
        groups: USER_GROUPS,
        ip: "10.0.0.10",
        agent: "kube-controller-manager/v1.30.2",
        calls: &[
            ("update", "coordination.k8s.io", "leases", "", "kube-system"),
            ("get", "coordination.k8s.io", "leases", "", "kube-system"),
        ],
        rate: 4,
    },
    Profile {
        user: "system:node:node-1",
        groups: &["system:nodes", "system:authenticated"],
        ip: "10.0.0.21",
        agent: "kubelet/v1.30.2 (linux/amd64) kubernetes/39683505",
        calls: &[
            ("get", "", "nodes", "", ""),
            ("patch", "", "nodes", "status", ""),
            ("create", "", "serviceaccounts", "token", "shop"),
        ],
        rate: 3,
    },
];

/// Workloads: (namespace, workload, image, service account, usual processes).
pub(super) const WORKLOADS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "shop",
        "frontend",
        "registry.example.com/shop/frontend:1.4.0",
        "frontend",
        &["node"],
    ),
    (
        "shop",
        "cart",
        "registry.example.com/shop/cart:2.1.0",
        "cart",
        &["java"],
    ),
    (
        "payments",
        "api",
        "registry.example.com/payments/api:5.0.3",
        "api",
        &["payments-api", "sleep"],
    ),
];

/// Routine flows: (src ns, src workload, dst ns, dst workload, dst address, port).
pub(super) const FLOWS: &[(&str, &str, &str, &str, &str, u16)] = &[
    ("shop", "frontend", "shop", "cart", "10.96.0.20", 8080),
    ("shop", "cart", "shop", "redis", "10.96.0.30", 6379),
    ("payments", "api", "", "", "198.51.100.10", 443),
    (
        "monitoring",
        "prometheus",
        "shop",
        "frontend",
        "10.96.0.10",
        9090,
    ),
];
