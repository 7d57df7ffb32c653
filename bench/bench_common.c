/*
 * The driver shared by the forward-pass benchmarks (see bench_common.h).
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "networks/layers.h"
#include "recon/clock.h"

mr_status mr_bench_case_open(const char *path, bool need_sens, struct mr_bench_case *c)
{
    mr_status st = MR_OK;
    memset(c, 0, sizeof(*c));
    c->rss_before = mr_clock_peak_rss_mib();
    MR_CHECK(mr_weights_load(path, &c->ws));
    MR_CHECK(mr_h5_open(path, &c->h5));
    MR_CHECK(mr_h5_read(c->h5, "/kspace", &c->ksp));
    MR_CHECK(mr_h5_read(c->h5, "/mask", &c->mask));
    if (need_sens || mr_h5_exists(c->h5, "/sensitivity_map"))
        MR_CHECK(mr_h5_read(c->h5, "/sensitivity_map", &c->sens));
out:
    return st;
}

void mr_bench_case_cleanup(struct mr_bench_case *c)
{
    mr_h5_close(c->h5);
    mr_array_cleanup(&c->out);
    mr_array_cleanup(&c->sens);
    mr_array_cleanup(&c->mask);
    mr_array_cleanup(&c->ksp);
    mr_weights_free(c->ws);
    memset(c, 0, sizeof(*c));
}

mr_status mr_bench_net_run(void *ctx)
{
    struct mr_bench_net_run *r = ctx;
    return mr_net_run(r->net, r->in, r->out, NULL);
}

mr_status mr_bench_time_runs(mr_bench_run_fn run, void *ctx, int reps)
{
    mr_status st = MR_OK;
    double best = 1e30;
    const int64_t flops0 = mr_conv2d_flops();
    for (int r = 0; r < reps; r++) {
        double t0 = mr_clock_now_s();
        MR_CHECK(run(ctx));
        double dt = mr_clock_now_s() - t0;
        best = dt < best ? dt : best;
        printf("%s%.4f", r > 0 ? ", " : "", dt);
        fflush(stdout);
    }
    printf("], \"conv_gflop\": %.3f, \"best_s\": %.4f, \"peak_rss_mib\": %.1f",
           (double)(mr_conv2d_flops() - flops0) / reps * 1e-9, best, mr_clock_peak_rss_mib());
out:
    return st;
}

mr_status mr_bench_write_output(const char *path, const struct mr_array *out)
{
    mr_status st = MR_OK;
    struct mr_h5 *wr = NULL;
    if (path == NULL)
        return MR_OK;
    MR_CHECK(mr_h5_create(path, &wr));
    MR_CHECK(mr_h5_write(wr, "/output", out));
    st = mr_h5_commit(wr);
    wr = NULL;
out:
    mr_h5_close(wr);
    return st;
}

int mr_bench_main(int argc, char *argv[], const char *name, int reps_default,
                  mr_status (*bench)(const char *path, int reps, const char *out_path))
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const struct mr_cli_plan plan = { NULL, NULL }; /* MR_CONV_PLAN, MR_WISDOM, ... */
    if (!mr_cli_settings_begin(name, &plan))
        return 2;
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s FILE.h5 [reps] [OUT.h5]\n", name);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : reps_default;
    if (reps < 1)
        reps = 1;
    if (bench(argv[1], reps, argc > 3 ? argv[3] : NULL) != MR_OK) {
        fprintf(stderr, "%s: %s\n", name, mr_last_error());
        return 1;
    }
    return mr_cli_settings_end(name, &plan) ? 0 : 1;
}
