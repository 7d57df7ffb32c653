/*
 * LPN prox benchmark: loads a weight file that also holds /input (C, H, W) (as
 * `bench/torch_lpn.py make` and the goldens write it), plans the 128×128 patch tiling once and
 * times `reps` tiled proxes (forward ψ + the hand-written backward per patch). Prints one JSON
 * line (plan time, per-run times, best, per-patch time, peak RSS) and optionally writes
 * OUT.h5 /output. Threads: OMP_NUM_THREADS (kernels and OpenBLAS).
 *
 *   bench_lpn FILE.h5 [reps] [stride] [OUT.h5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "io/h5.h"
#include "networks/layers.h"
#include "networks/lpn_tiler.h"
#include "weights/weights.h"
#include "recon/clock.h"

static mr_status bench(const char *path, int reps, int64_t stride, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h5 = NULL;
    struct mr_h5 *wr = NULL;
    struct mr_weights *ws = NULL;
    struct mr_lpn *lpn = NULL;
    struct mr_lpn_tiler *t = NULL;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_lpn_tiling_config tc = mr_lpn_tiling_config_default;
    double best = 1e30;
    int64_t nr = 0;
    int64_t nc = 0;
    const int64_t *rows = NULL;
    const int64_t *cols = NULL;

    MR_CHECK(mr_weights_load(path, &ws));
    MR_CHECK(mr_h5_open(path, &h5));
    MR_CHECK(mr_h5_read(h5, "/input", &x));
    MR_CHECK(mr_array_init_like(&y, &x));
    double t0 = mr_clock_now_s();
    MR_CHECK(mr_lpn_create(ws, &lpn));
    tc.stride = stride;
    MR_CHECK(mr_lpn_tiler_create(lpn, x.dims[1], x.dims[2], &tc, &t));
    double t_plan = mr_clock_now_s() - t0;
    mr_lpn_tiler_grid(t, &nr, &rows, &nc, &cols);
    printf("{\"engine\": \"c\", \"file\": \"%s\", \"c\": %lld, \"h\": %lld, \"w\": %lld, "
           "\"hidden\": %lld, \"stride\": %lld, \"patches\": %lld, \"params\": %lld, "
           "\"plan_s\": %.4f, \"runs_s\": [",
           path, (long long)x.dims[0], (long long)x.dims[1], (long long)x.dims[2],
           (long long)mr_lpn_get_config(lpn)->hidden, (long long)stride, (long long)(nr * nc),
           (long long)mr_weights_numel(ws), t_plan);
    const int64_t flops0 = mr_conv2d_flops();
    for (int r = 0; r < reps; r++) {
        t0 = mr_clock_now_s();
        mr_lpn_tiler_apply(t, &y, &x);
        double dt = mr_clock_now_s() - t0;
        best = dt < best ? dt : best;
        printf("%s%.4f", r > 0 ? ", " : "", dt);
        fflush(stdout);
    }
    printf("], \"conv_gflop\": %.3f, "
           "\"best_s\": %.4f, \"per_patch_s\": %.4f, \"peak_rss_mib\": %.1f}\n",
           (double)(mr_conv2d_flops() - flops0) / reps * 1e-9, best,
           best / (double)(nr * nc), mr_clock_peak_rss_mib());
    if (out_path != NULL) {
        MR_CHECK(mr_h5_create(out_path, &wr));
        MR_CHECK(mr_h5_write(wr, "/output", &y));
        st = mr_h5_commit(wr);
        wr = NULL;
    }
out:
    mr_h5_close(wr);
    mr_h5_close(h5);
    mr_lpn_tiler_free(t);
    mr_lpn_free(lpn);
    mr_weights_free(ws);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    return st;
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const struct mr_cli_plan plan = { NULL, NULL }; /* MR_CONV_PLAN, MR_WISDOM, ... */
    if (!mr_cli_settings_begin("bench_lpn", &plan))
        return 2;
    if (argc < 2 || argc > 5) {
        fputs("usage: bench_lpn FILE.h5 [reps] [stride] [OUT.h5]\n", stderr);
        return 2;
    }
    const int reps = argc > 2 ? atoi(argv[2]) : 2;
    const int64_t stride = argc > 3 ? atoll(argv[3]) : 64;
    if (bench(argv[1], reps, stride, argc > 4 ? argv[4] : NULL) != MR_OK) {
        fprintf(stderr, "bench_lpn: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("bench_lpn", &plan) ? 0 : 1;
}
