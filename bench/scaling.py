#!/usr/bin/env python3
"""Strong scaling of `mrirecon batch` and `mrirecon maskeval` over MPI ranks (runs/tasks.h).

usage: bench/scaling.py MRIRECON [WORK_DIR] [--repeat N] [--scale K]
  MRIRECON  a -DMR_MPI=ON build's binary (build-mpi/bin/mrirecon)

The same fixed work is done by 1 process (no mpirun: the serial baseline), then by 2 and 4
ranks (4 oversubscribed on a 2-core machine), with the dynamic schedule (shared counter) and
the static one (task t to rank t mod P). Every rank runs one OpenMP thread (OMP_NUM_THREADS=1),
FFTW_ESTIMATE plans. Tasks of mixed cost:
  batch     8 volumes: 4 x brain8_poisson (8 coils, 230 x 180) and 4 x ixi_axial2 (8 coils,
            2 slices of 72 x 60), CG-SENSE with ESPIRiT maps, NIfTI outputs
  maskeval  brain8_full + ixi_axial2 x 2 masks x zf, cg:iters=10, cs:iters=20 (12 tasks)
  --scale K (default 1) multiplies both: K times the volumes, so that the fixed costs of a run
  (mpirun's start-up, MPI_Init, the last task's tail) stop dominating a seconds-long job
Reported per configuration: wall time (best of --repeat), speed-up T1/TP, parallel efficiency
speed-up/P, tasks/s, and the load imbalance max/mean of the ranks' busy seconds (the line the
run prints). Prints a Markdown table.
"""
import os
import re
import shutil
import subprocess
import sys
import time

MR = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") \
    else "/tmp/mrirecon_scaling"
REPEAT = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
SCALE = int(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 1
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMP_NUM_THREADS="1", MR_FFT_PLANNER="estimate",
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def dataset():
    inp = os.path.join(WORK, "in")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(inp)
    me = os.path.join(WORK, "me")
    os.makedirs(me)
    for i in range(SCALE):
        shutil.copy(os.path.join(SRC, "data/sample/brain8_full.h5"),
                    os.path.join(me, f"full{i}.h5"))
        shutil.copy(os.path.join(SRC, "tests/data/maskeval/ixi_axial2.h5"),
                    os.path.join(me, f"ixi{i}.h5"))
    for i in range(4 * SCALE):
        shutil.copy(os.path.join(SRC, "data/sample/brain8_poisson.h5"),
                    os.path.join(inp, f"big{i}.h5"))
        shutil.copy(os.path.join(SRC, "tests/data/maskeval/ixi_axial2.h5"),
                    os.path.join(inp, f"small{i}.h5"))
    return inp


def commands(inp, out):
    return {
        "batch": (["batch", "-m", "cg", "--format", "nii", inp, out], 8 * SCALE),
        "maskeval": (["maskeval", "--data", os.path.join(WORK, "me"),
                      "--mask", "equispaced:accel=4,center=0.08",
                      "--mask", "random:accel=6,center=0.08", "--method", "zf",
                      "--method", "cg:iters=10", "--method", "cs:iters=20", "-j", "1",
                      "-o", out], 12 * SCALE),
    }


def run(what, ranks, sched, inp):
    best = None
    imb = 1.0
    for rep in range(REPEAT):
        out = os.path.join(WORK, f"{what}_{ranks}_{sched}_{rep}")
        args, ntasks = commands(inp, out)[what]
        cmd = ["nice", "-n", "10", MR] + args
        if ranks > 1:
            cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(ranks)] + cmd + \
                  ["--schedule", sched]
        t0 = time.time()
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
        dt = time.time() - t0
        if p.returncode not in (0, 1):
            sys.exit(f"{cmd} failed:\n{p.stderr}")
        m = re.search(r"load imbalance \(max/mean\) ([0-9.]+)", p.stderr)
        if best is None or dt < best:
            best = dt
            imb = float(m.group(1)) if m else 1.0
    return best, ntasks, imb


def main():
    inp = dataset()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; load average before: {' '.join(load)}; "
          f"best of {REPEAT}; scale {SCALE}\n")
    print("| command | ranks | schedule | time s | speed-up | efficiency | tasks/s | "
          "imbalance |")
    print("|---|---|---|---|---|---|---|---|")
    for what in ("batch", "maskeval"):
        t1, n, _ = run(what, 1, "serial", inp)
        print(f"| {what} | 1 | serial | {t1:.2f} | 1.00 | 1.00 | {n / t1:.2f} | 1.000 |")
        for ranks in (2, 4):
            for sched in ("dynamic", "static"):
                t, n, imb = run(what, ranks, sched, inp)
                s = t1 / t
                print(f"| {what} | {ranks}{' (oversubscribed)' if ranks > os.cpu_count() else ''}"
                      f" | {sched} | {t:.2f} | {s:.2f} | {s / ranks:.2f} | {n / t:.2f} | "
                      f"{imb:.3f} |", flush=True)
    with open("/proc/loadavg") as f:
        print(f"\nload average after: {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
