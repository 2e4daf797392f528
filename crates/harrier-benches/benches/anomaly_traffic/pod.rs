//! The pod a `create pods` request carries in `k8s.audit.request_object`, as the
//! receiver converts its JSON: containers with probes, env, resources and mounts, an
//! init container, volumes, tolerations and security contexts.

use super::{array, boolean, int, object, s, strings};
use harrier_pdata::otlp::common::v1::AnyValue;
/// A pod as `kubectl`, a CI runner or an operator submits it. `violation` 1 makes it
/// privileged, 2 mounts the container runtime socket.
pub fn pod(ns: &str, name: &str, image: &str, sa: &str, violation: u8) -> AnyValue {
    let env = (0..6)
        .map(|k| {
            object(vec![
                ("name", s(&format!("APP_SETTING_{k}"))),
                ("value", s(&format!("value-{k}"))),
            ])
        })
        .collect();
    let mut mounts = vec![
        object(vec![
            ("name", s("config")),
            ("mountPath", s("/etc/app")),
            ("readOnly", boolean(true)),
        ]),
        object(vec![
            ("name", s("kube-api-access")),
            (
                "mountPath",
                s("/var/run/secrets/kubernetes.io/serviceaccount"),
            ),
            ("readOnly", boolean(true)),
        ]),
    ];
    let mut volumes = vec![
        object(vec![
            ("name", s("config")),
            (
                "configMap",
                object(vec![("name", s(&format!("{name}-config")))]),
            ),
        ]),
        object(vec![
            ("name", s("kube-api-access")),
            (
                "projected",
                object(vec![(
                    "sources",
                    array(vec![object(vec![(
                        "serviceAccountToken",
                        object(vec![("expirationSeconds", int(3607)), ("path", s("token"))]),
                    )])]),
                )]),
            ),
        ]),
    ];
    if violation == 2 {
        mounts.push(object(vec![
            ("name", s("runtime")),
            ("mountPath", s("/var/run/containerd/containerd.sock")),
        ]));
        volumes.push(object(vec![
            ("name", s("runtime")),
            (
                "hostPath",
                object(vec![
                    ("path", s("/run/containerd/containerd.sock")),
                    ("type", s("Socket")),
                ]),
            ),
        ]));
    }
    let security_context = if violation == 1 {
        object(vec![("privileged", boolean(true))])
    } else {
        object(vec![
            ("allowPrivilegeEscalation", boolean(false)),
            ("readOnlyRootFilesystem", boolean(true)),
            ("capabilities", object(vec![("drop", strings(&["ALL"]))])),
        ])
    };
    let probe = |path: &str| {
        object(vec![
            (
                "httpGet",
                object(vec![("path", s(path)), ("port", int(8080))]),
            ),
            ("periodSeconds", int(10)),
        ])
    };
    let container = object(vec![
        ("name", s("app")),
        ("image", s(image)),
        ("args", strings(&["--config", "/etc/app/config.yaml"])),
        (
            "ports",
            array(vec![object(vec![
                ("name", s("http")),
                ("containerPort", int(8080)),
                ("protocol", s("TCP")),
            ])]),
        ),
        ("env", array(env)),
        (
            "resources",
            object(vec![
                (
                    "requests",
                    object(vec![("cpu", s("250m")), ("memory", s("256Mi"))]),
                ),
                ("limits", object(vec![("memory", s("512Mi"))])),
            ]),
        ),
        ("volumeMounts", array(mounts)),
        ("readinessProbe", probe("/ready")),
        ("livenessProbe", probe("/healthz")),
        ("securityContext", security_context),
    ]);
    let init = object(vec![
        ("name", s("migrate")),
        ("image", s(image)),
        ("args", strings(&["migrate", "--wait"])),
    ]);
    object(vec![
        ("kind", s("Pod")),
        ("apiVersion", s("v1")),
        (
            "metadata",
            object(vec![
                ("name", s(name)),
                ("namespace", s(ns)),
                (
                    "labels",
                    object(vec![
                        ("app.kubernetes.io/name", s(name)),
                        ("app.kubernetes.io/part-of", s(ns)),
                        ("pod-template-hash", s("5d9c7b8f4")),
                    ]),
                ),
                (
                    "annotations",
                    object(vec![("kubectl.kubernetes.io/default-container", s("app"))]),
                ),
            ]),
        ),
        (
            "spec",
            object(vec![
                ("serviceAccountName", s(sa)),
                ("initContainers", array(vec![init])),
                ("containers", array(vec![container])),
                ("volumes", array(volumes)),
                ("restartPolicy", s("Always")),
                ("terminationGracePeriodSeconds", int(30)),
                ("dnsPolicy", s("ClusterFirst")),
                (
                    "nodeSelector",
                    object(vec![("kubernetes.io/os", s("linux"))]),
                ),
                (
                    "tolerations",
                    array(vec![object(vec![
                        ("key", s("node.kubernetes.io/not-ready")),
                        ("operator", s("Exists")),
                        ("effect", s("NoExecute")),
                        ("tolerationSeconds", int(300)),
                    ])]),
                ),
                (
                    "securityContext",
                    object(vec![
                        ("runAsNonRoot", boolean(true)),
                        ("runAsUser", int(10001)),
                        (
                            "seccompProfile",
                            object(vec![("type", s("RuntimeDefault"))]),
                        ),
                    ]),
                ),
            ]),
        ),
    ])
}
