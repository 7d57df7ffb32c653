#!/bin/bash
# The Debian package (cmake/MrPackage.cmake):
#   tools/deb.sh build [BUILD]   cpack the .deb from an existing build folder (default build/),
#                                check its control fields and contents; prints the .deb's path
#   tools/deb.sh install DEB     as root: `apt-get install ./DEB` (dependencies from the archive),
#                                then run `mrirecon --version`, the main job (README command (1)
#                                on the packaged sample with the packaged CIRIM), pkg-config and
#                                the Python package where pkg-config and python3-numpy are there,
#                                and remove the package again (MR_DEB_KEEP=1 keeps it)
set -euo pipefail

die() { echo "deb: FAILED: $*" >&2; exit 1; }

build_deb() {
    local build=${1:-build}
    rm -f "$build"/mrirecon_*.deb
    (cd "$build" && cpack -G DEB >cpack.log 2>&1) || { tail -20 "$build/cpack.log"; die "cpack"; }
    local deb
    deb=$(ls "$build"/mrirecon_*.deb)
    local control
    control=$(dpkg-deb -f "$deb")
    for dep in libopenblas0-openmp libhdf5-103-1 libismrmrd1.8 libfftw3-single3 libgomp1 \
               libpng16-16 libxml2 libcjson1; do
        grep -q "^Depends:.*\b$dep\b" <<<"$control" || die "$deb does not depend on $dep"
    done
    local files
    files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
    for f in ./usr/bin/mrirecon ./usr/lib/libmrirecon.so.0 ./usr/include/mrirecon/mrirecon.h \
             ./usr/lib/pkgconfig/mrirecon.pc ./usr/lib/cmake/mrirecon/mrirecon-config.cmake \
             ./usr/share/man/man1/mrirecon.1 ./usr/share/man/man1/mrirecon-recon.1 \
             ./usr/share/doc/mrirecon/copyright \
             ./usr/share/mrirecon/weights/cirim-brain-demo.h5 \
             ./usr/share/mrirecon/data/brain8_poisson.h5 \
             ./usr/lib/python3/dist-packages/mrirecon/__init__.py; do
        grep -qxF "$f" <<<"$files" || grep -qx "${f} -> .*" <<<"$files" || die "$deb lacks $f"
    done
    # the copyright file names the licences of the code, the weights and their data
    local tmp
    tmp=$(mktemp -d)
    dpkg-deb -x "$deb" "$tmp"
    for lic in "CC-BY-SA-3.0" "IXI" "BSD-3-Clause" "mikgroup" "Files: \*"; do
        grep -q "$lic" "$tmp/usr/share/doc/mrirecon/copyright" || die "copyright lacks '$lic'"
    done
    rm -rf "$tmp"
    echo "deb: $deb ($(du -h "$deb" | cut -f1)): $(grep '^Depends:' <<<"$control")"
}

install_deb() {
    local deb
    deb=$(readlink -f "$1")
    [ "$(id -u)" -eq 0 ] || die "installing needs root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "$deb"
    local tmp
    tmp=$(mktemp -d)
    local version
    version=$(mrirecon --version)
    echo "deb: $(command -v mrirecon): $version"
    [ "$version" = "mrirecon $(dpkg-deb -f "$deb" Version)" ] || die "--version says '$version'"
    # README command (1), from the package's own files
    mrirecon recon --method model --weights /usr/share/mrirecon/weights/cirim-brain-demo.h5 \
        /usr/share/mrirecon/data/brain8_poisson.h5 "$tmp/brain8_cirim.png"
    [ -s "$tmp/brain8_cirim.png" ] || die "the main job wrote no image"
    if command -v pkg-config >/dev/null; then
        [ "$(pkg-config --modversion mrirecon)" = "$(dpkg-deb -f "$deb" Version)" ] ||
            die "pkg-config does not find the packaged mrirecon.pc"
    fi
    if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
        (cd "$tmp" && env -u MRIRECON_LIBRARY -u PYTHONPATH /usr/bin/python3 -c "
import mrirecon
print('deb: python3:', mrirecon.__file__, mrirecon.version())
m, info = mrirecon.mask('equispaced:accel=4,center=0.08', (32, 32))
assert info['columns'] and m.shape == (32, 32)
")
    fi
    rm -rf "$tmp"
    if [ "${MR_DEB_KEEP:-0}" != 1 ]; then
        apt-get remove -y -o DPkg::Lock::Timeout=300 mrirecon >/dev/null
        echo "deb: removed again (MR_DEB_KEEP=1 keeps it)"
    fi
    echo "deb: installed, ran --version and the main job"
}

case ${1:-} in
build) build_deb "${2:-build}" ;;
install) [ $# -eq 2 ] || die "usage: tools/deb.sh install DEB"; install_deb "$2" ;;
*) echo "usage: tools/deb.sh build [BUILD] | install DEB" >&2; exit 2 ;;
esac
