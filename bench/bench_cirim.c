/*
 * CIRIM forward-pass benchmark: loads a weight file that also holds one case's inputs
 * (/kspace, /mask, /sensitivity_map, optional /initial_prediction and /sigma, as the goldens
 * and `bench/torch_cirim.py make` write them), builds the network through the registry
 * (networks/net.h), prepares it once and times
 * `reps` forward passes. Prints one JSON line (times, best, peak RSS) and optionally writes
 * the output as OUT.h5 /output. Threads: OMP_NUM_THREADS (the kernels' OpenMP and OpenBLAS).
 *
 *   bench_cirim FILE.h5 [reps] [OUT.h5]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "networks/cirim.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_bench_case c;
    struct mr_net *net = NULL;
    struct mr_cirim_config cfg = mr_cirim_config_default;
    struct mr_array init = { 0 };
    struct mr_array sigma = { 0 };

    MR_CHECK(mr_bench_case_open(path, true, &c));
    MR_CHECK(mr_cirim_config_from_json(mr_weights_config_json(c.ws), &cfg));
    MR_CHECK(mr_net_create_from_weights(c.ws, NULL, &net));
    if (mr_h5_exists(c.h5, "/initial_prediction"))
        MR_CHECK(mr_h5_read(c.h5, "/initial_prediction", &init));
    float s = 1.0f;
    if (mr_h5_exists(c.h5, "/sigma")) {
        MR_CHECK(mr_h5_read(c.h5, "/sigma", &sigma));
        s = mr_array_f32(&sigma)[0];
    }
    const int64_t nc = c.ksp.dims[0];
    const int64_t h = c.ksp.dims[1];
    const int64_t w = c.ksp.dims[2];

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_net_prepare(net, nc, h, w));
    double t_prepare = mr_clock_now_s() - t0;
    MR_CHECK(mr_net_output_init(net, &c.out));
    struct mr_net_inputs in = mr_net_inputs_default;
    in.ksp = &c.ksp;
    in.mask = &c.mask;
    in.sens = &c.sens;
    in.initial_prediction = init.data != NULL ? &init : NULL;
    in.sigma = s;
    printf("{\"engine\": \"c\", \"threads\": \"%s\", \"size\": [%lld, %lld, %lld], "
           "\"cascades\": %lld, \"steps\": %lld, \"prepare_s\": %.4f, \"times_s\": [",
           getenv("OMP_NUM_THREADS") != NULL ? getenv("OMP_NUM_THREADS") : "default",
           (long long)nc, (long long)h, (long long)w, (long long)cfg.num_cascades,
           (long long)mr_cirim_config_steps(&cfg), t_prepare);
    struct mr_bench_net_run r = { net, &in, &c.out };
    MR_CHECK(mr_bench_time_runs(mr_bench_net_run, &r, reps));
    printf(", \"rss_before_load_mib\": %.1f}\n", c.rss_before);
    MR_CHECK(mr_bench_write_output(out_path, &c.out));
out:
    mr_array_cleanup(&init);
    mr_array_cleanup(&sigma);
    mr_net_free(net);
    mr_bench_case_cleanup(&c);
    return st;
}

int main(int argc, char *argv[])
{
    return mr_bench_main(argc, argv, "bench_cirim", 2, bench);
}
