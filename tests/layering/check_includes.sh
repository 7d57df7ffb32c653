#!/bin/sh
# Rejects includes that break the layering of STYLE.md:
#   recon <- io, sampling <- weights <- networks <- apps
# A folder may include project headers only from the folders listed for it here. Also checks
# that only io/ (and the weight-file code in weights/, apps/ for streams) name HDF5/ISMRMRD.
set -u
top=${1:-.}
status=0

allowed() {
    case $1 in
    recon) echo "recon" ;;
    io) echo "recon io" ;;
    sampling) echo "recon sampling" ;;
    weights) echo "recon io sampling weights" ;;
    networks) echo "recon weights networks" ;;
    apps) echo "recon io sampling weights networks apps" ;;
    esac
}

for layer in recon io sampling weights networks apps; do
    [ -d "$top/$layer" ] || continue
    ok=$(allowed $layer)
    for f in $(find "$top/$layer" -name '*.[ch]'); do
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f"); do
            case " $ok " in
            *" $inc "*) ;;
            *) echo "layering: $f includes from $inc/ (allowed: $ok)"; status=1 ;;
            esac
        done
        if [ "$layer" != io ] && [ "$layer" != apps ] && [ "$layer" != weights ] &&
           grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(hdf5|ismrmrd/)' "$f"; then
            echo "layering: $f includes HDF5/ISMRMRD outside io/"
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "layering: all includes respect recon <- io, sampling <- weights <- networks <- apps"
exit $status
