#!/bin/sh
# C engine vs PyTorch autograd on the LPN prox of the default image LPN for MRI (in_dim 2,
# hidden 256, beta 100, alpha 1e-6; 7.2 M parameters) with the same random weights: one
# 128x128 patch and a 320x320 image tiled with stride 64 (16 patches), at 1 and 2 threads:
# best-of-REPS time, ratio, peak RSS, and the max relative difference of the two outputs.
# Heavy (a few minutes on 2 cores): run it alone.
#
#   bench/run_lpn_bench.sh [BUILD_DIR] [REPS]      (BUILD_DIR default: build)
#
# CORETYPE=SkylakeX (say) also times the C engine with OPENBLAS_CORETYPE=$CORETYPE (OpenBLAS
# 0.3.21 may not recognise a recent Xeon and fall back to slower SGEMM kernels).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
REPS=${2:-2}
CORETYPE=${CORETYPE:-}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cmake --build "$BUILD" --target mr_networks mr_io >/dev/null
BIN=$BUILD/bin/bench_lpn
if [ ! -x "$BIN" ]; then
    # no CMake target for it: link against the build's static libraries
    ARCH=$(gcc -dumpmachine)
    BIN=$WORK/bench_lpn
    cc -O3 -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$SRC" \
        -I/usr/include/hdf5/serial "$SRC/bench/bench_lpn.c" -o "$BIN" \
        "$BUILD/lib/libmr_networks.a" "$BUILD/lib/libmr_weights.a" "$BUILD/lib/libmr_io.a" \
        "$BUILD/lib/libmr_sampling.a" "$BUILD/lib/libmr_recon.a" \
        -L/usr/lib/$ARCH/hdf5/serial -L/usr/lib/$ARCH/openblas-openmp \
        -Wl,-rpath,/usr/lib/$ARCH/hdf5/serial:/usr/lib/$ARCH/openblas-openmp \
        -lhdf5 -lismrmrd -lfftw3f_omp -lfftw3f -lcjson -lpng -lxml2 -lopenblas -lm
fi

$PY "$SRC/bench/torch_lpn.py" make "$WORK/lpn128.h5" --h 128 --w 128
$PY "$SRC/bench/torch_lpn.py" make "$WORK/lpn320.h5" --h 320 --w 320
for size in 128 320; do
    for t in 1 2; do
        OMP_NUM_THREADS=$t "$BIN" "$WORK/lpn$size.h5" "$REPS" 64 "$WORK/c_${size}_$t.h5" |
            tee "$WORK/c_${size}_$t.json"
        if [ -n "$CORETYPE" ]; then
            OPENBLAS_CORETYPE=$CORETYPE OMP_NUM_THREADS=$t "$BIN" "$WORK/lpn$size.h5" "$REPS" 64 \
                "$WORK/cc_${size}_$t.h5" | tee "$WORK/cc_${size}_$t.json"
        fi
        OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_lpn.py" run "$WORK/lpn$size.h5" --stride 64 \
            --threads $t --reps "$REPS" --out "$WORK/torch_${size}_$t.h5" |
            tee "$WORK/torch_${size}_$t.json"
    done
done

$PY - "$WORK" "$CORETYPE" <<'EOF'
import json, sys
import h5py, numpy as np
w, core = sys.argv[1], sys.argv[2]
print("\n| image | threads | C engine best (s) | PyTorch best (s) | torch / C | C RSS (MiB) | "
      "torch RSS (MiB) | max rel diff |")
print("|---|---|---|---|---|---|---|---|")
for size in (128, 320):
    for t in (1, 2):
        c = json.load(open(f"{w}/c_{size}_{t}.json"))
        p = json.load(open(f"{w}/torch_{size}_{t}.json"))
        a = h5py.File(f"{w}/c_{size}_{t}.h5", "r")["output"][()]
        b = h5py.File(f"{w}/torch_{size}_{t}.h5", "r")["output"][()]
        d = float(np.abs(a - b).max() / np.abs(b).max())
        label = f"{size}x{size} ({c['patches']} patch{'es' if c['patches'] > 1 else ''})"
        print(f"| {label} | {t} | {c['best_s']:.3f} | {p['best_s']:.3f} | "
              f"{p['best_s'] / c['best_s']:.2f} | {c['peak_rss_mib']:.0f} | "
              f"{p['peak_rss_mib']:.0f} | {d:.1e} |")
        if core:
            cc = json.load(open(f"{w}/cc_{size}_{t}.json"))
            print(f"| {label}, OPENBLAS_CORETYPE={core} | {t} | {cc['best_s']:.3f} | "
                  f"{p['best_s']:.3f} | {p['best_s'] / cc['best_s']:.2f} | "
                  f"{cc['peak_rss_mib']:.0f} | | |")
EOF
