#!/bin/sh
# libmrirecon exports exactly the functions its header declares with MRIRECON_API (nothing of
# the engine's layers leaks: `nm -D`), has the SONAME libmrirecon.so.MAJOR, and its header
# stands alone on the C standard library (no engine header, no engine struct).
#   check_exports.sh LIBRARY HEADER MAJOR
set -u
lib=$1
header=$2
major=$3
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{ print $3 }' | sort >"$tmp/exported"
sed -n 's/^MRIRECON_API .*[ *]\(mrirecon_[a-z0-9_]*\)(.*/\1/p' "$header" | sort >"$tmp/declared"
if [ ! -s "$tmp/declared" ]; then
    echo "exports: no MRIRECON_API functions found in $header"
    status=1
elif ! cmp -s "$tmp/exported" "$tmp/declared"; then
    echo "exports: the library's dynamic symbols differ from the header's MRIRECON_API functions"
    echo "(< exported, > declared):"
    diff "$tmp/exported" "$tmp/declared" | grep '^[<>]' | head -40
    status=1
else
    echo "exports: $(wc -l <"$tmp/exported") functions, all declared in $(basename "$header")"
fi

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libmrirecon.so.$major" ]; then
    echo "exports: SONAME '$soname', expected libmrirecon.so.$major"
    status=1
fi

others=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$header" | grep -v '<stdint.h>')
if [ -n "$others" ]; then
    echo "exports: the public header includes more than <stdint.h>: $others"
    status=1
fi
for std in c99 c11; do
    if ! echo '#include "'"$header"'"' | cc -std=$std -Wall -Wextra -Wpedantic -Werror \
            -fsyntax-only -x c -; then
        echo "exports: the header does not compile alone as $std"
        status=1
    fi
done
exit $status
