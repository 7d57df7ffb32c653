#!/bin/bash
# The pipeline-equality cases: `recon` on fastMRI and ISMRMRD files with every method and each
# shipped network, the stage over an MRD stream, and a maskeval, with the settings that make
# floats vary pinned (FFTW_ESTIMATE plans, one thread, im2col convolutions, OpenBLAS's Haswell
# kernels). tests/data/pipeline/reference/ holds what commit 52ac3ed (before the pipeline layer)
# wrote for these cases; tests/pipeline/compare.py checks a new run against it.
#
#   run_cases.sh MRIRECON SOURCE_DIR OUT_DIR
set -u
BIN=$1
SRC=$2
OUT=$3
mkdir -p "$OUT"
export MR_FFT_PLANNER=estimate OMP_NUM_THREADS=1 MR_CONV_WINOGRAD=never
export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
P=$SRC/data/sample/brain8_poisson.h5
F=$SRC/data/sample/brain8_full.h5
D=$SRC/tests/data/pipeline
S=$D/sl96_a2.h5
W=$SRC/weights/shipped
fail=0
r() {
    local name=$1
    shift
    "$BIN" recon -q "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc"
    echo "$rc" >"$OUT/$name.rc"
}
r zf -m zf "$P" "$OUT/zf.h5"
r sense -m sense "$P" "$OUT/sense.h5"
r cg -m cg "$P" "$OUT/cg.h5"
r cg_acs -m cg --maps acs -i 10 "$P" "$OUT/cg_acs.h5"
r cs -m cs -i 20 "$P" "$OUT/cs.h5"
r cs_mask -m cs -i 20 --mask "$D/mask_eq4.npy" "$F" "$OUT/cs_mask.h5"
r cg_p2d -m cg --mask "$D/mask_p2d.npy" "$F" "$OUT/cg_p2d.h5"
r e2evn_mask -m model -w "$W/e2evn-brain-demo.h5" --mask "$D/mask_eq4.npy" "$F" "$OUT/e2evn_mask.h5"
r cirim -m model -w "$W/cirim-brain-demo.h5" "$P" "$OUT/cirim.h5"
r e2evn -m model -w "$W/e2evn-brain-demo.h5" "$P" "$OUT/e2evn.h5"
r rvn -m model -w "$W/rvn-brain-demo.h5" "$P" "$OUT/rvn.h5"
r lpn -m pnp-lpn -w "$W/lpn-brain-demo.h5" -i 3 "$P" "$OUT/lpn.h5"
r cirim_acs -m model --maps acs -w "$W/cirim-brain-demo.h5" "$P" "$OUT/cirim_acs.h5"
r i_cg -m cg "$S" "$OUT/i_cg.h5"
r i_zf -m zf "$S" "$OUT/i_zf.h5"
r i_cs -m cs -i 20 --maps acs "$S" "$OUT/i_cs.h5"
r i_cirim -m model -w "$W/cirim-brain-demo.h5" "$S" "$OUT/i_cirim.h5"
r i_rvn -m model -w "$W/rvn-brain-demo.h5" "$S" "$OUT/i_rvn.h5"
set -o pipefail
"$BIN" to-stream "$S" | "$BIN" stage -q --method sense | "$BIN" from-stream -q "$OUT/s_sense.h5"
echo "$?" >"$OUT/s_sense.rc"
cp "$D/../maskeval/ixi_axial2.h5" "$F" "$OUT/" 2>/dev/null
"$BIN" maskeval -q --data "$OUT/ixi_axial2.h5" --data "$OUT/brain8_full.h5" \
    -m equispaced:accel=4,center=0.12 -m random:accel=8,center=0.12 \
    -M zf -M cg:iters=10 -M cs:iters=20 -M "$W/e2evn-brain-demo.h5" -M "$W/lpn-brain-demo.h5" \
    -o "$OUT/maskeval" >"$OUT/maskeval.log" 2>&1
echo "$?" >"$OUT/maskeval.rc"
rm -f "$OUT/ixi_axial2.h5" "$OUT/brain8_full.h5"
exit 0
