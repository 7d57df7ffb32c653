/*
 * E2EVN forward-pass benchmark (any registry network works the same way): loads a weight
 * file that also holds one case's inputs (/kspace, /mask, optional /sensitivity_map and
 * /num_low_frequencies, as the goldens and `bench/torch_e2evn.py make` write them), builds
 * the network through the registry, prepares it once and times `reps` forward passes. Prints
 * one JSON line (prepare time, per-run times, best, peak RSS) and optionally writes the raw
 * output as OUT.h5 /output. Threads: OMP_NUM_THREADS (kernels and OpenBLAS).
 *
 *   bench_e2evn FILE.h5 [reps] [OUT.h5]
 */
#include <stdio.h>

#include "bench_common.h"
#include "networks/net.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_bench_case c;
    struct mr_net *net = NULL;
    struct mr_net_inputs in = mr_net_inputs_default;

    MR_CHECK(mr_bench_case_open(path, false, &c));
    MR_CHECK(mr_net_create_from_weights(c.ws, NULL, &net));
    in.ksp = &c.ksp;
    in.mask = &c.mask;
    in.sens = c.sens.data != NULL ? &c.sens : NULL;
    if (mr_h5_exists(c.h5, "/num_low_frequencies"))
        MR_CHECK(mr_h5_read_i64(c.h5, "/num_low_frequencies", &in.num_low_frequencies));

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_net_prepare(net, c.ksp.dims[0], c.ksp.dims[1], c.ksp.dims[2]));
    MR_CHECK(mr_net_output_init(net, &c.out));
    double t_prepare = mr_clock_now_s() - t0;
    printf("{\"file\": \"%s\", \"network\": \"%s\", \"coils\": %lld, \"h\": %lld, \"w\": %lld, "
           "\"params\": %lld, \"prepare_s\": %.4f, \"runs_s\": [",
           path, mr_net_name(net), (long long)c.ksp.dims[0], (long long)c.ksp.dims[1],
           (long long)c.ksp.dims[2], (long long)mr_weights_numel(c.ws), t_prepare);
    struct mr_bench_net_run r = { net, &in, &c.out };
    MR_CHECK(mr_bench_time_runs(mr_bench_net_run, &r, reps));
    printf("}\n");
    MR_CHECK(mr_bench_write_output(out_path, &c.out));
out:
    mr_net_free(net);
    mr_bench_case_cleanup(&c);
    return st;
}

int main(int argc, char *argv[])
{
    return mr_bench_main(argc, argv, "bench_e2evn", 3, bench);
}
