#!/bin/sh
# C engine vs PyTorch on the paper-default CIRIM (IndRNN, 5 cascades x 8 steps, 64-64-2,
# kernels 5-3-3, dilations 1-2-1, 1x1 cells of 64) with the same random weights, at
# 12 coils x 218 x 170, at 1 and 2 threads: best-of-REPS forward time, ratio, peak RSS, and the
# max relative difference of the two outputs. Heavy (a few minutes on 2 cores): run it alone.
#
#   bench/run_cirim_bench.sh [BUILD_DIR] [REPS]      (BUILD_DIR default: build)
#
# CORETYPE=SkylakeX (say) also times the C engine with OPENBLAS_CORETYPE=$CORETYPE (OpenBLAS
# 0.3.21 falls back to SSE3 kernels on CPUs it does not know; the convs of layers.h mostly
# bypass BLAS on AVX-512 CPUs, so this matters only where they do not).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
REPS=${2:-2}
CORETYPE=${CORETYPE:-}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

BIN=$BUILD/bin/bench_cirim
if ! cmake --build "$BUILD" --target bench_cirim >/dev/null 2>&1; then
    cmake --build "$BUILD" --target mr_networks mr_io >/dev/null
    # no CMake target for it: link against the build's static libraries
    ARCH=$(gcc -dumpmachine)
    BIN=$WORK/bench_cirim
    cc -O3 -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$SRC" \
        -I/usr/include/hdf5/serial "$SRC/bench/bench_cirim.c" -o "$BIN" \
        "$BUILD/lib/libmr_networks.a" "$BUILD/lib/libmr_weights.a" "$BUILD/lib/libmr_io.a" \
        "$BUILD/lib/libmr_sampling.a" "$BUILD/lib/libmr_recon.a" \
        -L/usr/lib/$ARCH/hdf5/serial -L/usr/lib/$ARCH/openblas-openmp \
        -Wl,-rpath,/usr/lib/$ARCH/hdf5/serial:/usr/lib/$ARCH/openblas-openmp \
        -lhdf5 -lismrmrd -lfftw3f_omp -lfftw3f -lcjson -lpng -lxml2 -lopenblas -lm
fi

$PY "$SRC/bench/torch_cirim.py" make "$WORK/cirim_bench.h5"
for t in 1 2; do
    OMP_NUM_THREADS=$t "$BIN" "$WORK/cirim_bench.h5" "$REPS" "$WORK/c_$t.h5" | tee "$WORK/c_$t.json"
    if [ -n "$CORETYPE" ]; then
        OPENBLAS_CORETYPE=$CORETYPE OMP_NUM_THREADS=$t "$BIN" "$WORK/cirim_bench.h5" "$REPS" \
            "$WORK/cc_$t.h5" | tee "$WORK/cc_$t.json"
    fi
    OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_cirim.py" bench "$WORK/cirim_bench.h5" \
        --threads $t --reps "$REPS" --out "$WORK/torch_$t.npy" | tee "$WORK/torch_$t.json"
done

$PY - "$WORK" "$CORETYPE" <<'EOF'
import json, sys
import h5py, numpy as np
w, core = sys.argv[1], sys.argv[2]
print("engine                  threads  best [s]  torch/this  peak RSS [MiB]  max rel diff vs torch")
for t in (1, 2):
    p = json.load(open(f"{w}/torch_{t}.json"))
    b = np.load(f"{w}/torch_{t}.npy")
    rows = [("C (OpenBLAS default)", "c")] + ([(f"C (OpenBLAS {core})", "cc")] if core else [])
    for label, tag in rows:
        c = json.load(open(f"{w}/{tag}_{t}.json"))
        a = np.asarray(h5py.File(f"{w}/{tag}_{t}.h5", "r")["output"])
        d = float(np.abs(a - b).max() / np.abs(b).max())
        print(f"{label:22s}  {t:7d}  {c['best_s']:8.3f}  {p['best_s'] / c['best_s']:10.2f}"
              f"  {c['peak_rss_mib']:14.1f}  {d:.2e}")
    print(f"{'PyTorch ' + p['torch']:22s}  {t:7d}  {p['best_s']:8.3f}  {1.0:10.2f}"
          f"  {p['peak_rss_mib']:14.1f}")
EOF
