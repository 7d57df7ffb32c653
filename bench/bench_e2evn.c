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
#include <stdlib.h>
#include <time.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "io/h5.h"
#include "networks/layers.h"
#include "networks/net.h"
#include "weights/weights.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h5 = NULL;
    struct mr_h5 *wr = NULL;
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array out = { 0 };
    struct mr_net_inputs in = mr_net_inputs_default;
    double best = 1e30;

    MR_CHECK(mr_weights_load(path, &ws));
    MR_CHECK(mr_net_create_from_weights(ws, NULL, &net));
    MR_CHECK(mr_h5_open(path, &h5));
    MR_CHECK(mr_h5_read(h5, "/kspace", &ksp));
    MR_CHECK(mr_h5_read(h5, "/mask", &mask));
    in.ksp = &ksp;
    in.mask = &mask;
    if (mr_h5_exists(h5, "/sensitivity_map")) {
        MR_CHECK(mr_h5_read(h5, "/sensitivity_map", &sens));
        in.sens = &sens;
    }
    if (mr_h5_exists(h5, "/num_low_frequencies"))
        MR_CHECK(mr_h5_read_i64(h5, "/num_low_frequencies", &in.num_low_frequencies));

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_net_prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2]));
    MR_CHECK(mr_net_output_init(net, &out));
    double t_prepare = mr_clock_now_s() - t0;
    printf("{\"file\": \"%s\", \"network\": \"%s\", \"coils\": %lld, \"h\": %lld, \"w\": %lld, "
           "\"params\": %lld, \"prepare_s\": %.4f, \"runs_s\": [",
           path, mr_net_name(net), (long long)ksp.dims[0], (long long)ksp.dims[1],
           (long long)ksp.dims[2], (long long)mr_weights_numel(ws), t_prepare);
    const int64_t flops0 = mr_conv2d_flops();
    for (int r = 0; r < reps; r++) {
        t0 = mr_clock_now_s();
        MR_CHECK(mr_net_run(net, &in, &out, NULL));
        double t = mr_clock_now_s() - t0;
        best = t < best ? t : best;
        printf("%s%.4f", r > 0 ? ", " : "", t);
        fflush(stdout);
    }
    printf("], \"conv_gflop\": %.3f, "
           "\"best_s\": %.4f, \"peak_rss_mib\": %.1f}\n",
           (double)(mr_conv2d_flops() - flops0) / reps * 1e-9, best, mr_clock_peak_rss_mib());
    if (out_path != NULL) {
        MR_CHECK(mr_h5_create(out_path, &wr));
        MR_CHECK(mr_h5_write(wr, "/output", &out));
        st = mr_h5_commit(wr);
        wr = NULL;
    }
out:
    mr_h5_close(wr);
    mr_h5_close(h5);
    mr_array_cleanup(&out);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
    mr_net_free(net);
    mr_weights_free(ws);
    return st;
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const struct mr_cli_plan plan = { NULL, NULL }; /* MR_CONV_PLAN, MR_WISDOM, ... */
    if (!mr_cli_settings_begin("bench_e2evn", &plan))
        return 2;
    if (argc < 2 || argc > 4) {
        fputs("usage: bench_e2evn FILE.h5 [reps] [OUT.h5]\n", stderr);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (reps < 1)
        reps = 1;
    if (bench(argv[1], reps, argc > 3 ? argv[3] : NULL) != MR_OK) {
        fprintf(stderr, "bench_e2evn: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("bench_e2evn", &plan) ? 0 : 1;
}
