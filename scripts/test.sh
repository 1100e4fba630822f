#!/usr/bin/env bash
# Runs every test: builds the test binaries (and the `steward` binary with them), fetches the
# default model and the embedding model if absent (verified), then runs the whole suite in
# release mode.
#
# The model is fetched with the binary `cargo test` builds, not with `cargo run`: `cargo run`
# resolves features without the dev-dependencies, so it would build a second variant of
# matrix-sdk, the steward library and more (minutes on 2 cores, every cold CI run).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo test --release --no-run --quiet
"$target/release/steward" model fetch
cargo test --release -- "$@"
