#!/bin/sh
# Rejects includes that break the layering of STYLE.md:
#   recon <- io, sampling <- weights <- networks <- pipeline <- runs <- apps, api
# A folder may include project headers only from the folders listed for it here. Also checks
# that only io/ (and the weight-file code in weights/) name HDF5 or the ISMRMRD dataset API;
# pipeline/ and above may use ISMRMRD's data types (<ismrmrd/ismrmrd.h>: acquisition and image
# structs, no file access), since the stage consumes acquisitions and produces images. oneDNN
# (dnnl.h) is included by networks/conv_dnnl.c alone.
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
    pipeline) echo "recon io sampling weights networks pipeline" ;;
    runs) echo "recon io sampling weights networks pipeline runs" ;;
    apps) echo "recon io sampling weights networks pipeline runs apps" ;;
    api) echo "recon io sampling weights networks pipeline runs api" ;;
    esac
}

for layer in recon io sampling weights networks pipeline runs apps api; do
    [ -d "$top/$layer" ] || continue
    ok=$(allowed $layer)
    for f in $(find "$top/$layer" -name '*.[ch]'); do
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f"); do
            case " $ok " in
            *" $inc "*) ;;
            *) echo "layering: $f includes from $inc/ (allowed: $ok)"; status=1 ;;
            esac
        done
        if [ "$f" != "$top/networks/conv_dnnl.c" ] &&
            grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(oneapi/)?dnnl' "$f"; then
            echo "layering: $f includes oneDNN outside networks/conv_dnnl.c"
            status=1
        fi
        if [ "$layer" != runs ] && grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<mpi\.h>' "$f"; then
            echo "layering: $f includes MPI outside runs/ (the layer that schedules tasks)"
            status=1
        fi
        case $layer in
        io | weights) ;;
        pipeline | runs | apps | api)
            if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(hdf5|ismrmrd/dataset)' "$f"; then
                echo "layering: $f includes HDF5 or the ISMRMRD dataset API outside io/"
                status=1
            fi ;;
        *)
            if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(hdf5|ismrmrd/)' "$f"; then
                echo "layering: $f includes HDF5/ISMRMRD outside io/"
                status=1
            fi ;;
        esac
    done
done
[ $status -eq 0 ] && echo "layering: all includes respect recon <- io, sampling <- weights <- networks <- pipeline <- runs <- apps, api"
exit $status
