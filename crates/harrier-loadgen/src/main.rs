//! The `harrier-loadgen` command: parse flags, build the requests once, run the
//! workers for `--duration`, print a summary. See `harrier-loadgen --help`.

mod cli;
mod client;
mod run;

use clap::Parser;
use cli::{Args, Compression, Protocol};
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
    let payload = match Payload::build(
        args.signal,
        shape,
        args.protocol == Protocol::Http,
        args.compression == Compression::Gzip,
    ) {
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
    println!(
        "harrier-loadgen: {signal} over {protocol} to {url}, {items} {noun}/request \
         ({bytes} bytes protobuf), {attrs} attributes each, {workers} workers, {rate}, \
         compression {compression}, for {duration}",
        signal = args.signal.as_str(),
        protocol = args.protocol.name(),
        noun = args.signal.item_noun(),
        url = args.base_url(),
        items = payload.items_per_request,
        bytes = payload.encoded_bytes,
        attrs = args.attributes,
        workers = args.concurrency,
        compression = args.compression.name(),
        duration = humantime::format_duration(args.duration),
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
    let noun = args.signal.item_noun();
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
