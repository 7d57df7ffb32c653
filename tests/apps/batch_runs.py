#!/usr/bin/env python3
"""mrirecon batch and maskeval at dataset scale as users run them (runs/batch.h, runs/tasks.h,
runs/maskeval.h): real processes, real files, real mpirun.

usage: batch_runs.py MRIRECON SOURCE_DIR WORK_DIR CASE
  serial   a serial run; a run killed (SIGKILL) mid-way and rerun equals it, and the log
           shows every task computed exactly once (only the tasks in flight were redone)
  shard    --shard 0/2 and --shard 1/2 at the same time into one OUT_DIR equal one run
  refuse   OUT_DIR inside (or equal to) IN_DIR and a rerun with other options are refused
  mpi      (-DMR_MPI=ON builds) a singleton --mpi run, mpirun -np 2 and
           --oversubscribe -np 3 (static and dynamic) equal the serial run; more ranks
           than tasks
  maskeval_shard  maskeval --shard 0/2 + 1/2 + --merge equals one run (CSV, summary.json,
           report.html apart from the timing columns); a killed serial run resumes
  maskeval_mpi    (-DMR_MPI=ON) mpirun -np 2 and --oversubscribe -np 3 equal the serial run
Inputs: copies of the small real fastMRI files in the repository (tests/data, data/sample).
Images (NIfTI) are compared byte for byte: one thread and FFTW_ESTIMATE plans everywhere (set here).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

MR, SRC, WORK, CASE = sys.argv[1:5]
ENV = dict(os.environ, OMP_NUM_THREADS="1", MR_FFT_PLANNER="estimate",
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
METHOD = ["-m", "cg", "--format", "nii"]  # NIfTI: raw floats, compared byte for byte


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def make_inputs(root, n):
    """n small real volumes below root (some in a subfolder) plus one broken file."""
    srcs = [os.path.join(SRC, "tests/data/maskeval/ixi_axial2.h5"),
            os.path.join(SRC, "data/sample/brain8_poisson.h5")]
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    for i in range(n):
        sub = "sub/" if i % 3 == 2 else ""
        shutil.copy(srcs[i % 2], os.path.join(root, f"{sub}v{i:02d}.h5"))
    with open(os.path.join(root, "broken.h5"), "w") as f:
        f.write("not hdf5\n")


def run(args, expect=None, **kw):
    p = subprocess.run([MR, "batch"] + args, env=ENV, capture_output=True, text=True,
                       timeout=300, **kw)
    if expect is not None and p.returncode != expect:
        fail(f"{args}: exit {p.returncode}, expected {expect}\n{p.stderr}")
    return p


def log(out):
    with open(os.path.join(out, "batch.jsonl")) as f:
        return [json.loads(l) for l in f]


def outputs(out):
    found = {}
    for d, _, files in os.walk(out):
        for f in files:
            if f.endswith(".nii"):
                p = os.path.join(d, f)
                with open(p, "rb") as h:
                    found[os.path.relpath(p, out)] = h.read()
    return found


def same(a, b, what):
    if sorted(a) != sorted(b):
        fail(f"{what}: outputs {sorted(a)} != {sorted(b)}")
    for k in a:
        if a[k] != b[k]:
            fail(f"{what}: {k} differs")


def once_each(out, tasks, what, unlogged=0):
    """every task logged ok exactly once (up to `unlogged` outputs of a killed run without a
    line: killed between the output's rename and its journal line), the broken file failed"""
    ok = {}
    for r in log(out):
        if r["status"] == "ok":
            ok[r["output"]] = ok.get(r["output"], 0) + 1
            if r["slices"] < 1:
                fail(f"{what}: {r} has no slices")
        elif "broken.h5" not in r["file"] or r["error"] == "":
            fail(f"{what}: unexpected failure {r}")
    if not tasks - unlogged <= len(ok) <= tasks or any(v != 1 for v in ok.values()):
        fail(f"{what}: ok lines per output {ok}, expected each of {tasks} once")


def reference(inp, n):
    ref = os.path.join(WORK, "ref")
    run(METHOD + ["-q", inp, ref], expect=1)  # the broken file fails: exit 1
    refs = outputs(ref)
    if len(refs) != n:
        fail(f"reference: {len(refs)} outputs, expected {n}")
    once_each(ref, n, "reference")
    s = json.load(open(os.path.join(ref, "batch.summary.json")))
    if (s["tasks"], s["ok"], s["failed"], s["missing"]) != (n + 1, n, 1, 1):
        fail(f"reference summary {s}")
    return refs


def case_serial(inp, n, refs):
    out = os.path.join(WORK, "killed")
    p = subprocess.Popen([MR, "batch"] + METHOD + ["-q", inp, out], env=ENV,
                         stderr=subprocess.DEVNULL)
    t0 = time.time()
    while len([k for k in outputs_names(out)]) < 2:
        if p.poll() is not None or time.time() - t0 > 120:
            fail("the run to kill ended before it could be killed")
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done_at_kill = len(outputs_names(out))
    if done_at_kill >= n:
        fail("killed too late: every task was done")
    r = run(METHOD + [inp, out], expect=1)
    if f"{done_at_kill} skipped" not in r.stderr and \
            f"{done_at_kill + 1} skipped" not in r.stderr:
        fail(f"the rerun did not skip the {done_at_kill} finished outputs:\n{r.stderr}")
    if "ETA" not in r.stderr or "tasks/s" not in r.stderr:
        fail(f"no progress line on stderr:\n{r.stderr}")
    same(outputs(out), refs, "killed + rerun")
    once_each(out, n, "killed + rerun", unlogged=1)
    print(f"serial: killed after {done_at_kill}/{n} outputs; the rerun completed the rest, "
          "each task computed once")


def outputs_names(out):
    names = []
    for d, _, files in os.walk(out):
        names += [f for f in files if f.endswith(".nii") and ".tmp-" not in f]
    return names


def case_shard(inp, n, refs):
    out = os.path.join(WORK, "shards")
    ps = [subprocess.Popen([MR, "batch"] + METHOD + ["-q", "--shard", f"{i}/2", inp, out],
                           env=ENV, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in ps:
        p.wait(timeout=300)
    same(outputs(out), refs, "shard 0/2 + 1/2")
    once_each(out, n, "shard 0/2 + 1/2")
    if os.listdir(os.path.join(out, ".batch")) != ["lock"]:
        fail(f"journals left: {os.listdir(os.path.join(out, '.batch'))}")
    print("shard: 0/2 + 1/2 equal one run")


def case_refuse(inp):
    for out in (inp, os.path.join(inp, "out")):
        r = run(["-m", "zf", inp, out], expect=2)
        if "inside it" not in r.stderr:
            fail(f"OUT {out}: {r.stderr}")
    if os.path.exists(os.path.join(inp, "out")):
        fail("a refused run created its output folder")
    out = os.path.join(WORK, "opts")
    run(["-q", "-m", "zf", inp, out], expect=1)
    run(["-q", "-m", "zf", inp, out], expect=1)  # the same options: accepted
    r = run(["-q", "-m", "sense", inp, out], expect=2)
    if "other reconstruction options" not in r.stderr or "method=zf" not in r.stderr:
        fail(f"option mismatch: {r.stderr}")
    print("refuse: OUT in IN and changed options refused")


def mpirun(np_, args, expect=None):
    cmd = ["mpirun", "-np", str(np_), "--oversubscribe", "--bind-to", "none", MR, "batch"]
    p = subprocess.run(cmd + args, env=ENV, capture_output=True, text=True, timeout=300)
    if expect is not None and p.returncode != expect:
        fail(f"{cmd + args}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p


def case_mpi(inp, n, refs):
    out = os.path.join(WORK, "singleton")
    run(METHOD + ["-q", "--mpi", inp, out], expect=1)
    same(outputs(out), refs, "singleton --mpi")
    once_each(out, n, "singleton --mpi")
    for np_, sched in ((2, "dynamic"), (3, "dynamic"), (3, "static")):
        out = os.path.join(WORK, f"np{np_}_{sched}")
        mpirun(np_, METHOD + ["-q", "--schedule", sched, inp, out], expect=1)
        same(outputs(out), refs, f"mpirun -np {np_} {sched}")
        once_each(out, n, f"mpirun -np {np_} {sched}")
        s = json.load(open(os.path.join(out, "batch.summary.json")))
        r = json.load(open(os.path.join(WORK, "ref", "batch.summary.json")))
        if {k: v for k, v in s.items() if k != "seconds"} != \
                {k: v for k, v in r.items() if k != "seconds"}:
            fail(f"-np {np_}: summary {s}, serial {r}")
        ref = os.path.join(WORK, "ref")
        ref_log = [(r["task"], os.path.relpath(r["output"], ref), r["status"], r["slices"])
                   for r in log(ref)]
        got_log = [(r["task"], os.path.relpath(r["output"], out), r["status"], r["slices"])
                   for r in log(out)]
        if ref_log != got_log:
            fail(f"-np {np_}: batch.jsonl differs from the serial one beyond timings")
    # more ranks than tasks: a list of 2 inputs over 3 ranks
    lst = os.path.join(WORK, "two.txt")
    with open(lst, "w") as f:
        f.write("# two inputs\n" + os.path.join(inp, "v00.h5") + "\n\nin/v01.h5\n")
    out = os.path.join(WORK, "np3_two")
    mpirun(3, METHOD + ["-q", lst, out], expect=0)
    got = outputs(out)
    same(got, {"v00.nii": refs["v00.nii"], "in/v01.nii": refs["v01.nii"]}, "3 ranks, 2 tasks")
    # a rerun under MPI skips everything and computes nothing
    p = mpirun(2, METHOD + [lst, out], expect=0)
    if "0 ok, 0 failed, 2 skipped" not in p.stderr:
        fail(f"MPI rerun: {p.stderr}")
    print("mpi: singleton, -np 2, -np 3 (dynamic, static) equal serial; 3 ranks for 2 tasks")


# ---- maskeval ----------------------------------------------------------------------------

def maskeval_args(inp):
    return ["--data", os.path.join(inp, "v00.h5"), "--data", os.path.join(inp, "v01.h5"),
            "--data", os.path.join(inp, "broken.h5"),
            "--mask", "equispaced:accel=4,center=0.12", "--mask", "random:accel=6,center=0.08",
            "--method", "zf", "--method", "cg:iters=10", "--method", "sense", "-j", "1", "-q"]


def maskeval(args, out, expect=0, launcher=None):
    cmd = (launcher or []) + [MR, "maskeval"] + args + (["-o", out] if out else [])
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    if p.returncode != expect:
        fail(f"{cmd}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p


def untimed(out):
    """results.csv without time_s, summary.json without time_s, report.html without its time
    column: what must be identical between any two ways of running the same evaluation"""
    import csv
    import re
    with open(os.path.join(out, "results.csv")) as f:
        rows = [r[:9] + r[10:] for r in csv.reader(f)]
    with open(os.path.join(out, "summary.json")) as f:
        summary = re.sub(r"\"time_s\":\s*[-0-9.e]+", "", f.read())
    with open(os.path.join(out, "report.html")) as f:
        report = re.sub(r"<td>[0-9.]+</td></tr>", "</tr>", f.read())
    pics = sorted(p for p in os.listdir(os.path.join(out, "masks")) +
                  os.listdir(os.path.join(out, "gallery")) if ".tmp-" not in p)  # a kill's temp
    return rows, summary, report, pics


def same_eval(a, b, what):
    x, y = untimed(a), untimed(b)
    for name, u, v in zip(("results.csv", "summary.json", "report.html", "pictures"), x, y):
        if u != v:
            fail(f"{what}: {name} differs from the serial run's")
    # 3 slices x 2 masks x 3 methods, and 1 row per pair for broken.h5
    # merged task files are removed; a run killed while writing one may leave its temporary
    # file (io/atomic_file.h: "<path>.tmp-XXXXXX", never a half task file), which the merge
    # cannot tell from a live shard's and so leaves alone
    tdir = os.path.join(b, "tasks")
    left = [f for f in os.listdir(tdir) if ".tmp-" not in f] if os.path.isdir(tdir) else []
    if len(x[0]) != 1 + 3 * 2 * 3 + 2 * 3 or left:
        fail(f"{what}: {len(x[0]) - 1} rows, or task files left: {left}")


def maskeval_reference(inp):
    ref = os.path.join(WORK, "me_ref")
    maskeval(maskeval_args(inp), ref)
    return ref


def case_maskeval_shard(inp):
    ref = maskeval_reference(inp)
    out = os.path.join(WORK, "me_shards")
    for i in range(2):
        maskeval(maskeval_args(inp) + ["--shard", f"{i}/2"], out)
    if os.path.exists(os.path.join(out, "results.csv")):
        fail("a shard wrote results.csv")
    maskeval(["--merge", out], None)
    same_eval(ref, out, "shard 0/2 + 1/2 + merge")
    # other options while task files of an unmerged run remain: refused
    out2 = os.path.join(WORK, "me_mixed")
    maskeval(maskeval_args(inp) + ["--shard", "0/2"], out2)
    p = maskeval(maskeval_args(inp)[:-3] + ["--method", "cs", "-q"], out2, expect=1)
    if "unmerged run with other options" not in p.stderr:
        fail(f"mixed options: {p.stderr}")
    # a killed serial run, rerun: only the tasks in flight are redone
    out3 = os.path.join(WORK, "me_killed")
    p = subprocess.Popen([MR, "maskeval"] + maskeval_args(inp) + ["-o", out3], env=ENV,
                         stderr=subprocess.DEVNULL)
    t0 = time.time()
    tasks = os.path.join(out3, "tasks")
    while not (os.path.isdir(tasks) and len([f for f in os.listdir(tasks)
                                              if f.endswith(".csv")]) >= 4):
        if p.poll() is not None or time.time() - t0 > 120:
            fail("the maskeval run to kill ended before it could be killed")
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    kept = len([f for f in os.listdir(tasks) if f.endswith(".csv")])
    rows_kept = sum(",ok," in line for f in os.listdir(tasks) if f.endswith(".csv")
                    for line in open(os.path.join(tasks, f)))  # failed rows are retried
    r = maskeval(maskeval_args(inp)[:-1], out3)  # not quiet: the summary line
    if f"{rows_kept} already done" not in r.stderr:
        fail(f"rerun after kill with {kept} task files ({rows_kept} rows): {r.stderr}")
    same_eval(ref, out3, "killed + rerun")
    print(f"maskeval: shards + merge equal one run; killed after {kept} tasks, the rerun "
          "redid only the rest")


def case_maskeval_mpi(inp):
    ref = maskeval_reference(inp)
    mpi = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np"]
    out = os.path.join(WORK, "me_singleton")
    maskeval(maskeval_args(inp) + ["--mpi"], out)
    same_eval(ref, out, "maskeval singleton --mpi")
    for np_, sched in ((2, "dynamic"), (3, "dynamic"), (3, "static")):
        out = os.path.join(WORK, f"me_np{np_}_{sched}")
        maskeval(maskeval_args(inp) + ["--schedule", sched], out, launcher=mpi + [str(np_)])
        same_eval(ref, out, f"maskeval mpirun -np {np_} {sched}")
    # more ranks than tasks: 1 file x 1 mask x 2 methods over 3 ranks
    small = ["--data", os.path.join(inp, "v00.h5"), "--mask", "equispaced:accel=4,center=0.12",
             "--method", "zf", "--method", "sense", "-q"]
    a, b = os.path.join(WORK, "me_small_serial"), os.path.join(WORK, "me_small_np3")
    maskeval(small, a)
    maskeval(small, b, launcher=mpi + ["3"])
    if untimed(a) != untimed(b):
        fail("maskeval 3 ranks for 2 tasks differs from the serial run")
    print("maskeval mpi: singleton, -np 2, -np 3 (dynamic, static) equal serial; 3 ranks for "
          "2 tasks")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    inp = os.path.join(WORK, "in")
    n = 4
    make_inputs(inp, n)
    if CASE == "refuse":
        case_refuse(inp)
        return
    if CASE.startswith("maskeval"):
        {"maskeval_shard": case_maskeval_shard, "maskeval_mpi": case_maskeval_mpi}[CASE](inp)
        return
    refs = reference(inp, n)
    {"serial": case_serial, "shard": case_shard, "mpi": case_mpi}[CASE](inp, n, refs)


if __name__ == "__main__":
    main()
