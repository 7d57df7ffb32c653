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
