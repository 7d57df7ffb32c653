/*
 * RecurrentVarNet forward-pass benchmark: loads a weight file that also holds one case's
 * inputs (/kspace, /mask, /sensitivity_map, as `bench/torch_recurrentvarnet.py make` and the
 * model-level goldens write them; the FFT convention from the config's "fft_centered"),
 * builds the network, prepares it once and times `reps` forward passes. Prints one JSON line
 * (times, best, peak RSS) and optionally writes the output k-space as OUT.h5 /output.
 * Threads: OMP_NUM_THREADS (the kernels' OpenMP and OpenBLAS).
 *
 *   bench_recurrentvarnet FILE.h5 [reps] [OUT.h5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "io/h5.h"
#include "networks/layers.h"
#include "networks/recurrentvarnet.h"
#include "weights/weights.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h5 = NULL;
    struct mr_h5 *wr = NULL;
    struct mr_weights *ws = NULL;
    struct mr_recurrentvarnet *net = NULL;
    struct mr_recurrentvarnet_config cfg;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array out = { 0 };
    double best = 1e30;
    double rss_before = mr_clock_peak_rss_mib();

    MR_CHECK(mr_weights_load(path, &ws));
    MR_CHECK(mr_recurrentvarnet_config_parse(mr_weights_config(ws), &cfg));
    MR_CHECK(mr_recurrentvarnet_create(ws, "", &cfg, &net));
    MR_CHECK(mr_h5_open(path, &h5));
    MR_CHECK(mr_h5_read(h5, "/kspace", &ksp));
    MR_CHECK(mr_h5_read(h5, "/mask", &mask));
    MR_CHECK(mr_h5_read(h5, "/sensitivity_map", &sens));
    const int64_t nc = ksp.dims[0];
    const int64_t h = ksp.dims[1];
    const int64_t w = ksp.dims[2];
    MR_CHECK(mr_array_init_like(&out, &ksp));

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_recurrentvarnet_prepare(net, nc, h, w));
    double t_prepare = mr_clock_now_s() - t0;
    printf("{\"engine\": \"c\", \"threads\": \"%s\", \"size\": [%lld, %lld, %lld], "
           "\"steps\": %lld, \"hidden\": %lld, \"layers\": %lld, \"prepare_s\": %.4f, "
           "\"times_s\": [",
           getenv("OMP_NUM_THREADS") != NULL ? getenv("OMP_NUM_THREADS") : "default",
           (long long)nc, (long long)h, (long long)w, (long long)cfg.num_steps,
           (long long)cfg.hidden, (long long)cfg.layers, t_prepare);
    const int64_t flops0 = mr_conv2d_flops();
    for (int r = 0; r < reps; r++) {
        t0 = mr_clock_now_s();
        MR_CHECK(mr_recurrentvarnet_run(net, &out, &ksp, &mask, &sens, NULL, NULL));
        double dt = mr_clock_now_s() - t0;
        best = dt < best ? dt : best;
        printf("%s%.4f", r > 0 ? ", " : "", dt);
        fflush(stdout);
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
    mr_array_cleanup(&out);
    mr_recurrentvarnet_free(net);
    mr_weights_free(ws);
    mr_h5_close(h5);
    return st;
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const struct mr_cli_plan plan = { NULL, NULL }; /* MR_CONV_PLAN, MR_WISDOM, ... */
    if (!mr_cli_settings_begin("bench_recurrentvarnet", &plan))
        return 2;
    if (argc < 2 || argc > 4) {
        fputs("usage: bench_recurrentvarnet FILE.h5 [reps] [OUT.h5]\n", stderr);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 1;
    if (reps < 1)
        reps = 1;
    if (bench(argv[1], reps, argc > 3 ? argv[3] : NULL) != MR_OK) {
        fprintf(stderr, "bench_recurrentvarnet: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("bench_recurrentvarnet", &plan) ? 0 : 1;
}
