/*
 * The driver shared by the forward-pass benchmarks (bench_cirim, bench_e2evn,
 * bench_recurrentvarnet): the case file (a weight file that also holds one case's inputs, as
 * the goldens and bench/torch_*.py make write them), the timed loop with its JSON tail, the
 * optional output file and main()'s argument handling. Not a library: linked into the bench
 * executables only.
 */
#ifndef MR_BENCH_COMMON_H
#define MR_BENCH_COMMON_H

#include <stdbool.h>

#include "io/h5.h"
#include "networks/net.h"
#include "recon/array.h"
#include "recon/status.h"
#include "weights/weights.h"

/* One case: its weights, the open file, and /kspace (C, H, W) CF32, /mask and, when present
 * (or required), /sensitivity_map (C, H, W) CF32. out is the caller's output buffer, freed
 * with the case. rss_before: peak RSS (MiB) before anything was loaded. */
struct mr_bench_case {
    struct mr_weights *ws;
    struct mr_h5 *h5;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens; /* data NULL when the file has none and it is optional */
    struct mr_array out;
    double rss_before;
};

/* Loads the weights of path and its /kspace, /mask and /sensitivity_map (need_sens: an error
 * when missing). *c is ready for mr_bench_case_cleanup even on failure. Errors: those of
 * mr_weights_load, mr_h5_open and mr_h5_read. */
mr_status mr_bench_case_open(const char *path, bool need_sens, struct mr_bench_case *c);

/* Frees what mr_bench_case_open loaded, and out. */
void mr_bench_case_cleanup(struct mr_bench_case *c);

/* One forward pass of the network under test. */
typedef mr_status (*mr_bench_run_fn)(void *ctx);

/* The run of a registry network: mr_net_run(net, in, out, NULL); ctx: a struct
 * mr_bench_net_run. */
struct mr_bench_net_run {
    struct mr_net *net;
    const struct mr_net_inputs *in;
    struct mr_array *out;
};
mr_status mr_bench_net_run(void *ctx);

/* Times reps calls of run(ctx): prints each time ("%.4f", comma separated, flushed as it
 * goes), then `], "conv_gflop": G, "best_s": B, "peak_rss_mib": R` (conv GFLOP per run, best
 * time, peak RSS); the caller opens the list and closes the JSON object. Errors: run's. */
mr_status mr_bench_time_runs(mr_bench_run_fn run, void *ctx, int reps);

/* Writes out as path /output (HDF5) when path is not NULL. Errors: mr_h5_create/write's. */
mr_status mr_bench_write_output(const char *path, const struct mr_array *out);

/* main() of a benchmark `name FILE.h5 [reps] [OUT.h5]`: the OpenBLAS core type and the
 * settings of apps/cli_settings.h (MR_CONV_PLAN, MR_WISDOM, ...), the usage check, reps
 * (default reps_default, at least 1), then bench(FILE, reps, OUT or NULL). Returns the exit
 * status: 0, 1 (bench or settings failed, message on stderr) or 2 (usage). */
int mr_bench_main(int argc, char *argv[], const char *name, int reps_default,
                  mr_status (*bench)(const char *path, int reps, const char *out_path));

#endif
