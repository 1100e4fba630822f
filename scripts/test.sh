#!/usr/bin/env bash
# Runs every test: fetches the default model if absent (verified), then the whole suite in
# release mode (the same profile as `cargo run --release`, so dependencies build once).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -- model fetch
cargo test --release -- "$@"
