#!/usr/bin/env bash
# Side-by-side CPU benchmark (issue 12, docs/perf.md): the same GGUF and prompts through
# Steward's engine (the default CPU path, or the one --engine names) and through llama.cpp
# (node-llama-cpp's prebuilt CPU build, installed from npm into the cache on first use; not a
# project dependency), same threads,
# greedy. Prints both engines' figures and the ratios.
#
#   scripts/bench-cpu.sh [--threads N] [--runs N] [--max-tokens N] [--model FILE]
#                        [--engine auto|mistralrs|llamacpp]
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2 runs=3 max_tokens=64 model=models/SmolLM2-135M-Instruct.Q4_1.gguf engine=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
prompts=scripts/bench/prompts.json
cache=${STEWARD_CACHE_DIR:-$HOME/.cache/steward}/llamacpp-bench
target=${CARGO_TARGET_DIR:-$HOME/.cache/steward-target}
[ -f "$model" ] || { echo "no model at $model: run \`steward model fetch\` first" >&2; exit 1; }

if [ ! -d "$cache/node_modules/node-llama-cpp" ]; then
  mkdir -p "$cache"
  echo '{"name":"steward-llamacpp-bench","private":true,"type":"module"}' > "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund node-llama-cpp@3.22.1 >/dev/null)
fi
cp scripts/bench/llamacpp.mjs "$cache/"

# The binary the test build makes (same features, so no second dependency build).
cargo test --release --no-run --quiet
config=$(mktemp --suffix=.toml)
trap 'rm -f "$config"' EXIT
printf '[store]\nurl = "sqlite::memory:"\n[model]\ngguf = "%s"\nengine = "%s"\n' "$(realpath "$model")" "$engine" > "$config"

results=$(mktemp)
RAYON_NUM_THREADS=$threads "$target/release/steward" bench --config "$config" \
  --prompts "$prompts" --runs "$runs" --max-tokens "$max_tokens" >> "$results"
node "$cache/llamacpp.mjs" "$(realpath "$model")" "$(realpath "$prompts")" "$threads" \
  "$max_tokens" "$runs" >> "$results"

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {(r["engine"], r["prompt"]): r for r in rows}
print(f"{'prompt':10} {'engine':10} {'tokens':>6} {'prompt t/s':>11} {'TTFT s':>8} {'gen t/s':>8} {'load s':>7}")
for prompt in dict.fromkeys(r["prompt"] for r in rows):
    for engine in ("steward", "llama.cpp"):
        r = by[(engine, prompt)]
        print(f"{prompt:10} {engine:10} {r['prompt_tokens']:>6} {r['prompt_tps']:>11.1f} "
              f"{r['ttft_s']:>8.3f} {r['gen_tps']:>8.1f} {r['load_s']:>7.2f}")
    s, l = by[("steward", prompt)], by[("llama.cpp", prompt)]
    print(f"{prompt:10} {'ratio':10} {'':>6} {s['prompt_tps']/l['prompt_tps']:>10.2f}x "
          f"{s['ttft_s']/l['ttft_s']:>7.2f}x {s['gen_tps']/l['gen_tps']:>7.2f}x "
          f"{s['load_s']/l['load_s']:>6.2f}x")
for prompt in dict.fromkeys(r["prompt"] for r in rows):
    s, l = by[("steward", prompt)], by[("llama.cpp", prompt)]
    if "ttft_warm_system_s" in s:
        print(f"{prompt:10} steward, system prompt cached: TTFT {s['ttft_warm_system_s']:.3f} s "
              f"({s['ttft_warm_system_s']/l['ttft_s']:.2f}x llama.cpp's cold)")
print("goal: generation ratio >= 0.90x, TTFT ratio <= 2.00x on both prompts")
PY
rm -f "$results"
