#!/bin/bash
# Installs the Debian 12 packages mrirecon needs (as root), or, for a non-root user, prints the
# exact apt-get line and fails if something is missing.
#   tools/setup.sh          build and run (README command 1)
#   tools/setup.sh --test   also what the test suite needs: Python tooling for the converter
#                           and training-module tests, Chromium for the report test, DCMTK's
#                           tools (dcmdump, storescp) for the DICOM tests, `file` for CPack's
#                           Debian package (dependencies by dpkg-shlibdeps), clang with
#                           libFuzzer for the fuzz harnesses (tests/fuzz)
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libfftw3-dev libhdf5-dev libismrmrd-dev ismrmrd-tools libcmocka-dev
      libopenblas-openmp-dev libpng-dev libxml2-dev libcjson-dev libdcmtk-dev)
# oneDNN: PyTorch's own conv library, a measured conv candidate (networks/conv_dnnl.c)
PKGS+=(libdnnl-dev)
if [ "${1:-}" = "--test" ]; then
    PKGS+=(python3-numpy python3-h5py python3-yaml python3-torch chromium dcmtk)
    PKGS+=(file)
    # Open MPI: the -DMR_MPI=ON build of batch / maskeval and its mpirun tests (run_tests.sh)
    PKGS+=(libopenmpi-dev openmpi-bin)
    PKGS+=(python3-nibabel)  # weights/train/prepare_data.py reads the .nii.gz training images
    # tests/fuzz: clang, its libFuzzer runtime (libclang_rt.fuzzer) and OpenMP, for the fuzz smoke
    PKGS+=(clang-14 libclang-rt-14-dev libomp-14-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all needed packages are installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run as root:  apt-get update && apt-get install -y --no-install-recommends ${PKGS[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PKGS[@]}"
