//! The `harrier-loadgen` command: parse flags, build the requests once, run the
//! workers for `--duration`, print a summary. See `harrier-loadgen --help`.

mod cli;
mod client;
mod run;

use clap::Parser;
use cli::{Args, Compression, Protocol};
use harrier_loadgen::forward::RecordShape;
use harrier_loadgen::payload::{Payload, Shape};
use harrier_loadgen::stats::format_latency;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    // reqwest is built with `rustls-no-provider`: a provider must be installed before
    // any client exists. An error means one is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();

    let shape = Shape {
        items: args.items_per_request as usize,
        attributes: args.attributes as usize,
    };
    let built = match args.protocol {
        Protocol::Grpc | Protocol::Http => Payload::build(
            args.signal,
            shape,
            args.protocol == Protocol::Http,
            args.compression == Compression::Gzip,
        ),
        Protocol::Forward => Payload::forward(
            args.forward_mode,
            RecordShape {
                records: args.items_per_request as usize,
                record_size: args.record_size as usize,
                kubernetes: args.kubernetes,
            },
            !args.no_chunk,
        ),
        Protocol::Audit => Payload::audit(args.items_per_request as usize).map_err(Into::into),
    };
    let payload = match built {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("error: cannot build the requests: {e}");
            return ExitCode::FAILURE;
        }
    };
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
    print_plan(&args, &payload);
    let outcome = match runtime.block_on(run::run(&args, Arc::clone(&payload))) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_summary(&args, &outcome);
    if outcome.stats.requests_failed > 0 || outcome.stats.requests_ok == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_plan(args: &Args, payload: &Payload) {
    let rate = match args.rate {
        0 => "saturation".to_string(),
        r => format!("{r} requests/s"),
    };
    let workers = args.concurrency;
    let duration = humantime::format_duration(args.duration);
    let items = payload.items_per_request;
    let bytes = payload.encoded_bytes;
    match args.protocol {
        Protocol::Grpc | Protocol::Http => {}
        Protocol::Forward => {
            println!(
                "harrier-loadgen: fluent forward ({mode} mode) to tcp://{address}, {items} records/frame \
                 of {size} bytes{k8s} ({bytes} bytes/frame), {acks}, {workers} workers, {rate}, for {duration}",
                mode = args.forward_mode.name(),
                address = args.tcp_address(),
                size = args.record_size,
                k8s = if args.kubernetes {
                    " with kubernetes metadata"
                } else {
                    ""
                },
                acks = if args.no_chunk {
                    "no chunk (no acks)"
                } else {
                    "chunk + ack"
                },
            );
            return;
        }
        Protocol::Audit => {
            println!(
                "harrier-loadgen: audit EventLists to {url}, {items} events/request ({bytes} bytes JSON), \
                 {workers} workers, {rate}, for {duration}",
                url = args.audit_url(),
            );
            return;
        }
    }
    println!(
        "harrier-loadgen: {signal} over {protocol} to {url}, {items} {noun}/request \
         ({bytes} bytes protobuf), {attrs} attributes each, {workers} workers, {rate}, \
         compression {compression}, for {duration}",
        signal = args.signal.as_str(),
        protocol = args.protocol.name(),
        noun = args.signal.item_noun(),
        url = args.base_url(),
        attrs = args.attributes,
        compression = args.compression.name(),
    );
}

fn print_summary(args: &Args, outcome: &run::Outcome) {
    let s = &outcome.stats;
    let elapsed = outcome.elapsed;
    let latency = &s.latency;
    println!("elapsed:          {:.3}s", elapsed.as_secs_f64());
    println!(
        "requests:         {} ok, {} failed ({:.1} requests/s)",
        s.requests_ok,
        s.requests_failed,
        s.requests_per_second(elapsed)
    );
    let noun = args.item_noun();
    println!(
        "items:            {} {noun} accepted ({:.1} {noun}/s), {} rejected by the server",
        s.items_accepted,
        s.items_per_second(elapsed),
        s.items_rejected
    );
    println!(
        "latency (ok):     p50 {}, p90 {}, p99 {}, max {}, mean {}",
        format_latency(latency.percentile(50.0)),
        format_latency(latency.percentile(90.0)),
        format_latency(latency.percentile(99.0)),
        format_latency(latency.max()),
        format_latency(latency.mean()),
    );
    if s.requests_failed > 0 {
        println!("errors:");
        for (message, count) in s.errors.distinct() {
            println!("  {count:>8} x {message}");
        }
        if s.errors.others() > 0 {
            println!("  {:>8} x (other messages)", s.errors.others());
        }
    }
}
