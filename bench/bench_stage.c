/*
 * Streaming-stage benchmark (apps/stage.h): a synthetic 2-D multi-slice Cartesian scan is
 * pushed line by line, as a scanner (or `mrirecon stage`) would, and we time
 *   latency     from the moment the last line of a slice is pushed to its image reaching the
 *               sink (the whole per-slice reconstruction: averaging, coil maps, CG/CS, output)
 *   throughput  slices per second over the whole run, line processing included
 *   line cost   mean time to push one readout (prewhitening, readout oversampling removal)
 *
 * Scan: `coils` coils, matrix size×size with 2× readout oversampling (encoded 2·size × size),
 * R = 2 with 24 embedded calibration lines (PARALLEL_CALIBRATION_AND_IMAGING), one noise scan,
 * LAST_IN_SLICE on each slice's last line. Prints one JSON line. Threads: OMP_NUM_THREADS.
 *
 *   bench_stage [slices=4] [coils=16] [size=320] [method=cg|WEIGHTS.h5] [maps=espirit|acs]
 *               [iters=30]
 * A method ending in .h5 reconstructs with that network (apps/stage_net.c).
 *
 * Build (not part of the default targets): link with mr_apps, e.g.
 *   add_executable(bench_stage bench_stage.c) + target_link_libraries(bench_stage mr_apps)
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/openblas_fix.h"
#include "pipeline/stage.h"
#include "io/ismrmrd.h"
#include "recon/fft.h"
#include "recon/clock.h"

struct timing {
    double last_push; /* when the current slice's last line was pushed */
    double lat_sum;
    double lat_max;
    int images;
};

static mr_status sink(void *ctx, const ISMRMRD_Image *im)
{
    struct timing *t = ctx;
    double lat = mr_clock_now_s() - t->last_push;
    (void)im;
    t->lat_sum += lat;
    if (lat > t->lat_max)
        t->lat_max = lat;
    t->images++;
    return MR_OK;
}

/* coil k-space (nc, ny, ex) of an ellipse phantom seen by smooth coils */
static mr_status make_kspace(int64_t nc, int64_t ny, int64_t ex, int64_t w, float complex *k)
{
    struct mr_fft2 *f = NULL;
    const int64_t x0 = (ex - w) / 2;
    mr_status st = mr_fft2_create(ny, ex, &mr_fft_config_default, &f);
    if (st != MR_OK)
        return st;
    memset(k, 0, sizeof(*k) * (size_t)(nc * ny * ex));
    for (int64_t c = 0; c < nc; c++) {
        double ang = 6.283185307179586 * (double)c / (double)nc;
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < w; x++) {
                double u = (2.0 * (double)y - (double)ny) / (double)ny;
                double v = (2.0 * (double)x - (double)w) / (double)w;
                double obj = (u * u / 0.7 + v * v / 0.5 < 1.0 ? 1.0 : 0.0) +
                             (u * u / 0.05 + (v - 0.2) * (v - 0.2) / 0.03 < 1.0 ? 0.5 : 0.0);
                double d2 = (u - cos(ang)) * (u - cos(ang)) + (v - sin(ang)) * (v - sin(ang));
                double complex s = exp(-d2) * cexp(CMPLX(0.0, 0.5 * (double)c));
                k[(c * ny + y) * ex + x0 + x] = (float complex)(obj * s);
            }
    }
    mr_fft2_forward(f, k, k, nc);
    mr_fft2_free(f);
    return MR_OK;
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    const int slices = argc > 1 ? atoi(argv[1]) : 4;
    const int64_t nc = argc > 2 ? atoi(argv[2]) : 16;
    const int64_t n = argc > 3 ? atoi(argv[3]) : 320;
    const char *method = argc > 4 ? argv[4] : "cg";
    const char *maps = argc > 5 ? argv[5] : "espirit";
    const char *iters = argc > 6 ? argv[6] : "30";
    const int64_t ex = 2 * n;
    const int64_t calib = 24;
    struct mr_stage_config cfg;
    struct mr_stage *stage = NULL;
    struct timing t = { 0 };
    const struct mr_stage_sink sk = { .image = sink, .ctx = &t };
    float complex *k = malloc(sizeof(*k) * (size_t)(nc * n * ex));
    ISMRMRD_Acquisition a;
    char xml[2048];
    mr_status st = MR_OK;
    double push_time = 0.0;
    long lines = 0;

    ismrmrd_init_acquisition(&a);
    mr_stage_config_init(&cfg);
    if (k == NULL || slices < 1 || nc < 1 || n < 32)
        return 2;
    const size_t ml = strlen(method);
    const bool is_net = ml > 3 && strcmp(method + ml - 3, ".h5") == 0;
    if (mr_stage_config_set(&cfg, is_net ? "weights" : "method", method) != MR_OK ||
        mr_stage_config_set(&cfg, "maps", maps) != MR_OK ||
        mr_stage_config_set(&cfg, "iterations", iters) != MR_OK) {
        fprintf(stderr, "bench_stage: %s\n", mr_last_error());
        return 2;
    }
    snprintf(xml, sizeof(xml),
             "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
             "<encodedSpace><matrixSize><x>%lld</x><y>%lld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%lld</x><y>%lld</y><z>5</z></fieldOfView_mm></encodedSpace>"
             "<reconSpace><matrixSize><x>%lld</x><y>%lld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%lld</x><y>%lld</y><z>5</z></fieldOfView_mm></reconSpace>"
             "<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>%lld"
             "</maximum><center>%lld</center></kspace_encoding_step_1></encodingLimits>"
             "<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>",
             (long long)ex, (long long)n, (long long)(2 * n), (long long)n, (long long)n,
             (long long)n, (long long)n, (long long)n, (long long)(n - 1), (long long)(n / 2));
    if ((st = make_kspace(nc, n, ex, n, k)) != MR_OK ||
        (st = mr_stage_create(&cfg, xml, strlen(xml), &sk, &stage)) != MR_OK)
        goto out;

    /* one noise scan */
    a.head.number_of_samples = (uint16_t)ex;
    a.head.active_channels = (uint16_t)nc;
    a.head.sample_time_us = 2.5f;
    a.head.flags = MR_ISMRMRD_FLAG_BIT(ISMRMRD_ACQ_IS_NOISE_MEASUREMENT);
    if (ismrmrd_make_consistent_acquisition(&a) != ISMRMRD_NOERROR)
        goto out;
    uint64_t rng = 12345;
    for (int64_t i = 0; i < nc * ex; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        a.data[i] = (float complex)(1e-3 * ((double)(rng >> 40) / 16777216.0 - 0.5));
    }
    if ((st = mr_stage_push(stage, &a)) != MR_OK)
        goto out;

    const double t0 = mr_clock_now_s();
    for (int sl = 0; sl < slices; sl++) {
        const int64_t last = (n - 1) % 2 == 0 ? n - 1 : n - 2; /* last even row */
        for (int64_t y = 0; y < n; y++) {
            bool cal = y >= n / 2 - calib / 2 && y < n / 2 + calib / 2;
            if (y % 2 != 0 && !cal)
                continue;
            ismrmrd_init_acquisition_header(&a.head);
            a.head.number_of_samples = (uint16_t)ex;
            a.head.active_channels = (uint16_t)nc;
            a.head.center_sample = (uint16_t)(ex / 2);
            a.head.sample_time_us = 2.5f;
            a.head.idx.kspace_encode_step_1 = (uint16_t)y;
            a.head.idx.slice = (uint16_t)sl;
            if (cal)
                a.head.flags |= MR_ISMRMRD_FLAG_BIT(y % 2 == 0
                                                        ? ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING
                                                        : ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION);
            if (y == last)
                a.head.flags |= MR_ISMRMRD_FLAG_BIT(ISMRMRD_ACQ_LAST_IN_SLICE);
            for (int64_t c = 0; c < nc; c++)
                memcpy(a.data + c * ex, k + (c * n + y) * ex, sizeof(*k) * (size_t)ex);
            double tp = mr_clock_now_s();
            if (y == last)
                t.last_push = tp;
            if ((st = mr_stage_push(stage, &a)) != MR_OK)
                goto out;
            if (y != last) {
                push_time += mr_clock_now_s() - tp;
                lines++;
            }
        }
    }
    st = mr_stage_close(stage);
    const double total = mr_clock_now_s() - t0;
    if (st == MR_OK)
        printf("{\"bench\": \"stage\", \"slices\": %d, \"coils\": %lld, \"matrix\": %lld, "
               "\"encoded_x\": %lld, \"accel\": 2, \"calib\": %lld, \"method\": \"%s\", "
               "\"maps\": \"%s\", \"iters\": %s, \"latency_mean_s\": %.4f, "
               "\"latency_max_s\": %.4f, \"slices_per_s\": %.3f, \"line_push_mean_ms\": %.4f, "
               "\"images\": %d}\n",
               slices, (long long)nc, (long long)n, (long long)ex, (long long)calib, method,
               maps, iters, t.images > 0 ? t.lat_sum / t.images : 0.0, t.lat_max,
               (double)slices / total, lines > 0 ? 1e3 * push_time / (double)lines : 0.0,
               t.images);
out:
    if (st != MR_OK)
        fprintf(stderr, "bench_stage: %s\n", mr_last_error());
    mr_stage_free(stage);
    ismrmrd_cleanup_acquisition(&a);
    free(k);
    return st == MR_OK ? 0 : 1;
}
