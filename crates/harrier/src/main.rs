//! The `harrier` command: run the collector, validate a config, list components, and
//! the security reports (`rbac-report`, `netpol-advise`).

use clap::{Parser, Subcommand};
use harrier::{CollectorError, DEFAULT_CONFIG};
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

// Records are allocated on receiver tasks and freed on exporter tasks; glibc malloc's
// cross-thread frees cost about a third of the collector's CPU (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Harrier: a telemetry collector for Kubernetes observability and security.
///
/// Without a subcommand, runs the collector on --config FILE, or on the embedded default
/// configuration (OTLP on 127.0.0.1:4317/4318 -> memory_limiter -> batch -> debug).
#[derive(Parser)]
#[command(name = "harrier", version, about, long_about)]
struct Cli {
    /// The TOML configuration file to run.
    #[arg(short, long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector (the default).
    Run,
    /// Check a configuration: prints "config is valid" and exits 0, or lists every
    /// error with its key path and exits 1.
    Validate,
    /// List every receiver, processor, exporter and extension with its signals.
    Components,
    /// Print the embedded default configuration.
    DefaultConfig,
    /// Least-privilege RBAC report: granted vs used permissions per subject, from RBAC
    /// objects (`kubectl get roles,clusterroles,rolebindings,clusterrolebindings -A -o
    /// yaml`) and audit events (JSON lines or an EventList), with suggested Roles.
    RbacReport {
        /// RBAC object files (YAML or JSON, a List or single objects).
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        rbac: Vec<PathBuf>,
        /// Audit event files (JSON lines or an EventList).
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        audit: Vec<PathBuf>,
        /// Output format: text, json or yaml.
        #[arg(long, default_value = "text")]
        format: harrier_security::Format,
    },
    /// NetworkPolicy advice from observed flows (log records with `event.domain =
    /// "network.flow"`): suggested policies per workload and, with --policies, rules
    /// allowed but unused, flows used but not allowed, and pods no policy selects.
    NetpolAdvise {
        /// Flow record files (JSON lines: flat attributes, OTLP attributes or OTLP logs).
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        flows: Vec<PathBuf>,
        /// Existing NetworkPolicies (and optionally Namespaces and Pods), YAML or JSON.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        policies: Vec<PathBuf>,
        /// Output format: text, json or yaml.
        #[arg(long, default_value = "text")]
        format: harrier_security::Format,
    },
}

/// Reads every file, or says which one could not be read.
fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|text| (p.display().to_string(), text))
                .map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
        .collect()
}

fn borrowed(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

/// Runs a report command; prints the report or the error.
fn report(build: impl FnOnce() -> Result<String, String>) -> ExitCode {
    match build() {
        Ok(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_config(path: &Option<PathBuf>) -> Result<String, String> {
    match path {
        None => Ok(DEFAULT_CONFIG.to_string()),
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read config file {}: {e}", p.display())),
    }
}

fn init_logs(level: &str, encoding: &str) {
    let filter = EnvFilter::try_from_env("HARRIER_LOG")
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if encoding == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Components => {
            components();
            ExitCode::SUCCESS
        }
        Command::DefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            ExitCode::SUCCESS
        }
        Command::Validate => validate(&cli.config),
        Command::Run => run(&cli.config),
        Command::RbacReport {
            rbac,
            audit,
            format,
        } => report(|| {
            let (rbac, audit) = (read_all(&rbac)?, read_all(&audit)?);
            harrier_security::rbac_report(&borrowed(&rbac), &borrowed(&audit))
                .map(|r| r.render(format))
                .map_err(|e| e.to_string())
        }),
        Command::NetpolAdvise {
            flows,
            policies,
            format,
        } => report(|| {
            let (flows, policies) = (read_all(&flows)?, read_all(&policies)?);
            harrier_security::netpol_advise(&borrowed(&flows), &borrowed(&policies))
                .map(|r| r.render(format))
                .map_err(|e| e.to_string())
        }),
    }
}

fn components() {
    let mut last = None;
    for info in harrier::registry().list() {
        if last != Some(info.kind) {
            println!("{}:", info.kind.section());
            last = Some(info.kind);
        }
        let signals: Vec<&str> = info.signals.iter().map(|s| s.as_str()).collect();
        let aliases = if info.aliases.is_empty() {
            String::new()
        } else {
            format!(" (aliases: {})", info.aliases.join(", "))
        };
        let signals = if signals.is_empty() {
            String::new()
        } else {
            format!(" [{}]", signals.join(", "))
        };
        println!(
            "  {}{signals}{aliases}: {}",
            info.type_name, info.description
        );
    }
}

fn validate(path: &Option<PathBuf>) -> ExitCode {
    let text = match read_config(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match harrier::load_config(&text) {
        Ok((_, warnings)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            println!("config is valid");
            ExitCode::SUCCESS
        }
        Err(CollectorError::Config(errors)) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!("config is invalid: {} error(s)", errors.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &Option<PathBuf>) -> ExitCode {
    let text = match read_config(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = match harrier::load_config(&text) {
        Ok((config, _)) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let logs = &config.service.telemetry.logs;
    init_logs(&logs.level, &logs.encoding);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let collector = match harrier::Collector::start(&config).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "harrier is running");
        wait_for_signal().await;
        tracing::info!("shutting down");
        let report = collector.shutdown().await;
        if !report.clean {
            tracing::warn!(
                dropped_items = report.dropped_items,
                "shutdown deadline reached before everything drained"
            );
        }
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
