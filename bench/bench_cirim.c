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
#include <time.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "io/h5.h"
#include "networks/layers.h"
#include "networks/cirim.h"
#include "weights/weights.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h5 = NULL;
    struct mr_h5 *wr = NULL;
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_cirim_config cfg = mr_cirim_config_default;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array init = { 0 };
    struct mr_array sigma = { 0 };
    struct mr_array out = { 0 };
    double best = 1e30;
    double rss_before = mr_clock_peak_rss_mib();

    MR_CHECK(mr_weights_load(path, &ws));
    MR_CHECK(mr_cirim_config_from_json(mr_weights_config_json(ws), &cfg));
    MR_CHECK(mr_net_create_from_weights(ws, NULL, &net));
    MR_CHECK(mr_h5_open(path, &h5));
    MR_CHECK(mr_h5_read(h5, "/kspace", &ksp));
    MR_CHECK(mr_h5_read(h5, "/mask", &mask));
    MR_CHECK(mr_h5_read(h5, "/sensitivity_map", &sens));
    if (mr_h5_exists(h5, "/initial_prediction"))
        MR_CHECK(mr_h5_read(h5, "/initial_prediction", &init));
    float s = 1.0f;
    if (mr_h5_exists(h5, "/sigma")) {
        MR_CHECK(mr_h5_read(h5, "/sigma", &sigma));
        s = mr_array_f32(&sigma)[0];
    }
    const int64_t nc = ksp.dims[0];
    const int64_t h = ksp.dims[1];
    const int64_t w = ksp.dims[2];

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_net_prepare(net, nc, h, w));
    double t_prepare = mr_clock_now_s() - t0;
    MR_CHECK(mr_net_output_init(net, &out));
    struct mr_net_inputs in = mr_net_inputs_default;
    in.ksp = &ksp;
    in.mask = &mask;
    in.sens = &sens;
    in.initial_prediction = init.data != NULL ? &init : NULL;
    in.sigma = s;
    printf("{\"engine\": \"c\", \"threads\": \"%s\", \"size\": [%lld, %lld, %lld], "
           "\"cascades\": %lld, \"steps\": %lld, \"prepare_s\": %.4f, \"times_s\": [",
           getenv("OMP_NUM_THREADS") != NULL ? getenv("OMP_NUM_THREADS") : "default",
           (long long)nc, (long long)h, (long long)w, (long long)cfg.num_cascades,
           (long long)mr_cirim_config_steps(&cfg), t_prepare);
    const int64_t flops0 = mr_conv2d_flops();
    for (int r = 0; r < reps; r++) {
        t0 = mr_clock_now_s();
        MR_CHECK(mr_net_run(net, &in, &out, NULL));
        double dt = mr_clock_now_s() - t0;
        best = dt < best ? dt : best;
        printf("%s%.4f", r > 0 ? ", " : "", dt);
    }
    printf("], \"conv_gflop\": %.3f, "
           "\"best_s\": %.4f, \"peak_rss_mib\": %.1f, \"rss_before_load_mib\": %.1f}\n",
           (double)(mr_conv2d_flops() - flops0) / reps * 1e-9, best,
           mr_clock_peak_rss_mib(), rss_before);
    if (out_path != NULL) {
        MR_CHECK(mr_h5_create(out_path, &wr));
        MR_CHECK(mr_h5_write(wr, "/output", &out));
        st = mr_h5_commit(wr);
        wr = NULL;
    }
out:
    mr_h5_close(wr);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&init);
    mr_array_cleanup(&sigma);
    mr_array_cleanup(&out);
    mr_net_free(net);
    mr_weights_free(ws);
    mr_h5_close(h5);
    return st;
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const struct mr_cli_plan plan = { NULL, NULL }; /* MR_CONV_PLAN, MR_WISDOM, ... */
    if (!mr_cli_settings_begin("bench_cirim", &plan))
        return 2;
    if (argc < 2 || argc > 4) {
        fputs("usage: bench_cirim FILE.h5 [reps] [OUT.h5]\n", stderr);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 2;
    if (reps < 1)
        reps = 1;
    if (bench(argv[1], reps, argc > 3 ? argv[3] : NULL) != MR_OK) {
        fprintf(stderr, "bench_cirim: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("bench_cirim", &plan) ? 0 : 1;
}
