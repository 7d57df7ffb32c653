#!/bin/sh
# Every C-vs-PyTorch benchmark at the issue sizes, at 1 and 2 threads, C and torch interleaved
# (same load for both): paper-default E2EVN, CIRIM and RecurrentVarNet at 12x218x170 and
# 16x320x320, and the LPN prox at 128x128 (one patch) and 320x320 (16 patches, stride 64).
# Prints one markdown table (best-of-REPS forward time, torch/C, peak RSS of each process, max
# relative difference of the two outputs). Heavy (~30 min on 2 cores): run it alone.
#
#   bench/run_all_bench.sh [BUILD_DIR] [REPS] [ONLY]   (BUILD_DIR default: build, REPS 2;
#                                                        ONLY: a regex over the case names)
# RVN_REPS (default 1) sets the repetitions of the slow RecurrentVarNet cases. The C benches
# select OpenBLAS's AVX-512 kernels themselves (apps/openblas_fix.h), as mrirecon does.
# PLAN (default measure) is the C side's conv plan mode (MR_CONV_PLAN): measure times the conv
# algorithms of each shape once per thread count (wisdom in WORK/wisdom_tN, outside the timed
# runs). Before the table it prints the CPU (model, features, OpenBLAS core) and the measured
# SGEMM peak at 1 and 2 threads (bench_sgemm); the table gives each C run's conv GFLOP/s
# (bench_*'s conv_gflop per forward / best time) and its fraction of that peak.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
REPS=${2:-2}
ONLY=${3:-.}
RVN_REPS=${RVN_REPS:-1}
PLAN=${PLAN:-measure}
PY=/usr/bin/python3
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"

cmake --build "$BUILD" --target bench_e2evn bench_cirim bench_recurrentvarnet bench_lpn \
    bench_sgemm >/dev/null
for t in 1 2; do
    OMP_NUM_THREADS=$t "$BUILD/bin/bench_sgemm" >"$WORK/sgemm_t$t.json"
done
echo "== start load $(cut -d' ' -f1-3 /proc/loadavg)" >"$WORK/load_start"

# name | make command (torch side) | reps
CASES="lpn_128 lpn_320 cirim_218 e2evn_218 cirim_320 e2evn_320 rvn_218 rvn_320"
for name in $CASES; do
    echo "$name" | grep -Eq "$ONLY" || continue
    net=${name%_*}
    size=${name#*_}
    case $size in
    218) geo="--coils 12 --h 218 --w 170" ;;
    320) geo="--coils 16 --h 320 --w 320" ;;
    128) geo="--h 128 --w 128" ;;
    esac
    f=$WORK/$name.h5
    reps=$REPS
    case $net in
    e2evn) [ -f "$f" ] || $PY "$SRC/bench/torch_e2evn.py" make "$f" $geo >/dev/null ;;
    cirim) [ -f "$f" ] || $PY "$SRC/bench/torch_cirim.py" make "$f" $geo >/dev/null ;;
    rvn) [ -f "$f" ] || $PY "$SRC/bench/torch_recurrentvarnet.py" make "$f" $geo >/dev/null
         reps=$RVN_REPS ;;
    lpn) [ "$size" = 320 ] && geo="--h 320 --w 320"
         [ -f "$f" ] || $PY "$SRC/bench/torch_lpn.py" make "$f" $geo >/dev/null ;;
    esac
    for t in 1 2; do
        c=$WORK/${name}_c$t
        p=$WORK/${name}_t$t
        export MR_CONV_PLAN=$PLAN MR_WISDOM=$WORK/wisdom_t$t
        echo "== $name threads $t load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        case $net in
        e2evn)
            OMP_NUM_THREADS=$t "$BUILD/bin/bench_e2evn" "$f" "$reps" "$c.h5" >"$c.json"
            OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_e2evn.py" run "$f" --reps "$reps" \
                --threads $t --out "$p.h5" >"$p.json" ;;
        cirim)
            OMP_NUM_THREADS=$t "$BUILD/bin/bench_cirim" "$f" "$reps" "$c.h5" >"$c.json"
            OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_cirim.py" bench "$f" --threads $t \
                --reps "$reps" --out "$p.npy" >"$p.json" ;;
        rvn)
            OMP_NUM_THREADS=$t "$BUILD/bin/bench_recurrentvarnet" "$f" "$reps" "$c.h5" >"$c.json"
            OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_recurrentvarnet.py" bench "$f" \
                --threads $t --reps "$reps" --out "$p.npy" >"$p.json" ;;
        lpn)
            OMP_NUM_THREADS=$t "$BUILD/bin/bench_lpn" "$f" "$reps" 64 "$c.h5" >"$c.json"
            OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_lpn.py" run "$f" --stride 64 \
                --threads $t --reps "$reps" --out "$p.h5" >"$p.json" ;;
        esac
        cat "$c.json" "$p.json" >&2
    done
done

$PY - "$WORK" "$ONLY" "$PLAN" $CASES <<'PYEOF'
import json, os, re, sys
import h5py, numpy as np
w, only, plan, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
peak = {t: json.load(open(f"{w}/sgemm_t{t}.json")) for t in (1, 2)}
print(f"CPU: {peak[1]['cpu']}; features: {peak[1]['features']}; kernels: {peak[1]['isa']}; "
      f"OpenBLAS core: {peak[1]['openblas_core']}; conv plan: {plan}")
print(f"Measured SGEMM peak ({peak[1]['n']}^3): {peak[1]['gflops']:.1f} GFLOP/s at 1 thread, "
      f"{peak[2]['gflops']:.1f} at 2; load at start {open(w + '/load_start').read().split()[-3]}, "
      f"at end {open('/proc/loadavg').read().split()[0]} (1-min average)")
print()
label = {"e2evn_218": "E2EVN 12x218x170", "e2evn_320": "E2EVN 16x320x320",
         "cirim_218": "CIRIM 12x218x170", "cirim_320": "CIRIM 16x320x320",
         "rvn_218": "RecurrentVarNet 12x218x170", "rvn_320": "RecurrentVarNet 16x320x320",
         "lpn_128": "LPN prox 128x128", "lpn_320": "LPN prox 320x320 (16 tiles)"}
def out(path):
    if path.endswith(".npy"):
        return np.load(path)
    return np.asarray(h5py.File(path, "r")["output"][()])
print("| case | threads | C best (s) | PyTorch best (s) | torch / C | C conv GFLOP/s | "
      "of SGEMM peak | C peak RSS (MiB) | torch peak RSS (MiB) | max rel diff |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name in cases:
    if not re.search(only, name):
        continue
    for t in (1, 2):
        c = json.load(open(f"{w}/{name}_c{t}.json"))
        p = json.load(open(f"{w}/{name}_t{t}.json"))
        tp = f"{w}/{name}_t{t}.npy"
        b = out(tp if os.path.exists(tp) else f"{w}/{name}_t{t}.h5")
        a = out(f"{w}/{name}_c{t}.h5")
        d = float(np.abs(a.reshape(b.shape) - b).max() / np.abs(b).max())
        gf = c["conv_gflop"] / c["best_s"]
        print(f"| {label[name]} | {t} | {c['best_s']:.3f} | {p['best_s']:.3f} | "
              f"{p['best_s'] / c['best_s']:.2f} | {gf:.1f} | {gf / peak[t]['gflops']:.0%} | "
              f"{c['peak_rss_mib']:.0f} | "
              f"{p['peak_rss_mib']:.0f} | {d:.1e} |")
PYEOF
