/*
 * Convolution algorithms side by side on the conv shapes of the shipped architectures: for each
 * shape, im2col + OpenBLAS SGEMM, the direct AVX-512 kernel and Winograd F(4x4, 3x3) (where the
 * CPU and shape allow them), best of `reps` calls each, in one run so that the ratios share the
 * machine's load. Prints a markdown table: milliseconds, GFLOP/s of the direct-sum FLOP count
 * (2 per multiply-add), and the max difference to im2col relative to the output's max.
 * Threads: OMP_NUM_THREADS.
 *
 *   bench_conv [reps] [H W [MATCH]]  (default 5 repetitions at 218 x 170; MATCH: only the
 *                                     shapes whose name contains it)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/openblas_fix.h"
#include "networks/layers.h"
#include "recon/clock.h"

struct shape {
    const char *name;
    int64_t cin, cout, k, dil;
    enum mr_pad_mode mode;
    int64_t down; /* the image is H/down × W/down (U-Net levels) */
};

static const struct shape shapes[] = {
    { "CIRIM conv 1 (5x5, 4->64)", 4, 64, 5, 1, MR_PAD_MODE_REPLICATE, 1 },
    { "CIRIM conv 2 (3x3 dil 2, 64->64)", 64, 64, 3, 2, MR_PAD_MODE_REPLICATE, 1 },
    { "CIRIM final (3x3, 64->2)", 64, 2, 3, 1, MR_PAD_MODE_REPLICATE, 1 },
    { "CIRIM IndRNN (1x1, 64->64)", 64, 64, 1, 1, MR_PAD_MODE_ZERO, 1 },
    { "E2EVN U-Net level 0 (3x3, 18->18)", 18, 18, 3, 1, MR_PAD_MODE_ZERO, 1 },
    { "E2EVN U-Net level 1 (3x3, 36->36, /2)", 36, 36, 3, 1, MR_PAD_MODE_ZERO, 2 },
    { "E2EVN U-Net level 2 (3x3, 72->72, /4)", 72, 72, 3, 1, MR_PAD_MODE_ZERO, 4 },
    { "E2EVN U-Net level 3 (3x3, 144->144, /8)", 144, 144, 3, 1, MR_PAD_MODE_ZERO, 8 },
    { "E2EVN U-Net bottom (3x3, 288->288, /16)", 288, 288, 3, 1, MR_PAD_MODE_ZERO, 16 },
    { "RVN GRU (3x3, 128->128)", 128, 128, 3, 1, MR_PAD_MODE_REPLICATE, 1 },
};

static unsigned long long rng_state = 88172645463325252ULL;

static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 - 0.5);
}

static double time_conv(const struct mr_conv2d *c, struct mr_array *y, const struct mr_array *x,
                        struct mr_array *scratch, int reps)
{
    double best = 1e30;
    mr_conv2d_forward(c, y, x, scratch); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = mr_clock_now_s();
        mr_conv2d_forward(c, y, x, scratch);
        double t = mr_clock_now_s() - t0;
        best = t < best ? t : best;
    }
    return best;
}

static double max_rel(const struct mr_array *a, const struct mr_array *ref)
{
    const float *p = mr_array_f32(a);
    const float *q = mr_array_f32(ref);
    double mx = 0.0;
    double d = 0.0;
    for (int64_t i = 0; i < mr_array_numel(ref); i++) {
        mx = fmax(mx, fabs((double)q[i]));
        d = fmax(d, fabs((double)p[i] - (double)q[i]));
    }
    return mx > 0.0 ? d / mx : d;
}

int main(int argc, char **argv)
{
    mr_openblas_fix_coretype(argv);
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    int64_t h0 = argc > 3 ? atoll(argv[2]) : 218;
    int64_t w0 = argc > 3 ? atoll(argv[3]) : 170;
    if (reps < 1 || h0 < 1 || w0 < 1) {
        fprintf(stderr, "usage: bench_conv [reps] [H W [MATCH]]\n");
        return 2;
    }
    printf("conv shapes at %lldx%lld (or the level's fraction), best of %d\n\n", (long long)h0,
           (long long)w0, reps);
    printf("| shape | im2col+SGEMM ms | direct ms | Winograd ms | GFLOP/s (best) | "
           "Winograd rel diff |\n|---|---|---|---|---|---|\n");
    for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
        const struct shape *sh = &shapes[si];
        if (argc > 4 && strstr(sh->name, argv[4]) == NULL)
            continue;
        const int64_t h = h0 / sh->down > 0 ? h0 / sh->down : 1;
        const int64_t w = w0 / sh->down > 0 ? w0 / sh->down : 1;
        struct mr_conv2d c = mr_conv2d_make(sh->cin, sh->cout, sh->k, sh->dil * (sh->k - 1) / 2);
        struct mr_array x = { 0 }, y = { 0 }, ref = { 0 }, scratch = { 0 }, wino = { 0 };
        const int64_t nw = sh->cout * sh->cin * sh->k * sh->k;
        float *wt = malloc(sizeof(float) * (size_t)nw);
        float *b = malloc(sizeof(float) * (size_t)sh->cout);
        double t[3] = { NAN, NAN, NAN };
        double diff = NAN;

        if (wt == NULL || b == NULL)
            return 1;
        for (int64_t i = 0; i < nw; i++)
            wt[i] = rnd() / (float)sqrt((double)(sh->cin * sh->k * sh->k));
        for (int64_t i = 0; i < sh->cout; i++)
            b[i] = rnd();
        c.dilation[0] = c.dilation[1] = sh->dil;
        c.pad_mode = sh->mode;
        c.w = wt;
        c.b = b;
        if (mr_conv2d_prepare_winograd(&c, &wino, true) != MR_OK ||
            mr_array_init_dims(&x, MR_DTYPE_F32, 3, sh->cin, h, w) != MR_OK ||
            mr_array_init_dims(&y, MR_DTYPE_F32, 3, sh->cout, h, w) != MR_OK ||
            mr_array_init_dims(&ref, MR_DTYPE_F32, 3, sh->cout, h, w) != MR_OK ||
            mr_array_init_dims(&scratch, MR_DTYPE_F32, 1,
                               mr_conv2d_scratch_size(&c, h, w) + 1) != MR_OK) {
            fprintf(stderr, "bench_conv: %s\n", mr_last_error());
            return 1;
        }
        for (int64_t i = 0; i < mr_array_numel(&x); i++)
            mr_array_f32(&x)[i] = rnd();
        c.algo = MR_CONV2D_ALGO_IM2COL;
        t[0] = time_conv(&c, &ref, &x, &scratch, reps);
        c.algo = MR_CONV2D_ALGO_DIRECT;
        if (mr_conv2d_uses_direct(&c)) {
            t[1] = time_conv(&c, &y, &x, &scratch, reps);
        }
        if (c.wino != NULL) {
            c.algo = MR_CONV2D_ALGO_WINOGRAD;
            t[2] = time_conv(&c, &y, &x, &scratch, reps);
            diff = max_rel(&y, &ref);
        }
        double best = t[0];
        for (int i = 1; i < 3; i++)
            if (!isnan(t[i]) && t[i] < best)
                best = t[i];
        double flops = 2.0 * (double)(sh->cin * sh->cout * sh->k * sh->k) * (double)(h * w);
        printf("| %s | %.2f | %.2f | %.2f | %.0f | %.1e |\n", sh->name, 1e3 * t[0], 1e3 * t[1],
               1e3 * t[2], flops / best * 1e-9, diff);
        mr_array_cleanup(&x);
        mr_array_cleanup(&y);
        mr_array_cleanup(&ref);
        mr_array_cleanup(&scratch);
        mr_array_cleanup(&wino);
        free(wt);
        free(b);
    }
    return 0;
}
