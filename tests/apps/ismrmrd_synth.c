/* Synthetic ISMRMRD raw files (see ismrmrd_synth.h). */
#include "ismrmrd_synth.h"

#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ismrmrd.h"
#include "recon/fft.h"

const struct synth synth_default = {
    .nc = 3, .ny = 24, .w = 20, .enc_x = 40, .slices = 1, .averages = 1, .seed = 5, .accel = 1,
};

/* small deterministic generator */
static double rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return (double)(*st >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *st)
{
    double u = rnd(st) + 1e-12;
    double v = rnd(st);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* coil images (nc, ny, enc_x) of slice `sl` */
static void coil_images(const struct synth *s, int sl, float complex *ci)
{
    const int64_t ny = s->ny;
    const int64_t ex = s->enc_x;
    const int64_t x0 = (ex - s->w) / 2;
    uint64_t st = s->seed * 2654435761u + 1;

    memset(ci, 0, sizeof(*ci) * (size_t)(s->nc * ny * ex));
    for (int64_t y = 0; y < ny; y++)
        for (int64_t x = 0; x < s->w; x++) {
            double u = (2.0 * (double)y - (double)ny) / (double)ny;
            double v = (2.0 * (double)x - (double)s->w) / (double)s->w;
            double r2 = u * u / 0.8 + v * v / 0.6;
            double val = r2 < 1.0 ? 1.0 + 0.5 * cos(3.0 * u + 2.0 * v) : 0.05;
            val *= 1.0 + 0.2 * rnd(&st);
            double complex obj = val * cexp(CMPLX(0.0, 0.5 * u)) * (1.0 + (double)sl);
            for (int64_t c = 0; c < s->nc; c++) {
                double ang = 6.283185307179586 * (double)c / (double)s->nc;
                double sens = 1.0 + 0.6 * cos(ang) * u + 0.6 * sin(ang) * v;
                double complex S = sens * cexp(CMPLX(0.0, 0.7 * (double)c + 0.3 * u * (double)c));
                ci[(c * ny + y) * ex + x0 + x] = (float complex)(obj * S);
            }
        }
}

int synth_reference(const struct synth *s, struct mr_array *ref)
{
    const int64_t ny = s->ny;
    const int64_t ex = s->enc_x;
    const int64_t x0 = (ex - s->w) / 2;
    float complex *ci = malloc(sizeof(*ci) * (size_t)(s->nc * ny * ex));

    if (ci == NULL || mr_array_init_dims(ref, MR_DTYPE_F32, 3, (int64_t)s->slices, ny, s->w))
        return -1;
    for (int sl = 0; sl < s->slices; sl++) {
        coil_images(s, sl, ci);
        float *r = mr_array_f32(ref) + (int64_t)sl * ny * s->w;
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < s->w; x++) {
                double acc = 0.0;
                for (int64_t c = 0; c < s->nc; c++) {
                    float complex v = ci[(c * ny + y) * ex + x0 + x];
                    acc += (double)(crealf(v) * crealf(v) + cimagf(v) * cimagf(v));
                }
                r[y * s->w + x] = (float)sqrt(acc);
            }
    }
    free(ci);
    return 0;
}

static char *header_xml(const struct synth *s)
{
    char *x = malloc(4096);
    if (x == NULL)
        return NULL;
    snprintf(x, 4096,
             "<?xml version=\"1.0\"?>\n"
             "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
             " <acquisitionSystemInformation><receiverChannels>%lld</receiverChannels>"
             "</acquisitionSystemInformation>\n"
             " <experimentalConditions><H1resonanceFrequency_Hz>63500000"
             "</H1resonanceFrequency_Hz></experimentalConditions>\n"
             " <encoding>\n"
             "  <encodedSpace><matrixSize><x>%lld</x><y>%lld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%g</x><y>%g</y><z>5</z></fieldOfView_mm></encodedSpace>\n"
             "  <reconSpace><matrixSize><x>%lld</x><y>%lld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%g</x><y>%g</y><z>5</z></fieldOfView_mm></reconSpace>\n"
             "  <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>%lld"
             "</maximum><center>%lld</center></kspace_encoding_step_1>"
             "<slice><minimum>0</minimum><maximum>%d</maximum><center>0</center></slice>"
             "</encodingLimits>\n"
             "  <trajectory>cartesian</trajectory>\n"
             " </encoding>\n"
             "</ismrmrdHeader>\n",
             (long long)s->nc, (long long)s->enc_x, (long long)s->ny, 2.0 * (double)s->w,
             (double)s->ny, (long long)s->w, (long long)s->ny, (double)s->w, (double)s->ny,
             (long long)(s->ny - 1), (long long)(s->ny / 2), s->slices - 1);
    return x;
}

/* the fixed coil-mixing matrix M (nc × nc) */
static void mixing(const struct synth *s, float complex *m)
{
    uint64_t st = 77;
    for (int64_t i = 0; i < s->nc; i++)
        for (int64_t j = 0; j < s->nc; j++)
        {
            double re = (i == j ? 1.0 : 0.0) + 1.2 * (rnd(&st) - 0.5);
            double im = 1.2 * (rnd(&st) - 0.5);
            m[i * s->nc + j] = (float complex)CMPLX(re, im);
        }
}

/* v (nc, n) <- M v */
static void mix(const struct synth *s, const float complex *m, float complex *v, int64_t n)
{
    float complex tmp[16];
    for (int64_t t = 0; t < n; t++) {
        for (int64_t i = 0; i < s->nc; i++) {
            tmp[i] = 0.0f;
            for (int64_t j = 0; j < s->nc; j++)
                tmp[i] += m[i * s->nc + j] * v[j * n + t];
        }
        for (int64_t i = 0; i < s->nc; i++)
            v[i * n + t] = tmp[i];
    }
}

static void set_flag(ISMRMRD_Acquisition *a, int f)
{
    a->head.flags |= MR_ISMRMRD_FLAG_BIT(f);
}

/* Writes acquisition `a` sized to ns samples (data from line (nc, enc_x) per the options). */
static int put_line(struct mr_ismrmrd_writer *wr, const struct synth *s, ISMRMRD_Acquisition *a,
                    const float complex *line, int64_t y, uint64_t *rng)
{
    const int64_t ex = s->enc_x;
    const int64_t a0 = (s->asym > 0 && !s->asym_zero) ? s->asym : 0;
    const int64_t core = ex - a0;
    const int64_t ns = s->discard_pre + core + s->discard_post;
    const bool rev = s->reverse_odd && (y % 2) == 1;

    a->head.number_of_samples = (uint16_t)ns;
    a->head.active_channels = (uint16_t)s->nc;
    a->head.available_channels = (uint16_t)s->nc;
    a->head.discard_pre = (uint16_t)s->discard_pre;
    a->head.discard_post = (uint16_t)s->discard_post;
    /* discards count in acquisition order, the centre in k order (after reversal) */
    a->head.center_sample = (uint16_t)(ex / 2 - a0 + (rev ? s->discard_post : s->discard_pre));
    a->head.sample_time_us = 5.0f;
    if (ismrmrd_make_consistent_acquisition(a) != ISMRMRD_NOERROR)
        return -1;
    for (int64_t c = 0; c < s->nc; c++) {
        float complex *d = a->data + c * ns;
        /* k-ordered samples first, then reversed in place if needed */
        int64_t k = 0;
        int64_t pre = rev ? s->discard_post : s->discard_pre;
        int64_t post = rev ? s->discard_pre : s->discard_post;
        for (int64_t t = 0; t < pre; t++)
            d[k++] = (float complex)(1e3 * gauss(rng));
        for (int64_t t = 0; t < core; t++) {
            int64_t p = a0 + t;
            float complex v = line[c * ex + p];
            if (s->asym_zero && p < s->asym)
                v = 0.0f;
            d[k++] = v;
        }
        for (int64_t t = 0; t < post; t++)
            d[k++] = (float complex)(1e3 * gauss(rng));
        if (rev)
            for (int64_t t = 0; t < ns / 2; t++) {
                float complex tmp = d[t];
                d[t] = d[ns - 1 - t];
                d[ns - 1 - t] = tmp;
            }
    }
    if (rev)
        set_flag(a, ISMRMRD_ACQ_IS_REVERSE);
    return mr_ismrmrd_writer_acquisition(wr, a) == MR_OK ? 0 : -1;
}

static void clear_head(ISMRMRD_Acquisition *a, int64_t y, int sl, int avg, uint32_t *counter)
{
    ismrmrd_init_acquisition_header(&a->head);
    a->head.idx.kspace_encode_step_1 = (uint16_t)y;
    a->head.idx.slice = (uint16_t)sl;
    a->head.idx.average = (uint16_t)avg;
    a->head.scan_counter = (*counter)++;
    a->head.measurement_uid = 4242;
    a->head.position[0] = 1.5f;
    a->head.position[2] = -3.0f + (float)sl;
    a->head.read_dir[0] = 1.0f;
    a->head.phase_dir[1] = 1.0f;
    a->head.slice_dir[2] = 1.0f;
}

int synth_write(const struct synth *s, const char *path)
{
    const int64_t ny = s->ny;
    const int64_t ex = s->enc_x;
    const int64_t n = s->nc * ny * ex;
    struct mr_ismrmrd_writer *wr = NULL;
    struct mr_fft2 *fft = NULL;
    float complex *ksp = malloc(sizeof(*ksp) * (size_t)(n * s->slices));
    float complex *line = malloc(sizeof(*line) * (size_t)(s->nc * ex));
    float complex m[256];
    char *xml = header_xml(s);
    ISMRMRD_Acquisition a;
    uint64_t rng = s->seed + 99;
    uint32_t counter = 0;
    int rc = -1;

    ismrmrd_init_acquisition(&a);
    if (ksp == NULL || line == NULL || xml == NULL || s->nc > 16)
        goto out;
    if (mr_fft2_create(ny, ex, &mr_fft_config_default, &fft) != MR_OK)
        goto out;
    mixing(s, m);
    for (int sl = 0; sl < s->slices; sl++) {
        coil_images(s, sl, ksp + sl * n);
        mr_fft2_forward(fft, ksp + sl * n, ksp + sl * n, s->nc);
    }
    if (mr_ismrmrd_writer_create(path, &wr) != MR_OK || mr_ismrmrd_writer_header(wr, xml))
        goto out;

    for (int i = 0; i < s->noise_lines; i++) {
        clear_head(&a, 0, 0, 0, &counter);
        a.head.number_of_samples = (uint16_t)ex;
        a.head.active_channels = (uint16_t)s->nc;
        a.head.sample_time_us = 5.0f;
        set_flag(&a, ISMRMRD_ACQ_IS_NOISE_MEASUREMENT);
        if (ismrmrd_make_consistent_acquisition(&a) != ISMRMRD_NOERROR)
            goto out;
        for (int64_t k = 0; k < s->nc * ex; k++)
        {
            double re = gauss(&rng);
            double im = gauss(&rng);
            a.data[k] = (float complex)(CMPLX(re, im) / sqrt(2.0));
        }
        if (s->mix)
            mix(s, m, a.data, ex);
        if (mr_ismrmrd_writer_acquisition(wr, &a) != MR_OK)
            goto out;
    }

    for (int i = 0; i < s->waveforms; i++) {
        ISMRMRD_Waveform wav;
        uint32_t data[16];
        ismrmrd_init_waveformheader(&wav.head);
        wav.head.number_of_samples = 8;
        wav.head.channels = 2;
        wav.head.time_stamp = (uint32_t)i;
        wav.head.waveform_id = 1;
        for (int k = 0; k < 16; k++)
            data[k] = (uint32_t)(100 * i + k);
        wav.data = data;
        if (mr_ismrmrd_writer_waveform(wr, &wav) != MR_OK)
            goto out;
    }

    const int64_t c0 = ny / 2 - s->calib / 2;
    const int64_t c1 = c0 + s->calib;
    if (s->calib > 0 && s->calib_separate)
        for (int sl = 0; sl < s->slices; sl++)
            for (int64_t y = c0; y < c1; y++) {
                clear_head(&a, y, sl, 0, &counter);
                set_flag(&a, ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION);
                for (int64_t c = 0; c < s->nc; c++)
                    memcpy(line + c * ex, ksp + sl * n + (c * ny + y) * ex,
                           sizeof(*line) * (size_t)ex);
                if (s->mix)
                    mix(s, m, line, ex);
                if (put_line(wr, s, &a, line, y, &rng) != 0)
                    goto out;
            }

    /* the last written imaging row of each slice carries LAST_IN_SLICE */
    int64_t last_y = -1;
    for (int64_t y = 0; y < ny; y++) {
        bool in_cal = s->calib > 0 && y >= c0 && y < c1;
        bool on_grid = y % s->accel == 0;
        bool omitted = y < s->pf_rows && !s->pf_zero;
        if (!omitted && (on_grid || (in_cal && !s->calib_separate)))
            last_y = y;
    }
    for (int avg = 0; avg < s->averages; avg++)
        for (int64_t y = 0; y < ny; y++) {
            bool in_cal = s->calib > 0 && y >= c0 && y < c1;
            bool on_grid = y % s->accel == 0;
            if (y < s->pf_rows && !s->pf_zero)
                continue;
            if (!on_grid && !(in_cal && !s->calib_separate))
                continue;
            for (int sl = 0; sl < s->slices; sl++) {
                if (s->junk_lines) {
                    static const int junk[] = { ISMRMRD_ACQ_IS_NAVIGATION_DATA,
                                                ISMRMRD_ACQ_IS_PHASECORR_DATA,
                                                ISMRMRD_ACQ_IS_DUMMYSCAN_DATA };
                    for (int j = 0; j < 3; j++) {
                        clear_head(&a, (y * 7 + j) % ny, sl, 0, &counter);
                        set_flag(&a, junk[j]);
                        for (int64_t k = 0; k < s->nc * ex; k++)
                            line[k] = (float complex)(1e3 * gauss(&rng));
                        if (put_line(wr, s, &a, line, y, &rng) != 0)
                            goto out;
                    }
                }
                clear_head(&a, y, sl, avg, &counter);
                if (in_cal && !s->calib_separate)
                    set_flag(&a, on_grid ? ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING
                                         : ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION);
                if (avg == s->averages - 1 && y == last_y)
                    set_flag(&a, ISMRMRD_ACQ_LAST_IN_SLICE);
                for (int64_t c = 0; c < s->nc; c++)
                    for (int64_t x = 0; x < ex; x++) {
                        float complex v = ksp[sl * n + (c * ny + y) * ex + x];
                        if (y < s->pf_rows)
                            v = 0.0f;
                        if (s->averages == 2) { /* the same e in both averages */
                            float complex e = (float complex)(
                                0.5 * cexp(CMPLX(0.0, 1.3 * (double)x + 2.1 * (double)y +
                                                         0.7 * (double)c + (double)sl)));
                            v += avg == 0 ? e : -e;
                        }
                        line[c * ex + x] = v;
                    }
                if (s->mix)
                    mix(s, m, line, ex);
                if (put_line(wr, s, &a, line, y, &rng) != 0)
                    goto out;
            }
        }
    rc = mr_ismrmrd_writer_commit(wr) == MR_OK ? 0 : -1;
    wr = NULL;
out:
    mr_ismrmrd_writer_free(wr);
    mr_fft2_free(fft);
    ismrmrd_cleanup_acquisition(&a);
    free(ksp);
    free(line);
    free(xml);
    return rc;
}

void synth_read_images(const char *path, const char *group, struct mr_array *vol,
                       ISMRMRD_ImageHeader *heads, uint32_t max_heads)
{
    struct mr_ismrmrd_file *f = NULL;
    ISMRMRD_Image im;

    if (mr_ismrmrd_open(path, &f) != MR_OK)
        fail_msg("%s", mr_last_error());
    uint32_t n = mr_ismrmrd_image_count(f, group);
    assert_true(n >= 1);
    ismrmrd_init_image(&im);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(mr_ismrmrd_read_image(f, group, i, &im), MR_OK);
        assert_int_equal(im.head.data_type, ISMRMRD_FLOAT);
        const int64_t nx = im.head.matrix_size[0];
        const int64_t ny = im.head.matrix_size[1];
        if (i == 0)
            assert_int_equal(mr_array_init_dims(vol, MR_DTYPE_F32, 3, (int64_t)n, ny, nx), MR_OK);
        assert_int_equal(nx, vol->dims[2]);
        assert_int_equal(ny, vol->dims[1]);
        memcpy(mr_array_f32(vol) + (int64_t)i * nx * ny, im.data,
               sizeof(float) * (size_t)(nx * ny));
        if (heads != NULL && i < max_heads)
            heads[i] = im.head;
    }
    ismrmrd_cleanup_image(&im);
    mr_ismrmrd_close(f);
}

void synth_volume_config(const struct mr_stage_config *cfg, struct mr_volume_config *v)
{
    mr_volume_config_init(v);
    v->method = cfg->method;
    v->image_series_index = cfg->image_series_index;
}

const char *const synth_xml_2d =
    "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
    "<encodedSpace><matrixSize><x>16</x><y>8</y><z>1</z></matrixSize></encodedSpace>"
    "<reconSpace><matrixSize><x>16</x><y>8</y><z>1</z></matrixSize></reconSpace>"
    "<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>7</maximum>"
    "<center>4</center></kspace_encoding_step_1></encodingLimits>"
    "<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>";
