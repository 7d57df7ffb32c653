#!/bin/sh
# C engine vs PyTorch on the paper-default fastMRI E2EVN (12 cascades, chans 18, pools 4,
# sensitivity net 8/4: 29,936,966 parameters) with the same random weights, at
# COILS x H x W (default 15 x 640 x 368, a fastMRI knee slice), at 1 and 2 threads: best-of-REPS
# forward time, peak RSS, and the max relative difference of the two outputs. Heavy (minutes on
# 2 cores): run it alone.
#
#   bench/run_e2evn_bench.sh [BUILD_DIR] [REPS]      (BUILD_DIR default: build)
#
# CORETYPE=SkylakeX (say) also times the C engine with OPENBLAS_CORETYPE=$CORETYPE: OpenBLAS
# 0.3.21 does not recognise some recent Xeons and silently falls back to its Prescott (SSE3)
# SGEMM kernels, which makes the C engine 2-3x slower.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
REPS=${2:-2}
CORETYPE=${CORETYPE:-}
COILS=${COILS:-15}
H=${H:-640}
W=${W:-368}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cmake --build "$BUILD" --target mr_networks mr_io >/dev/null
BIN=$BUILD/bin/bench_e2evn
if [ ! -x "$BIN" ]; then
    # no CMake target for it: link against the build's static libraries
    ARCH=$(gcc -dumpmachine)
    BIN=$WORK/bench_e2evn
    cc -O3 -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$SRC" \
        -I/usr/include/hdf5/serial "$SRC/bench/bench_e2evn.c" -o "$BIN" \
        "$BUILD/lib/libmr_networks.a" "$BUILD/lib/libmr_weights.a" "$BUILD/lib/libmr_io.a" \
        "$BUILD/lib/libmr_sampling.a" "$BUILD/lib/libmr_recon.a" \
        -L/usr/lib/$ARCH/openblas-openmp -lopenblas -lfftw3f -lfftw3f_omp \
        -L/usr/lib/$ARCH/hdf5/serial -lhdf5 -lcjson -lismrmrd -lpng -lxml2 -lm
fi

$PY "$SRC/bench/torch_e2evn.py" make "$WORK/case.h5" --coils "$COILS" --h "$H" --w "$W"
for t in 1 2; do
    OMP_NUM_THREADS=$t "$BIN" "$WORK/case.h5" "$REPS" "$WORK/c$t.h5"
    if [ -n "$CORETYPE" ]; then
        OPENBLAS_CORETYPE=$CORETYPE OMP_NUM_THREADS=$t "$BIN" "$WORK/case.h5" "$REPS"
    fi
    OMP_NUM_THREADS=$t $PY "$SRC/bench/torch_e2evn.py" run "$WORK/case.h5" --reps "$REPS" \
        --threads $t --out "$WORK/t$t.h5"
    $PY "$SRC/bench/torch_e2evn.py" compare "$WORK/c$t.h5" "$WORK/t$t.h5"
done
