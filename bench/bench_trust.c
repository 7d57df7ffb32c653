/*
 * The cost of the trust report (pipeline/trust.h): one slice through a method with
 * mr_pipeline_run (no report) and mr_pipeline_run_report (the default report: per-step
 * residuals, final residual, features, score), interleaved, median of N each.
 *
 *   bench_trust METHOD_OR_WEIGHTS FILE.h5 [N]     e.g. weights/shipped/cirim-brain-demo.h5
 *                                                  data/sample/brain8_poisson.h5 7
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fastmri.h"
#include "pipeline/pipeline.h"
#include "recon/clock.h"

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char *argv[])
{
    struct mr_fastmri *f = NULL;
    struct mr_method_config cfg;
    struct mr_pipeline *p = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array mag = { 0 };
    struct mr_trust_report *rep = malloc(sizeof(*rep));
    const int n = argc > 3 ? atoi(argv[3]) : 5;
    double t0[64];
    double t1[64];

    if (argc < 3 || n < 1 || n > 64 || rep == NULL) {
        fprintf(stderr, "usage: bench_trust METHOD_OR_WEIGHTS FILE.h5 [N <= 64]\n");
        return 2;
    }
    mr_method_config_init(&cfg);
    if (mr_method_config_parse(&cfg, argv[1]) != MR_OK || mr_fastmri_open(argv[2], &f) != MR_OK)
        goto fail;
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    if (mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, in->coils, in->h, in->w) != MR_OK ||
        mr_array_init_dims(&mask, MR_DTYPE_F32, 2, in->h, in->w) != MR_OK ||
        mr_array_init_dims(&mag, MR_DTYPE_F32, 2, in->h, in->w) != MR_OK ||
        mr_fastmri_read_kspace(f, 0, &ksp) != MR_OK ||
        mr_pipeline_create(&cfg, in->coils, in->h, in->w, &p) != MR_OK)
        goto fail;
    if (in->has_mask) {
        if (mr_fastmri_read_mask(f, &mask) != MR_OK)
            goto fail;
    } else { /* where any coil has a sample */
        const float *k = (const float *)mr_array_cf32(&ksp);
        float *m = mr_array_f32(&mask);
        for (int64_t i = 0; i < in->coils * in->h * in->w; i++)
            if (k[2 * i] != 0.0f || k[2 * i + 1] != 0.0f)
                m[i % (in->h * in->w)] = 1.0f;
    }
    const struct mr_slice s = { .ksp = &ksp, .mask = &mask, .maps = NULL };
    if (mr_pipeline_run(p, &s, &mag) != MR_OK) /* warm-up: plans, maps */
        goto fail;
    for (int i = 0; i < n; i++) {
        double t = mr_clock_now_s();
        if (mr_pipeline_run(p, &s, &mag) != MR_OK)
            goto fail;
        t0[i] = mr_clock_now_s() - t;
        t = mr_clock_now_s();
        if (mr_pipeline_run_report(p, &s, &mag, rep) != MR_OK)
            goto fail;
        t1[i] = mr_clock_now_s() - t;
    }
    qsort(t0, (size_t)n, sizeof(double), cmp);
    qsort(t1, (size_t)n, sizeof(double), cmp);
    printf("%s on %s: without report %.4f s, with report %.4f s (median of %d): %+.1f %%\n",
           mr_pipeline_label(p), argv[2], t0[n / 2], t1[n / 2], n,
           100.0 * (t1[n / 2] / t0[n / 2] - 1.0));
    mr_pipeline_free(p);
    mr_fastmri_close(f);
    return 0;
fail:
    fprintf(stderr, "bench_trust: %s\n", mr_last_error());
    return 1;
}
