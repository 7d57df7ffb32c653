/*
 * The machine's measured SGEMM peak: best of `reps` OpenBLAS cblas_sgemm calls on N×N
 * matrices (row-major, no transposes) at OMP_NUM_THREADS threads, with the same OpenBLAS
 * kernel choice as mrirecon (apps/openblas_fix.h). run_all_bench.sh divides each network's
 * conv FLOP/s by it. Prints one JSON line.
 *
 *   bench_sgemm [N] [reps]      (defaults 1536, 5)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "apps/openblas_fix.h"
#include "recon/clock.h"
#include "recon/cpu.h"

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv);
    const int n = argc > 1 ? atoi(argv[1]) : 1536;
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 16 || n > 16384 || reps < 1) {
        fputs("usage: bench_sgemm [N (16..16384)] [reps]\n", stderr);
        return 2;
    }
    const size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof(float));
    float *b = malloc(nn * sizeof(float));
    float *c = malloc(nn * sizeof(float));
    if (a == NULL || b == NULL || c == NULL) {
        fputs("bench_sgemm: out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 7) * 0.25f - 0.75f;
        b[i] = (float)(i % 5) * 0.5f - 1.0f;
    }
    double best = 1e30;
    for (int r = 0; r <= reps; r++) { /* run 0 warms up */
        const double t0 = mr_clock_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        const double t = mr_clock_now_s() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    const double gflops = 2.0 * (double)n * (double)n * (double)n / best * 1e-9;
    char features[256];
    mr_cpu_features_string(features, sizeof features);
    printf("{\"n\": %d, \"best_s\": %.4f, \"gflops\": %.1f, \"openblas_core\": \"%s\", "
           "\"cpu\": \"%s %s\", \"features\": \"%s\", \"isa\": \"%s\"}\n", n, best, gflops,
           openblas_get_corename(), mr_cpu_get()->vendor, mr_cpu_get()->model, features,
           mr_isa_name(mr_cpu_isa()));
    free(a);
    free(b);
    free(c);
    return 0;
}
