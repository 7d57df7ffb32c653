#!/bin/bash
# The GPU run that trained the shipped weights (weights/train/README.md): the four
# architectures in parallel on one GPU, MINUTES of training each (default 7), outputs in OUT
# (default weights/train/runs): <arch>.pt and logs.tar (train logs + summary_<arch>.json).
#   [ARCHS="e2evn rvn"] bash weights/train/device_run.sh [OUT] [MINUTES] [DEVICE] [EXTRA train.py ARGS...]
set -u
OUT=${1:-$(dirname "$0")/runs}
MIN=${2:-7}
DEV=${3:-cuda}
shift 3 2>/dev/null || shift $#
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=2
PY=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=$(mktemp -d)
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi -L
LIMIT=$(awk -v m="$MIN" 'BEGIN { printf "%d", m * 60 + 100 }')
for a in ${ARCHS:-e2evn cirim rvn lpn}; do
    timeout "$LIMIT" "$PY" "$HERE/train.py" --arch $a --device "$DEV" --minutes "$MIN" \
        --out "$OUT" "$@" > "$LOGS/log_$a.txt" 2>&1 &
done
wait
for a in ${ARCHS:-e2evn cirim rvn lpn}; do
    echo "== $a"; grep -v "^$" "$LOGS/log_$a.txt" | tail -n 4 | cut -c1-600
done
cp "$OUT"/summary_*.json "$LOGS"/ 2>/dev/null && rm -f "$OUT"/summary_*.json
tar cf "$OUT/logs.tar" -C "$LOGS" .
ls -la "$OUT"
