#!/bin/bash
# Builds with -Werror and runs the whole test suite, then an MPI build (-DMR_MPI=ON) for the
# mpirun tests only, then builds again under AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the suite once more. Exit status: non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMR_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

# --- packaging: the Debian package of the plain build (its ctests api/install and api/python
# have installed it to a prefix and built the example against it); .ci/run installs the .deb
# with apt-get as CI's last step (tools/deb.sh install) ---
bash tools/deb.sh build build
# --- end of packaging ---

# --- MPI: a -DMR_MPI=ON build runs only the MPI-labelled tests (ctest -L mpi: batch and
# maskeval under real mpirun, each under timeout; about a minute) ---
cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DMR_WERROR=ON -DMR_MPI=ON -DMR_BUILD_BENCH=OFF
cmake --build build-mpi -j"$jobs" --target mrirecon
ctest --test-dir build-mpi --output-on-failure -L mpi
# --- end of MPI ---

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMR_WERROR=ON -DMR_SANITIZE=ON \
      -DMR_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE plain_only

# --- fuzz smoke (tests/fuzz/README.md): the libFuzzer harnesses, built with clang under
# ASan+UBSan (-O0: the shortest build), each run for 20 s on its seeds and regression inputs.
# A crash, a sanitizer report, a leak, an input running over 10 s or an RSS over 2 GiB fails
# CI; new corpus entries go to a scratch folder in the build tree. ---
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMR_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 \
      -DCMAKE_CXX_COMPILER=clang++-14 -DMR_BUILD_BENCH=OFF
cmake --build build-fuzz -j"$jobs" --target fuzz_all
for seeds in tests/fuzz/corpus/*/; do
    h=$(basename "$seeds")
    scratch=build-fuzz/fuzz-smoke/$h
    rm -rf "$scratch" && mkdir -p "$scratch"
    build-fuzz/bin/fuzz_"$h" -max_total_time=20 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/" "$scratch" "$seeds" tests/data/fuzz/"$h"
done
# --- end of fuzz smoke ---
