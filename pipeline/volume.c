/* One file in, its images out (see volume.h): the format dispatch and the fastMRI path. */
#include "pipeline/volume.h"

#include <complex.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/fastmri.h"
#include "io/h5.h"
#include "io/ismrmrd.h"
#include "io/nifti.h"
#include "io/npy.h"
#include "pipeline/output.h"
#include "pipeline/pipeline.h"
#include "recon/clock.h"
#include "recon/crop.h"

void mr_volume_config_init(struct mr_volume_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    mr_method_config_init(&cfg->method);
    cfg->slice0 = -1;
    cfg->slice1 = -1;
    cfg->crop = true;
}

/* mask[y, x] = 1 where any coil has a nonzero sample */
static void mask_from_kspace(const struct mr_array *ksp, struct mr_array *mask)
{
    const int64_t nc = ksp->dims[0];
    const int64_t n = ksp->dims[1] * ksp->dims[2];
    const float complex *k = mr_array_cf32(ksp);
    float *m = mr_array_f32(mask);
    for (int64_t i = 0; i < n; i++) {
        m[i] = 0.0f;
        for (int64_t c = 0; c < nc; c++)
            if (k[c * n + i] != 0.0f) {
                m[i] = 1.0f;
                break;
            }
    }
}

/* ksp = ksp where the mask is nonzero, else 0 */
static void apply_mask(struct mr_array *ksp, const struct mr_array *mask)
{
    const int64_t nc = ksp->dims[0];
    const int64_t n = ksp->dims[1] * ksp->dims[2];
    float complex *k = mr_array_cf32(ksp);
    const float *m = mr_array_f32(mask);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            k[c * n + i] = m[i] != 0.0f ? k[c * n + i] : 0.0f;
}

/* vol (slices s0.., h, w) as a DICOM series (see volume.h for the fastMRI defaults) */
static mr_status write_dicom(const struct mr_volume_config *cfg, const char *in, const char *out,
                             const struct mr_fastmri_info *info, const struct mr_array *vol,
                             int64_t s0, const char *label, char (*comments)[256])
{
    static const double row_dir[3] = { 1.0, 0.0, 0.0 };
    static const double col_dir[3] = { 0.0, 1.0, 0.0 };
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    char *xml = NULL;
    size_t len = 0;
    struct mr_dicom_series s;
    const int64_t n = vol->dims[0];
    const int64_t rows = vol->dims[1];
    const int64_t cols = vol->dims[2];
    double vox[3] = { 1.0, 1.0, 1.0 }; /* along columns (W), rows (H), slices */
    struct mr_dicom_image *ims = calloc((size_t)n, sizeof(*ims));

    if (ims == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%lld DICOM images", (long long)n);
    if (info->has_header) {
        MR_CHECK(mr_h5_open(in, &h));
        MR_CHECK(mr_h5_read_string_dataset(h, "ismrmrd_header", &xml, &len));
        mr_nifti_voxel_from_header(&info->hdr, vox);
    }
    MR_CHECK(mr_output_dicom_series(&s, xml, len, in, &cfg->method, label, 1, &cfg->dicom));
    if (info->patient_id[0] != '\0' && strcmp(s.patient_id, MR_DICOM_DEFAULT_PATIENT_ID) == 0)
        mr_dicom_set_text(s.patient_id, sizeof(s.patient_id), info->patient_id);
    if (info->acquisition[0] != '\0' && s.protocol_name[0] == '\0')
        mr_dicom_set_text(s.protocol_name, sizeof(s.protocol_name), info->acquisition);
    for (int64_t i = 0; i < n; i++) {
        struct mr_dicom_image *im = &ims[i];
        const double centre[3] = { 0.0, 0.0, (double)(s0 + i) * vox[2] };
        im->data = mr_array_f32(vol) + i * rows * cols;
        im->rows = rows;
        im->cols = cols;
        im->instance_number = s0 + i + 1;
        snprintf(im->comments, sizeof(im->comments), "%s", comments[i]);
        im->pixel_spacing[0] = vox[1];
        im->pixel_spacing[1] = vox[0];
        im->slice_thickness = vox[2];
        mr_dicom_image_place(im, centre, row_dir, col_dir);
    }
    MR_CHECK(mr_output_write_dicom(out, &s, ims, (size_t)n, &cfg->dicom));
out:
    mr_h5_close(h);
    free(xml);
    free(ims);
    return st;
}

mr_status mr_volume_finish_report(const struct mr_volume_config *cfg,
                                  const struct mr_trust_doc *doc,
                                  struct mr_volume_result *result)
{
    const char *key = NULL;
    const char *reason = NULL;
    int64_t index = 0;

    if (result != NULL) {
        result->flagged = mr_trust_doc_flagged(doc);
        result->flag[0] = '\0';
        if (mr_trust_doc_first_flag(doc, &key, &index, &reason))
            snprintf(result->flag, sizeof(result->flag), "%s %lld: %s", key, (long long)index,
                     reason);
    }
    return cfg->report_path != NULL ? mr_trust_doc_write(doc, cfg->report_path) : MR_OK;
}

static mr_status reconstruct_fastmri(const struct mr_volume_config *cfg, const char *in,
                                     const char *out, struct mr_volume_result *result)
{
    mr_status st = MR_OK;
    struct mr_fastmri *f = NULL;
    struct mr_pipeline *p = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array mag = { 0 };
    struct mr_array vol = { 0 };
    bool have_mask = false;
    struct mr_trust_report *rep = malloc(sizeof(*rep));
    struct mr_trust_doc *doc = NULL;
    char (*comments)[256] = NULL;

    if (rep == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "trust report");
    MR_CHECK(mr_fastmri_open(in, &f));
    const struct mr_fastmri_info *info = mr_fastmri_info(f);
    const int64_t nc = info->coils;
    const int64_t h = info->h;
    const int64_t w = info->w;
    const int64_t s0 = cfg->slice0 < 0 ? 0 : cfg->slice0;
    const int64_t s1 = cfg->slice1 < 0 ? info->slices : cfg->slice1;
    if (s0 >= s1 || s1 > info->slices) {
        st = MR_FAIL(MR_ERR_ARG, "slices %lld:%lld are outside the %lld slices of '%s'",
                     (long long)s0, (long long)s1, (long long)info->slices, in);
        goto out;
    }
    int64_t oh;
    int64_t ow;
    mr_output_shape(info, h, w, cfg->crop, &oh, &ow);
    MR_CHECK(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, s1 - s0, oh, ow));
    comments = calloc((size_t)(s1 - s0), sizeof(*comments)); /* each slice's trust summary */
    if (comments == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "trust summaries of %lld slices", (long long)(s1 - s0));
        goto out;
    }
    if (cfg->mask_path != NULL) {
        MR_CHECK(mr_npy_read_mask(cfg->mask_path, h, w, &mask));
        have_mask = true;
    } else {
        MR_CHECK(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, h, w));
        if (info->has_mask) {
            MR_CHECK(mr_fastmri_read_mask(f, &mask));
            have_mask = true;
        }
    }
    MR_CHECK(mr_pipeline_create(&cfg->method, nc, h, w, &p));
    const bool maps_file = mr_pipeline_needs_maps(p) && cfg->method.maps == MR_MAPS_FILE;
    if (maps_file && !info->has_sens) {
        st = MR_FAIL(MR_ERR_ARG, "maps from the file: '%s' has no sensitivity_map dataset", in);
        goto out;
    }
    if (maps_file)
        MR_CHECK(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_pipeline_set_trust(p, &cfg->trust));
    const char *label = mr_pipeline_label(p);
    struct mr_trust_reference ref;
    const bool has_ref = mr_pipeline_trust_reference(p, &ref);
    MR_CHECK(mr_trust_doc_create(in, label, has_ref ? &ref : NULL, &doc));
    for (int64_t s = s0; s < s1; s++) {
        double t = mr_clock_now_s();
        MR_CHECK(mr_fastmri_read_kspace(f, s, &ksp));
        if (have_mask)
            apply_mask(&ksp, &mask);
        else
            mask_from_kspace(&ksp, &mask);
        struct mr_slice sl = { .ksp = &ksp, .mask = &mask, .maps = NULL };
        if (maps_file) {
            MR_CHECK(mr_fastmri_read_sens(f, s, &sens));
            sl.maps = &sens;
        }
        st = mr_pipeline_run_report(p, &sl, &mag, rep);
        if (st != MR_OK) {
            mr_fail_context(st, "slice %lld of '%s'", (long long)s, in);
            goto out;
        }
        MR_CHECK(mr_trust_doc_add(doc, "slice", s, rep));
        mr_trust_report_summary(rep, comments[s - s0], sizeof(comments[0]));
        if (cfg->on_report != NULL)
            MR_CHECK(cfg->on_report(cfg->on_report_arg, s, rep));
        struct mr_array dst;
        mr_array_slab(&dst, &vol, s - s0);
        MR_CHECK(mr_center_crop(&dst, &mag));
        if (cfg->progress != NULL)
            cfg->progress(cfg->progress_arg, label, s - s0 + 1, s1 - s0, mr_clock_now_s() - t);
    }
    if (out == NULL)
        ; /* reports only (calibration) */
    else if (mr_output_format_resolve(out, cfg->format) == MR_OUTPUT_DICOM)
        MR_CHECK(write_dicom(cfg, in, out, info, &vol, s0, label, comments));
    else
        MR_CHECK(mr_output_write(out, cfg->format, &vol, info, label));
    MR_CHECK(mr_volume_finish_report(cfg, doc, result));
    if (result != NULL) {
        result->images = s1 - s0;
        snprintf(result->label, sizeof(result->label), "%s", label);
    }
out:
    free(rep);
    free(comments);
    mr_trust_doc_free(doc);
    mr_pipeline_free(p);
    mr_fastmri_close(f);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mag);
    mr_array_cleanup(&vol);
    return st;
}

mr_status mr_volume_reconstruct(const struct mr_volume_config *cfg, const char *in,
                                const char *out, struct mr_volume_result *result)
{
    bool is_ismrmrd = false;

    mr_status st = out != NULL ? mr_output_check_name(out, cfg->format) : MR_OK;
    if (st != MR_OK)
        return st;
    if (out != NULL && mr_same_file(out, in))
        return MR_FAIL(MR_ERR_ARG, "output '%s' is the input file: it would be overwritten",
                       out);
    if (mr_ismrmrd_probe(in, &is_ismrmrd) == MR_OK && is_ismrmrd) {
        if (cfg->mask_path != NULL || cfg->slice0 >= 0 || cfg->slice1 >= 0)
            return MR_FAIL(MR_ERR_ARG, "a retrospective mask and a slice range apply to "
                           "fastMRI files only, not to the ISMRMRD file '%s'", in);
        if (cfg->method.maps == MR_MAPS_FILE)
            return MR_FAIL(MR_ERR_ARG, "maps from the file do not apply to the ISMRMRD raw "
                           "data '%s'", in);
        return mr_volume_reconstruct_ismrmrd(cfg, in, out, result);
    }
    return reconstruct_fastmri(cfg, in, out, result);
}
