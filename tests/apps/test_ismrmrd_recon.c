/* apps/ismrmrd_recon + apps/stage + io/ismrmrd on real ISMRMRD files: files written by
 * ismrmrd_generate_cartesian_shepp_logan (noise scans, embedded calibration, readout
 * oversampling, several coils, with and without acceleration, repetitions) reconstruct to the
 * phantom it stores; zf agrees with ismrmrd_recon_cartesian_2d up to its FFT scaling; files
 * written here with the ISMRMRD C API take every acquisition route of the stage (prewhitening,
 * separate and embedded calibration, reversed lines, partial Fourier and asymmetric echo
 * zero-filled in place, discard_pre/post, navigator/phase-correction/dummy lines, averages,
 * several slices, LAST_IN_SLICE streaming); image headers; PNG/NIfTI outputs; errors. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/stage.h"
#include "pipeline/volume.h"
#include "io/ismrmrd.h"
#include "ismrmrd_synth.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static void generate(const char *path, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "ismrmrd_generate_cartesian_shepp_logan -o '%s' %s >/dev/null",
             path, args);
    remove(path);
    assert_int_equal(system(cmd), 0);
}

/* Reads every image of /dataset/<group> into vol (n, ny, nx) F32; heads may be NULL. */
/* ||a s - b|| / ||b|| with the least-squares scale s (a and b of the same size). */
static double nrmse_scaled(const float *a, const float *b, int64_t n)
{
    double ab = 0.0;
    double aa = 0.0;
    double bb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        ab += (double)a[i] * (double)b[i];
        aa += (double)a[i] * (double)a[i];
        bb += (double)b[i] * (double)b[i];
    }
    double s = aa > 0.0 ? ab / aa : 0.0;
    double e = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = s * (double)a[i] - (double)b[i];
        e += d * d;
    }
    return sqrt(e / bb);
}

/* |phantom| · sqrt(Σ_c |csm_c|²) as stored by the generator, (m, m) F32. */
static void generator_reference(const char *path, struct mr_array *ref)
{
    ISMRMRD_Dataset d;
    ISMRMRD_NDArray ph;
    ISMRMRD_NDArray csm;

    assert_int_equal(ismrmrd_init_dataset(&d, path, "/dataset"), ISMRMRD_NOERROR);
    assert_int_equal(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    ismrmrd_init_ndarray(&ph);
    ismrmrd_init_ndarray(&csm);
    assert_int_equal(ismrmrd_read_array(&d, "phantom", 0, &ph), ISMRMRD_NOERROR);
    assert_int_equal(ismrmrd_read_array(&d, "csm", 0, &csm), ISMRMRD_NOERROR);
    assert_int_equal(ph.data_type, ISMRMRD_CXFLOAT);
    const int64_t m = (int64_t)ph.dims[0];
    const int64_t nc = (int64_t)csm.dims[2];
    assert_int_equal(mr_array_init_dims(ref, MR_DTYPE_F32, 2, m, m), MR_OK);
    const float complex *p = ph.data;
    const float complex *s = csm.data;
    float *r = mr_array_f32(ref);
    for (int64_t i = 0; i < m * m; i++) {
        double acc = 0.0;
        for (int64_t c = 0; c < nc; c++)
            acc += (double)(cabsf(s[c * m * m + i]) * cabsf(s[c * m * m + i]));
        r[i] = cabsf(p[i]) * (float)sqrt(acc);
    }
    ismrmrd_cleanup_ndarray(&ph);
    ismrmrd_cleanup_ndarray(&csm);
    ismrmrd_close_dataset(&d);
}

static struct mr_stage_config method_config(enum mr_classic_method m)
{
    struct mr_stage_config cfg;
    mr_stage_config_init(&cfg);
    assert_int_equal(mr_stage_config_set(&cfg, "method", mr_classic_method_name(m)), MR_OK);
    return cfg;
}

/* The ISMRMRD file path of pipeline/volume.h with the stage's method and series. */
static mr_status mr_ismrmrd_recon_file(const struct mr_stage_config *cfg, const char *in,
                                       const char *out)
{
    struct mr_volume_config v;
    synth_volume_config(cfg, &v);
    return mr_volume_reconstruct_ismrmrd(&v, in, out, NULL);
}

/* Reconstructs `in` into tmp "<name>.h5" and reads the images back. */
static void recon_images(const struct mr_stage_config *cfg, const char *in, const char *name,
                         struct mr_array *vol, ISMRMRD_ImageHeader *heads, uint32_t max_heads)
{
    char *out = mr_test_tmp_dup(name);
    mr_status st = mr_ismrmrd_recon_file(cfg, in, out);
    if (st != MR_OK)
        fail_msg("recon of '%s' failed: %s", in, mr_last_error());
    synth_read_images(out, "image_0", vol, heads, max_heads);
    free(out);
}

/* ---- generator files ---------------------------------------------------------------------- */

static void check_generator_file(const char *args, enum mr_classic_method m, int nimages,
                                 double tol)
{
    char *in = mr_test_tmp_dup("gen.h5");
    struct mr_array ref = { 0 };
    struct mr_array vol = { 0 };
    struct mr_stage_config cfg = method_config(m);

    generate(in, args);
    generator_reference(in, &ref);
    recon_images(&cfg, in, "gen_out.h5", &vol, NULL, 0);
    assert_int_equal(vol.dims[0], nimages);
    assert_int_equal(vol.dims[1], ref.dims[0]);
    assert_int_equal(vol.dims[2], ref.dims[1]);
    for (int64_t i = 0; i < vol.dims[0]; i++) {
        double e = nrmse_scaled(mr_array_f32(&vol) + i * ref.dims[0] * ref.dims[1],
                                mr_array_f32(&ref), mr_array_numel(&ref));
        if (!(e < tol))
            fail_msg("%s, %s, image %lld: nrmse vs phantom %.4f >= %.4f", args,
                     mr_classic_method_name(m), (long long)i, e, tol);
    }
    mr_array_cleanup(&ref);
    mr_array_cleanup(&vol);
    free(in);
}

static void test_generator_fully_sampled_with_noise_scan_zf(void **state)
{
    (void)state;
    /* zf: the RSS of the noise biases the background a little */
    check_generator_file("-m 32 -c 4 -O 2 -C -n 0.005", MR_CLASSIC_ZF, 1, 0.06);
}

static void test_generator_fully_sampled_cg_and_sense(void **state)
{
    (void)state;
    check_generator_file("-m 32 -c 4 -O 2 -n 0.005", MR_CLASSIC_SENSE, 1, 0.05);
    check_generator_file("-m 32 -c 4 -O 2 -n 0.005 -r 2", MR_CLASSIC_CG, 2, 0.05);
}

static void test_generator_accelerated_with_embedded_calibration_cg(void **state)
{
    (void)state;
    /* R = 2 with 12 calibration lines, each of the two interleaves is its own repetition */
    check_generator_file("-m 32 -c 4 -O 2 -a 2 -w 12 -C -n 0.005", MR_CLASSIC_CG, 2, 0.08);
}

static void test_zf_agrees_with_ismrmrd_recon_cartesian_2d(void **state)
{
    char *in = mr_test_tmp_dup("cart2d.h5");
    char *copy = mr_test_tmp_dup("cart2d_copy.h5");
    char cmd[4096];
    struct mr_array ours = { 0 };
    struct mr_array theirs = { 0 };
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    (void)state;

    /* one coil: the tool reconstructs channel 0 only */
    generate(in, "-m 32 -c 1 -O 2 -n 0.05");
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && ismrmrd_recon_cartesian_2d '%s' >/dev/null", in,
             copy, copy);
    assert_int_equal(system(cmd), 0);
    synth_read_images(copy, "cpp", &theirs, NULL, 0); /* it appends its image to the copy */
    recon_images(&cfg, in, "cart2d_out.h5", &ours, NULL, 0);
    assert_int_equal(mr_array_numel(&ours), mr_array_numel(&theirs));
    /* their inverse FFT is unnormalised; ours is orthonormal over the encoded 64 x 32 */
    float *o = mr_array_f32(&ours);
    for (int64_t i = 0; i < mr_array_numel(&ours); i++)
        o[i] *= sqrtf(64.0f * 32.0f);
    assert_max_rel_below(&ours, &theirs, 1e-4);
    mr_array_cleanup(&ours);
    mr_array_cleanup(&theirs);
    free(in);
    free(copy);
}

/* ---- synthetic routes --------------------------------------------------------------------- */

/* zf of the file written with s, every image, into vol. */
static void synth_zf(const struct synth *s, const char *name, struct mr_array *vol)
{
    char *in = mr_test_tmp_dup(name);
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    assert_int_equal(synth_write(s, in), 0);
    recon_images(&cfg, in, "synth_out.h5", vol, NULL, 0);
    free(in);
}

static void test_synthetic_plain_zf_is_exact(void **state)
{
    struct synth s = synth_default;
    struct mr_array ref = { 0 };
    struct mr_array vol = { 0 };
    (void)state;

    synth_zf(&s, "plain.h5", &vol);
    assert_int_equal(synth_reference(&s, &ref), 0);
    assert_int_equal(vol.dims[1], s.ny);
    assert_int_equal(vol.dims[2], s.w);
    assert_nrmse_below(&vol, &ref, 1e-5);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&vol);
}

/* Two synthetic variants must give the same zf images. */
static void check_same_zf(const struct synth *a, const struct synth *b, double tol)
{
    struct mr_array va = { 0 };
    struct mr_array vb = { 0 };
    synth_zf(a, "a.h5", &va);
    synth_zf(b, "b.h5", &vb);
    assert_true(mr_array_same_shape(&va, &vb));
    assert_nrmse_below(&va, &vb, tol);
    mr_array_cleanup(&va);
    mr_array_cleanup(&vb);
}

static void test_synthetic_reversed_lines(void **state)
{
    struct synth a = synth_default;
    struct synth b = synth_default;
    (void)state;
    b.reverse_odd = true;
    check_same_zf(&a, &b, 1e-6);
    b.discard_pre = 3; /* reversed and discarded samples together */
    b.discard_post = 2;
    check_same_zf(&a, &b, 1e-6);
}

static void test_synthetic_discard_and_skipped_lines(void **state)
{
    struct synth a = synth_default;
    struct synth b = synth_default;
    (void)state;
    b.discard_pre = 4;
    b.discard_post = 3;
    b.junk_lines = true; /* navigator, phase-correction and dummy lines full of junk */
    check_same_zf(&a, &b, 1e-6);
}

static void test_synthetic_partial_fourier_and_asymmetric_echo_zero_filled(void **state)
{
    struct synth a = synth_default;
    struct synth b = synth_default;
    (void)state;
    a.pf_rows = 6; /* rows written as zeros */
    a.pf_zero = true;
    b.pf_rows = 6; /* rows never acquired */
    check_same_zf(&a, &b, 1e-6);
    a = synth_default;
    b = synth_default;
    a.asym = 9;
    a.asym_zero = true;
    b.asym = 9; /* readouts of 31 samples with center_sample 11 */
    check_same_zf(&a, &b, 1e-6);
}

static void test_synthetic_averages_combined(void **state)
{
    struct synth a = synth_default;
    struct synth b = synth_default;
    (void)state;
    b.averages = 2; /* K + e and K - e */
    check_same_zf(&a, &b, 1e-5);
}

static void test_synthetic_noise_prewhitening(void **state)
{
    struct synth s = synth_default;
    struct mr_array ref = { 0 };
    struct mr_array vol = { 0 };
    (void)state;

    assert_int_equal(synth_reference(&s, &ref), 0);
    /* data = M K: the RSS of mixed coils is not the RSS of the originals ... */
    s.mix = true;
    synth_zf(&s, "mixed.h5", &vol);
    double raw = mr_test_nrmse(&vol, &ref);
    mr_array_cleanup(&vol);
    /* ... but after whitening with noise scans of covariance M M^H, L^-1 M is unitary */
    s.noise_lines = 64;
    synth_zf(&s, "whitened.h5", &vol);
    double white = mr_test_nrmse(&vol, &ref);
    if (!(white < 0.03 && raw > 0.1))
        fail_msg("nrmse without whitening %.4f (expected > 0.1), with %.4f (expected < 0.03)",
                 raw, white);
    mr_array_cleanup(&vol);
    mr_array_cleanup(&ref);
}

static void check_calibration(bool separate, enum mr_maps_source maps, double tol)
{
    struct synth s = synth_default;
    struct mr_array ref = { 0 };
    struct mr_array vol = { 0 };
    struct mr_stage_config cfg = method_config(MR_CLASSIC_CG);
    char *in = mr_test_tmp_dup("calib.h5");

    s.nc = 6; /* R = 2 along 24 rows is well conditioned with 6 coils */
    s.accel = 2;
    s.calib = 12;
    s.calib_separate = separate;
    cfg.method.maps = maps;
    assert_int_equal(mr_stage_config_set(&cfg, "iterations", "50"), MR_OK);
    assert_int_equal(synth_write(&s, in), 0);
    assert_int_equal(synth_reference(&s, &ref), 0);
    recon_images(&cfg, in, "calib_out.h5", &vol, NULL, 0);
    double e = nrmse_scaled(mr_array_f32(&vol), mr_array_f32(&ref), mr_array_numel(&ref));
    if (!(e < tol))
        fail_msg("calibration %s, maps %s: nrmse %.4f >= %.4f",
                 separate ? "separate" : "embedded", mr_maps_source_name(maps), e, tol);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&vol);
    free(in);
}

static void test_synthetic_calibration_separate_and_embedded(void **state)
{
    (void)state;
    check_calibration(true, MR_MAPS_ESPIRIT, 0.08);
    check_calibration(false, MR_MAPS_ESPIRIT, 0.08);
    check_calibration(true, MR_MAPS_ACS, 0.08);
}

static void test_synthetic_slices_and_image_headers(void **state)
{
    struct synth s = synth_default;
    struct mr_array ref = { 0 };
    struct mr_array vol = { 0 };
    ISMRMRD_ImageHeader heads[2];
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    char *in = mr_test_tmp_dup("slices.h5");
    (void)state;

    s.slices = 2;
    cfg.image_series_index = 0;
    assert_int_equal(synth_write(&s, in), 0);
    assert_int_equal(synth_reference(&s, &ref), 0);
    recon_images(&cfg, in, "slices_out.h5", &vol, heads, 2);
    assert_int_equal(vol.dims[0], 2);
    assert_nrmse_below(&vol, &ref, 1e-5);
    for (int i = 0; i < 2; i++) {
        const ISMRMRD_ImageHeader *h = &heads[i];
        assert_int_equal(h->slice, i);
        assert_int_equal(h->matrix_size[0], s.w);
        assert_int_equal(h->matrix_size[1], s.ny);
        assert_int_equal(h->matrix_size[2], 1);
        assert_int_equal(h->channels, 1);
        assert_int_equal(h->image_type, ISMRMRD_IMTYPE_MAGNITUDE);
        assert_int_equal(h->image_index, i + 1);
        assert_int_equal(h->image_series_index, 0);
        assert_int_equal(h->repetition, 0);
        assert_int_equal(h->contrast, 0);
        assert_int_equal(h->measurement_uid, 4242);
        assert_true(h->field_of_view[0] == (float)s.w && h->field_of_view[1] == (float)s.ny &&
                    h->field_of_view[2] == 5.0f);
        assert_true(h->position[0] == 1.5f && h->position[2] == -3.0f + (float)i);
        assert_true(h->read_dir[0] == 1.0f && h->phase_dir[1] == 1.0f && h->slice_dir[2] == 1.0f);
    }
    mr_array_cleanup(&ref);
    mr_array_cleanup(&vol);
    free(in);
}

/* ---- streaming through the stage directly --------------------------------------------------- */

static mr_status count_image(void *ctx, const ISMRMRD_Image *im)
{
    (void)im;
    (*(int *)ctx)++;
    return MR_OK;
}

static void test_stage_emits_each_slice_at_its_last_line(void **state)
{
    struct synth s = synth_default;
    char *in = mr_test_tmp_dup("stream_slices.h5");
    struct mr_ismrmrd_file *f = NULL;
    struct mr_stage *stage = NULL;
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    int images = 0;
    const struct mr_stage_sink sink = { .image = count_image, .ctx = &images };
    ISMRMRD_Acquisition acq;
    (void)state;

    s.slices = 3;
    assert_int_equal(synth_write(&s, in), 0);
    assert_int_equal(mr_ismrmrd_open(in, &f), MR_OK);
    size_t len = 0;
    const char *xml = mr_ismrmrd_xml(f, &len);
    assert_int_equal(mr_stage_create(&cfg, xml, len, &sink, &stage), MR_OK);
    ismrmrd_init_acquisition(&acq);
    uint32_t n = mr_ismrmrd_acquisition_count(f);
    int seen_last = 0;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(mr_ismrmrd_read_acquisition(f, i, &acq), MR_OK);
        assert_int_equal(mr_stage_push(stage, &acq), MR_OK);
        if (MR_ISMRMRD_FLAG(acq.head.flags, ISMRMRD_ACQ_LAST_IN_SLICE)) {
            seen_last++;
            /* the slice left at once; the others are still open */
            assert_int_equal(images, seen_last);
            assert_int_equal(mr_stage_open_slices(stage), 3 - seen_last);
        }
    }
    assert_int_equal(mr_stage_close(stage), MR_OK);
    assert_int_equal(images, 3);
    ismrmrd_cleanup_acquisition(&acq);
    mr_stage_free(stage);
    mr_ismrmrd_close(f);
    free(in);
}

/* ---- outputs and errors ------------------------------------------------------------------- */

static void test_png_and_nifti_outputs(void **state)
{
    struct synth s = synth_default;
    char *in = mr_test_tmp_dup("out_formats.h5");
    char *png = mr_test_tmp_dup("sub/out.png");
    char *nii = mr_test_tmp_dup("out.nii");
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    struct stat sb;
    (void)state;

    s.slices = 2;
    assert_int_equal(synth_write(&s, in), 0);
    assert_int_equal(mr_ismrmrd_recon_file(&cfg, in, png), MR_OK);
    assert_int_equal(stat(png, &sb), 0);
    assert_true(sb.st_size > 0);
    assert_int_equal(mr_ismrmrd_recon_file(&cfg, in, nii), MR_OK);
    assert_int_equal(stat(nii, &sb), 0);
    assert_int_equal(sb.st_size, 352 + 2 * s.ny * s.w * 4);
    free(in);
    free(png);
    free(nii);
}

static void test_probe_and_errors(void **state)
{
    struct synth s = synth_default;
    char *in = mr_test_tmp_dup("probe.h5");
    char *txt = mr_test_tmp_dup("not_hdf5.h5");
    char *out = mr_test_tmp_dup("err_out.h5");
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    bool yes = false;
    (void)state;

    assert_int_equal(synth_write(&s, in), 0);
    assert_int_equal(mr_ismrmrd_probe(in, &yes), MR_OK);
    assert_true(yes);
    assert_int_equal(mr_ismrmrd_probe(mr_test_data("io/fastmri_multicoil.h5"), &yes), MR_OK);
    assert_false(yes);
    FILE *fp = fopen(txt, "w");
    assert_non_null(fp);
    fputs("plain text\n", fp);
    fclose(fp);
    assert_int_equal(mr_ismrmrd_probe(txt, &yes), MR_OK);
    assert_false(yes);
    assert_int_equal(mr_ismrmrd_probe(mr_test_tmp("missing.h5"), &yes), MR_ERR_IO);

    assert_int_equal(mr_ismrmrd_recon_file(&cfg, mr_test_data("io/fastmri_multicoil.h5"), out),
                     MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "not an ISMRMRD file"));
    assert_int_equal(mr_ismrmrd_recon_file(&cfg, in, mr_test_tmp("out.txt")), MR_ERR_ARG);
    struct stat sb;
    assert_int_not_equal(stat(out, &sb), 0); /* nothing left behind */
    free(in);
    free(txt);
    free(out);
}

static const char *xml_3d =
    "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
    "<encodedSpace><matrixSize><x>16</x><y>8</y><z>4</z></matrixSize></encodedSpace>"
    "<reconSpace><matrixSize><x>16</x><y>8</y><z>4</z></matrixSize></reconSpace>"
    "<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>";

static void test_stage_rejects_bad_geometry_and_lines(void **state)
{
    struct mr_stage *stage = NULL;
    struct mr_stage_config cfg = method_config(MR_CLASSIC_ZF);
    int images = 0;
    const struct mr_stage_sink sink = { .image = count_image, .ctx = &images };
    ISMRMRD_Acquisition acq;
    (void)state;

    assert_int_equal(mr_stage_create(&cfg, xml_3d, strlen(xml_3d), &sink, &stage),
                     MR_ERR_UNSUPPORTED);
    assert_int_equal(mr_stage_create(&cfg, "<nonsense", 9, &sink, &stage), MR_ERR_FORMAT);
    assert_int_equal(mr_stage_create(&cfg, synth_xml_2d, strlen(synth_xml_2d), &sink, &stage), MR_OK);

    ismrmrd_init_acquisition(&acq);
    acq.head.number_of_samples = 16;
    acq.head.active_channels = 2;
    acq.head.center_sample = 8;
    assert_int_equal(ismrmrd_make_consistent_acquisition(&acq), ISMRMRD_NOERROR);
    memset(acq.data, 0, 16 * 2 * sizeof(*acq.data));
    acq.head.idx.kspace_encode_step_1 = 3;
    assert_int_equal(mr_stage_push(stage, &acq), MR_OK);
    acq.head.idx.kspace_encode_step_1 = 8; /* row 8 of 8 */
    assert_int_equal(mr_stage_push(stage, &acq), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "outside"));
    acq.head.idx.kspace_encode_step_1 = 2;
    acq.head.active_channels = 3; /* the channel count changes */
    assert_int_equal(ismrmrd_make_consistent_acquisition(&acq), ISMRMRD_NOERROR);
    assert_int_equal(mr_stage_push(stage, &acq), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "channels"));
    acq.head.active_channels = 0;
    assert_int_equal(mr_stage_push(stage, &acq), MR_ERR_FORMAT);
    mr_stage_free(stage);
    stage = NULL;

    /* a matrix too large to buffer fails at the first acquisition, and so do later ones */
    char huge[1024];
    snprintf(huge, sizeof(huge),
             "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
             "<encodedSpace><matrixSize><x>16384</x><y>16384</y><z>1</z></matrixSize>"
             "</encodedSpace><reconSpace><matrixSize><x>16384</x><y>16384</y><z>1</z>"
             "</matrixSize></reconSpace></encoding></ismrmrdHeader>");
    assert_int_equal(mr_stage_create(&cfg, huge, strlen(huge), &sink, &stage), MR_OK);
    acq.head.active_channels = 2;
    assert_int_equal(ismrmrd_make_consistent_acquisition(&acq), ISMRMRD_NOERROR);
    assert_int_equal(mr_stage_push(stage, &acq), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "over the limit"));
    assert_int_equal(mr_stage_push(stage, &acq), MR_ERR_ARG);
    assert_int_equal(mr_stage_close(stage), MR_OK);
    assert_int_equal(images, 0);
    ismrmrd_cleanup_acquisition(&acq);
    mr_stage_free(stage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_fully_sampled_with_noise_scan_zf),
        cmocka_unit_test(test_generator_fully_sampled_cg_and_sense),
        cmocka_unit_test(test_generator_accelerated_with_embedded_calibration_cg),
        cmocka_unit_test(test_zf_agrees_with_ismrmrd_recon_cartesian_2d),
        cmocka_unit_test(test_synthetic_plain_zf_is_exact),
        cmocka_unit_test(test_synthetic_reversed_lines),
        cmocka_unit_test(test_synthetic_discard_and_skipped_lines),
        cmocka_unit_test(test_synthetic_partial_fourier_and_asymmetric_echo_zero_filled),
        cmocka_unit_test(test_synthetic_averages_combined),
        cmocka_unit_test(test_synthetic_noise_prewhitening),
        cmocka_unit_test(test_synthetic_calibration_separate_and_embedded),
        cmocka_unit_test(test_synthetic_slices_and_image_headers),
        cmocka_unit_test(test_stage_emits_each_slice_at_its_last_line),
        cmocka_unit_test(test_png_and_nifti_outputs),
        cmocka_unit_test(test_probe_and_errors),
        cmocka_unit_test(test_stage_rejects_bad_geometry_and_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
