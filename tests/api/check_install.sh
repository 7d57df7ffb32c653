#!/bin/sh
# What `cmake --install` gives a user, checked from outside the build:
#   check_install.sh BUILD SOURCE TMP PYTHON
# installs BUILD into TMP/prefix, then: every installed part is there; the program reports the
# library's version; the header compiles alone; the example program builds against the prefix
# with pkg-config and with find_package(mrirecon), links the prefix's library (nothing of the
# project may be under /usr or /usr/local), and runs (the pkg-config build on the sample with
# zf, the CMake build the main job: the shipped CIRIM on the sample, both from the prefix); the
# Python tests pass against the prefix (the library found through the install layout), and the
# package also loads a library placed next to it.
set -eu
build=$1
src=$2
tmp=$3
python=$4
prefix=$tmp/prefix

say() { echo "install: $*"; }
die() { echo "install: FAILED: $*" >&2; exit 1; }

rm -rf "$tmp"
mkdir -p "$tmp"
for p in /usr/include/mrirecon /usr/local/include/mrirecon /usr/lib/libmrirecon.so.0 \
         /usr/lib/*/libmrirecon.so.0 /usr/local/lib/libmrirecon.so.0 \
         /usr/local/lib/*/libmrirecon.so.0 /usr/lib/pkgconfig/mrirecon.pc \
         /usr/local/lib/pkgconfig/mrirecon.pc /usr/lib/cmake/mrirecon \
         /usr/local/lib/cmake/mrirecon; do
    [ ! -e "$p" ] || die "$p exists: remove the installed mrirecon (apt-get remove mrirecon) so \
that this check sees only the prefix"
done

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || die "cmake --install"
version=$("$prefix/bin/mrirecon" --version) || die "mrirecon --version"
want=$(sed -n 's/^#define MRIRECON_VERSION_STRING "\(.*\)"/\1/p' "$src/api/mrirecon.h")
[ "$version" = "mrirecon $want" ] || die "--version says '$version', the header $want"
say "$version"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
libdir=$(pkg-config --variable=libdir mrirecon) || die "pkg-config cannot find mrirecon.pc"
[ "$(pkg-config --modversion mrirecon)" = "$want" ] || die "mrirecon.pc version"
for f in "$libdir/libmrirecon.so.0" "$libdir/libmrirecon.so" \
         "$prefix/include/mrirecon/mrirecon.h" \
         "$libdir/cmake/mrirecon/mrirecon-config.cmake" \
         "$libdir/cmake/mrirecon/mrirecon-config-version.cmake" \
         "$prefix/share/man/man1/mrirecon.1" "$prefix/share/man/man1/mrirecon-recon.1" \
         "$prefix/lib/python3/dist-packages/mrirecon/__init__.py" \
         "$prefix/lib/python3/dist-packages/mrirecon/_install.py" \
         "$prefix/share/mrirecon/weights/cirim-brain-demo.h5" \
         "$prefix/share/mrirecon/data/brain8_poisson.h5" \
         "$prefix/share/doc/mrirecon/copyright" \
         "$prefix/share/doc/mrirecon/examples/reconstruct.c"; do
    [ -s "$f" ] || die "missing $f"
done
for page in "$prefix"/share/man/man1/*.1; do
    head -n 1 "$page" | grep -q '^\.TH ' || die "$page is not a man page"
    if command -v groff >/dev/null 2>&1; then
        warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        [ -z "$warn" ] || die "$page: $warn"
    fi
done
say "files, man pages ($(ls "$prefix"/share/man/man1 | wc -l)), pkg-config $want"

echo '#include <mrirecon/mrirecon.h>' |
    cc -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" -x c - ||
    die "the installed header does not compile alone"

# links the prefix's library
check_links() {
    got=$(ldd "$1" | sed -n 's/.*libmrirecon\.so\.0 => \([^ ]*\).*/\1/p')
    [ "$(readlink -f "$got")" = "$(readlink -f "$libdir/libmrirecon.so.0")" ] ||
        die "$1 links '$got', not the prefix's library"
}

# pkg-config
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/examples/reconstruct.c" \
    $(pkg-config --cflags --libs mrirecon) -Wl,-rpath,"$libdir" -lm -o "$tmp/example-pc" ||
    die "example via pkg-config"
check_links "$tmp/example-pc"
"$tmp/example-pc" "$src/data/sample/brain8_poisson.h5" "$tmp/pc_zf.png" zf ||
    die "example (pkg-config build) failed"
[ -s "$tmp/pc_zf.png" ] || die "example wrote no image"
say "example built with pkg-config and run"

# find_package
cmake -S "$src/examples" -B "$tmp/example-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Wpedantic -Werror" >"$tmp/example-cmake.log" ||
    die "example via find_package (configure; see $tmp/example-cmake.log)"
cmake --build "$tmp/example-cmake" >>"$tmp/example-cmake.log" ||
    die "example via find_package (build; see $tmp/example-cmake.log)"
check_links "$tmp/example-cmake/mrirecon-example"
"$tmp/example-cmake/mrirecon-example" "$prefix/share/mrirecon/data/brain8_poisson.h5" \
    "$tmp/cmake_cirim.png" "$prefix/share/mrirecon/weights/cirim-brain-demo.h5" ||
    die "example (find_package build) failed"
[ -s "$tmp/cmake_cirim.png" ] || die "example wrote no image"
say "example built with find_package and run (shipped CIRIM)"

# Python from the prefix: no MRIRECON_LIBRARY, the package's _install.py leads to the library
pyprefix="$prefix/lib/python3/dist-packages"
env -u MRIRECON_LIBRARY PYTHONPATH="$pyprefix" "$python" "$src/tests/api/test_python.py" \
    --source "$src" --bin "$prefix/bin/mrirecon" --tmp "$tmp/python" \
    --expect-library "$libdir/libmrirecon.so.0" || die "Python tests against the prefix"

# a package folder carrying its own library
mkdir -p "$tmp/next"
cp -r "$pyprefix/mrirecon" "$tmp/next/"
rm "$tmp/next/mrirecon/_install.py"
cp "$libdir/libmrirecon.so.0" "$tmp/next/mrirecon/"
env -u MRIRECON_LIBRARY PYTHONPATH="$tmp/next" "$python" -c "
import os, mrirecon
assert os.path.dirname(mrirecon._lib.lib._name) == os.path.dirname(mrirecon.__file__), \
    mrirecon._lib.lib._name
print('install: the package loads the library next to it:', mrirecon.version())
" || die "Python package with the library next to it"
say "ok"
