/*
 * Example: a program linked against the installed libmrirecon through <mrirecon/mrirecon.h>.
 *
 *   mrirecon-example                        a synthetic 4-coil slice: an undersampling mask,
 *                                           zero-filled and CG-SENSE reconstructions, their
 *                                           NMSE / PSNR / SSIM against the truth
 *   mrirecon-example IN.h5 OUT.png [METHOD] then also a whole file (METHOD default "cs", or a
 *                                           network weight file)
 *
 * Build against an installation in PREFIX, with pkg-config or with CMake:
 *   cc -std=c11 reconstruct.c $(pkg-config --cflags --libs mrirecon) -lm -o mrirecon-example
 *   cmake -S . -B build -DCMAKE_PREFIX_PATH=PREFIX && cmake --build build
 * Exit status: 0 when CG-SENSE beats zero-filling on the synthetic slice and the file (if
 * given) was reconstructed, 1 otherwise.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mrirecon/mrirecon.h>

enum { NC = 4, H = 48, W = 40 };

static int fail(const char *what)
{
    fprintf(stderr, "mrirecon-example: %s: %s\n", what, mrirecon_last_error());
    return 1;
}

/* In place along n values of stride s: the centred orthonormal DFT,
 * X[u] = n^-1/2 Σ_t x[t] exp(-2πi (u - n/2)(t - n/2) / n). */
static void dft_line(float complex *x, int n, int s)
{
    float complex tmp[H > W ? H : W];
    const double pi = 3.14159265358979323846;
    for (int u = 0; u < n; u++) {
        double complex acc = 0;
        for (int t = 0; t < n; t++)
            acc += (double complex)x[t * s] *
                   cexp(CMPLX(0.0, -2.0 * pi * (u - n / 2) * (t - n / 2) / n));
        tmp[u] = (float complex)(acc / sqrt(n));
    }
    for (int u = 0; u < n; u++)
        x[u * s] = tmp[u];
}

/* The truth (H, W): two nested ellipses; k-space (NC, H, W): the centred 2-D DFT of the image
 * seen by each of NC coils with smooth, RSS-normalised sensitivities at the corners. */
static void make_slice(float *truth, float complex *ksp)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double ey = (y - H / 2) / (0.42 * H);
            double ex = (x - W / 2) / (0.36 * W);
            double r = ey * ey + ex * ex;
            truth[y * W + x] = (float)(r < 1.0 ? (r < 0.25 ? 1.0 : 0.6) : 0.0);
        }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double s[NC];
            double norm = 0.0;
            for (int c = 0; c < NC; c++) {
                double cy = (c & 1) ? H : 0;
                double cx = (c & 2) ? W : 0;
                double d2 = ((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (0.5 * H * W);
                s[c] = exp(-d2);
                norm += s[c] * s[c];
            }
            for (int c = 0; c < NC; c++)
                ksp[(c * H + y) * W + x] = (float)(s[c] / sqrt(norm)) * truth[y * W + x];
        }
    for (int c = 0; c < NC; c++) {
        float complex *k = ksp + c * H * W;
        for (int y = 0; y < H; y++)
            dft_line(k + y * W, W, 1);
        for (int x = 0; x < W; x++)
            dft_line(k + x, H, W);
    }
}

/* Reconstructs ksp with `spec` and scores it against the truth. */
static int reconstruct(const char *spec, const float complex *ksp, const float *mask,
                       const float *truth, struct mrirecon_metrics *score)
{
    struct mrirecon_method *m = NULL;
    float image[H * W];

    if (mrirecon_method_create(spec, NC, H, W, &m) != MRIRECON_OK)
        return fail(spec);
    mrirecon_status st = mrirecon_method_run(m, (const float *)ksp, mask, NULL, image);
    if (st == MRIRECON_OK)
        st = mrirecon_metrics_fastmri(truth, image, 1, H, W, score);
    if (st == MRIRECON_OK)
        printf("%-6s (%s): NMSE %.4f  PSNR %.2f dB  SSIM %.4f\n", spec, mrirecon_method_label(m),
               score->nmse, score->psnr, score->ssim);
    mrirecon_method_free(m);
    return st == MRIRECON_OK ? 0 : fail(spec);
}

int main(int argc, char *argv[])
{
    static float truth[H * W];
    static float complex ksp[NC * H * W];
    static float mask[H * W];
    struct mrirecon_mask_info info;
    struct mrirecon_metrics zf;
    struct mrirecon_metrics cg;

    printf("libmrirecon %s (header %s)\n", mrirecon_version(), MRIRECON_VERSION_STRING);
    if (mrirecon_version_number() / 10000 != MRIRECON_VERSION_MAJOR) {
        fprintf(stderr, "mrirecon-example: library major version differs from the header's\n");
        return 1;
    }
    make_slice(truth, ksp);
    if (mrirecon_mask_generate("equispaced-fraction:accel=3,center=0.2", H, W, NULL, mask,
                               &info) != MRIRECON_OK)
        return fail("mask");
    printf("mask: %lld columns sampled, acceleration %.1f\n", (long long)info.points,
           info.accel);
    for (int c = 0; c < NC; c++)
        for (int i = 0; i < H * W; i++)
            ksp[c * H * W + i] *= mask[i];
    if (reconstruct("zf", ksp, mask, truth, &zf) != 0 || reconstruct("cg", ksp, mask, truth, &cg))
        return 1;
    if (!(cg.nmse < zf.nmse)) {
        fprintf(stderr, "mrirecon-example: CG-SENSE (NMSE %.4f) is not better than zero-filled "
                "(%.4f)\n", cg.nmse, zf.nmse);
        return 1;
    }
    if (argc >= 3) {
        const char *spec = argc >= 4 ? argv[3] : "cs";
        int64_t images = 0;
        if (mrirecon_volume_reconstruct(spec, argv[1], argv[2], NULL, &images) != MRIRECON_OK)
            return fail(argv[1]);
        printf("%s: %lld images with %s -> %s\n", argv[1], (long long)images, spec, argv[2]);
    }
    return 0;
}
