#!/usr/bin/env bash
# Scrape -> remote write throughput and CPU cost, next to a real Prometheus scraping the
# same target. Usage: scripts/bench-scrape.sh [series] [seconds]
#
# - a Python http.server serves one static exposition of <series> samples (counters,
#   gauges and a histogram family, node-exporter-like label sets);
# - a Python remote-write sink answers 204 to every POST (and counts bytes);
# - Harrier (release build) scrapes the target every second and remote-writes to the sink;
# - then Prometheus (Debian's) scrapes the same target every second into its TSDB.
# CPU seconds are read from /proc/<pid>/stat (utime + stime) over the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-100000}
SECONDS_RUN=${2:-60}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }

python3 - "$SERIES" > "$WORK/metrics" <<'PY'
import sys
n = int(sys.argv[1])
out = []
hist = n // 20           # 5% of the samples are histogram families
gauges = (n - hist) // 2
counters = n - hist - gauges
out.append("# HELP bench_requests_total Requests.\n# TYPE bench_requests_total counter")
for i in range(counters):
    out.append(f'bench_requests_total{{cpu="{i % 64}",mode="m{i % 8}",series="{i}"}} {i * 7 + 0.5}')
out.append("# HELP bench_temperature Temperature.\n# TYPE bench_temperature gauge")
for i in range(gauges):
    out.append(f'bench_temperature{{device="sd{i % 26}",series="{i}"}} {i / 3:.3f}')
out.append("# HELP bench_latency_seconds Latency.\n# TYPE bench_latency_seconds histogram")
les = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"]
per = len(les) + 2
for j in range(max(1, hist // per)):
    for k, le in enumerate(les):
        out.append(f'bench_latency_seconds_bucket{{path="/p{j}",le="{le}"}} {k * 10 + j}')
    out.append(f'bench_latency_seconds_sum{{path="/p{j}"}} {j * 1.5}')
    out.append(f'bench_latency_seconds_count{{path="/p{j}"}} {70 + j}')
print("\n".join(out))
PY
SAMPLES=$(grep -vc '^#' "$WORK/metrics")
echo "exposition: $SAMPLES samples, $(du -h "$WORK/metrics" | cut -f1)"

TARGET_PORT=$(free_port)
(cd "$WORK" && exec python3 -m http.server "$TARGET_PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
SINK_PORT=$(free_port)
python3 - "$SINK_PORT" >"$WORK/sink.log" 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sleep 1

cargo build --release -q -p harrier
cat > "$WORK/harrier.toml" <<TOML
[receivers.prometheus.config.global]
scrape_interval = "1s"
scrape_timeout = "1s"
[[receivers.prometheus.config.scrape_configs]]
job_name = "bench"
[[receivers.prometheus.config.scrape_configs.static_configs]]
targets = ["127.0.0.1:$TARGET_PORT"]
[exporters.prometheus_remote_write]
endpoint = "http://127.0.0.1:$SINK_PORT/api/v1/write"
[service.telemetry.metrics]
address = "127.0.0.1:$(free_port)"
[service.pipelines.metrics]
receivers = ["prometheus"]
exporters = ["prometheus_remote_write"]
TOML
METRICS_ADDR=$(grep -A1 'service.telemetry.metrics' "$WORK/harrier.toml" | sed -n 's/address = "\(.*\)"/\1/p')
target/release/harrier --config "$WORK/harrier.toml" >/dev/null 2>"$WORK/harrier.log" &
HPID=$!
sleep 3
c0=$(cpu_seconds $HPID)
s0=$(curl -s "http://$METRICS_ADDR/metrics" | awk '/^otelcol_exporter_sent_metric_points_total/ {s+=$2} END {print s+0}')
sleep "$SECONDS_RUN"
c1=$(cpu_seconds $HPID)
s1=$(curl -s "http://$METRICS_ADDR/metrics" | awk '/^otelcol_exporter_sent_metric_points_total/ {s+=$2} END {print s+0}')
rss=$(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$HPID/status)
kill $HPID; wait $HPID 2>/dev/null || true
python3 - "$c0" "$c1" "$s0" "$s1" "$SECONDS_RUN" "$rss" <<'PY'
import sys
c0, c1, s0, s1, secs = map(float, sys.argv[1:6])
points = s1 - s0
cpu = c1 - c0
print(f"harrier  : {points/secs:,.0f} points/s sent, {cpu:.2f} CPU-s in {secs:.0f} s, "
      f"{cpu / points * 1e6 if points else float('nan'):.2f} CPU-s per million points, peak RSS {sys.argv[6]}")
PY

if [ -x /usr/bin/prometheus ]; then
  PROM_PORT=$(free_port)
  mkdir -p "$WORK/tsdb"
  printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$TARGET_PORT" >"$WORK/prometheus.yml"
  /usr/bin/prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
  PPID_=$!
  sleep 5
  c0=$(cpu_seconds $PPID_)
  # Prometheus's own counter of samples written to its head block (not self-scraped,
  # so read from its /metrics).
  q() { curl -s "http://127.0.0.1:$PROM_PORT/metrics" | awk '/^prometheus_tsdb_head_samples_appended_total/ {s+=$2} END {print s+0}'; }
  n0=$(q)
  sleep "$SECONDS_RUN"
  c1=$(cpu_seconds $PPID_)
  n1=$(q)
  rss=$(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$PPID_/status)
  kill $PPID_; wait $PPID_ 2>/dev/null || true
  python3 - "$c0" "$c1" "$n0" "$n1" "$SECONDS_RUN" "$rss" <<'PY'
import sys
c0, c1, n0, n1, secs = map(float, sys.argv[1:6])
samples = n1 - n0
cpu = c1 - c0
print(f"prometheus: {samples/secs:,.0f} samples/s appended, {cpu:.2f} CPU-s in {secs:.0f} s, "
      f"{cpu / samples * 1e6 if samples else float('nan'):.2f} CPU-s per million samples, peak RSS {sys.argv[6]}")
PY
fi
