#!/usr/bin/env bash
# Builds .venv-bench, the benchmarks' own venv: bench/requirements.txt, then
# ev2gym --no-deps (the planner benchmark reads its day-ahead price file only).
# Rebuilt when bench/requirements.txt changes. Prints the venv's python.
source "$(dirname "$0")/../scripts/_python.sh"
BENCH_VENV="${BENCH_VENV:-$ROOT/.venv-bench}"
EV2GYM="ev2gym==2.0.0"
stamp="$( (cat "$ROOT/bench/requirements.txt"; echo "$EV2GYM") | sha256sum | cut -c1-16)"
if [[ ! -x "$BENCH_VENV/bin/python" || ! -f "$BENCH_VENV/.stamp" \
    || "$(cat "$BENCH_VENV/.stamp")" != "$stamp" ]]; then
    echo "Building the benchmark environment in .venv-bench…" >&2
    rm -rf "$BENCH_VENV"
    "$(find_python)" -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/pip" install --quiet --upgrade pip >&2
    "$BENCH_VENV/bin/pip" install --quiet -r "$ROOT/bench/requirements.txt" >&2
    "$BENCH_VENV/bin/pip" install --quiet --no-deps "$EV2GYM" >&2
    echo "$stamp" > "$BENCH_VENV/.stamp"
fi
echo "$BENCH_VENV/bin/python"
