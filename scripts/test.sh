#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs (idempotently) what the tests
# need, then runs fmt, clippy and every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# --- What the tests need ---------------------------------------------------------------
# rustfmt and clippy come with the machine's toolchain; the OpenTelemetry SDK peers are
# crates (dev-dependencies) fetched by cargo. Debian packages the tests start as real
# peers are listed here and installed only when missing.
APT_PACKAGES=(prometheus prometheus-node-exporter)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python peers (the fluent-logger client, a prometheus_client app) live in a venv at .venv; tests find its
# interpreter through HARRIER_TEST_PYTHON.
PY_PACKAGES=(fluent-logger==0.11.1 msgpack prometheus_client==0.21.1)
if [ ! -x .venv/bin/python ]; then
  log "creating the Python venv (.venv)"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import fluent, msgpack, prometheus_client' >/dev/null 2>&1; then
  log "installing Python packages: ${PY_PACKAGES[*]}"
  .venv/bin/pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
fi
export HARRIER_TEST_PYTHON="$PWD/.venv/bin/python"

export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "doc tests"
# (nextest does not run doc tests; run them first so the suite's summary closes the log)
cargo test --workspace --locked --doc --quiet

log "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
