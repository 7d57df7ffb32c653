/*
 * ISMRMRD file → stage → ISMRMRD images / PNG / NIfTI / DICOM (the ISMRMRD path of volume.h). The file
 * is read one acquisition at a time, so memory stays at the stage's open slices plus the images.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ismrmrd.h"
#include "io/nifti.h"
#include "pipeline/output.h"
#include "pipeline/stage.h"
#include "pipeline/volume.h"
#include "recon/clock.h"

/* Images kept for .png / .nii / DICOM: their headers and (ny, W) magnitude data. */
struct image_list {
    const struct mr_volume_config *cfg; /* for progress */
    const struct mr_stage *stage;
    struct mr_trust_doc *doc;         /* the images' trust reports */
    const char *in;
    const char *out;                  /* NULL: reports only */
    double t;                         /* when the last image left */
    struct mr_ismrmrd_writer *writer; /* .h5: images go straight to the file */
    ISMRMRD_ImageHeader *heads;
    float **data;
    char **meta; /* each image's meta attributes (the trust report, for DICOM comments) */
    size_t n;
    size_t cap;
};

static mr_status sink_image(void *ctx, const ISMRMRD_Image *im)
{
    struct image_list *l = ctx;

    if (l->doc == NULL) { /* the first image: the method exists now */
        struct mr_trust_reference ref;
        const bool has_ref = mr_stage_trust_reference(l->stage, &ref);
        mr_status st = mr_trust_doc_create(l->in, mr_stage_label(l->stage),
                                           has_ref ? &ref : NULL, &l->doc);
        if (st != MR_OK)
            return st;
    }
    mr_status st = mr_trust_doc_add(l->doc, "image", mr_stage_images(l->stage) + 1,
                                    mr_stage_report(l->stage));
    if (st == MR_OK && l->cfg->on_report != NULL)
        st = l->cfg->on_report(l->cfg->on_report_arg, mr_stage_images(l->stage) + 1,
                               mr_stage_report(l->stage));
    if (st != MR_OK || l->out == NULL)
        return st; /* no output: reports only */
    if (l->cfg->progress != NULL) {
        double now = mr_clock_now_s();
        l->cfg->progress(l->cfg->progress_arg, mr_stage_label(l->stage),
                         mr_stage_images(l->stage) + 1, 0, now - l->t);
        l->t = now;
    }
    if (l->writer != NULL) {
        char group[32];
        snprintf(group, sizeof(group), "image_%u", im->head.image_series_index);
        return mr_ismrmrd_writer_image(l->writer, group, im);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? 2 * l->cap : 16;
        ISMRMRD_ImageHeader *h = realloc(l->heads, sizeof(*h) * cap);
        if (h == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "image list");
        l->heads = h;
        float **d = realloc(l->data, sizeof(*d) * cap);
        if (d == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "image list");
        l->data = d;
        char **mt = realloc(l->meta, sizeof(*mt) * cap);
        if (mt == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "image list");
        l->meta = mt;
        l->cap = cap;
    }
    size_t bytes = ismrmrd_size_of_image_data(im);
    float *copy = malloc(bytes);
    if (copy == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "image of %zu bytes", bytes);
    memcpy(copy, im->data, bytes);
    const size_t mlen = im->attribute_string != NULL ? im->head.attribute_string_len : 0;
    char *meta = malloc(mlen + 1);
    if (meta == NULL) {
        free(copy);
        return MR_FAIL(MR_ERR_NOMEM, "image attributes");
    }
    if (mlen > 0)
        memcpy(meta, im->attribute_string, mlen);
    meta[mlen] = '\0';
    l->heads[l->n] = im->head;
    l->heads[l->n].attribute_string_len = (uint32_t)mlen;
    l->data[l->n] = copy;
    l->meta[l->n] = meta;
    l->n++;
    return MR_OK;
}

/* Stack order: set, phase, repetition, contrast, slice (slice fastest). */
static int compare_heads(const ISMRMRD_ImageHeader *a, const ISMRMRD_ImageHeader *b)
{
    const uint16_t ka[5] = { a->set, a->phase, a->repetition, a->contrast, a->slice };
    const uint16_t kb[5] = { b->set, b->phase, b->repetition, b->contrast, b->slice };
    for (int i = 0; i < 5; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

/* The images in stack order as a DICOM series: IM<k>.dcm, k = 1, 2, ... */
static mr_status write_dicom(const struct mr_volume_config *cfg, const struct image_list *l,
                             const size_t *order, const char *in, const char *xml,
                             size_t xml_len, const char *out, const char *label)
{
    mr_status st = MR_OK;
    struct mr_dicom_series s;
    struct mr_dicom_image *ims = calloc(l->n, sizeof(*ims));

    if (ims == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%zu DICOM images", l->n);
    MR_CHECK(mr_output_dicom_series(&s, xml, xml_len, in, &cfg->method, label,
                                    (int64_t)cfg->image_series_index + 1, &cfg->dicom));
    for (size_t i = 0; i < l->n; i++) {
        const ISMRMRD_Image im = { .head = l->heads[order[i]], .data = l->data[order[i]],
                                   .attribute_string = l->meta[order[i]] };
        MR_CHECK(mr_dicom_image_from_ismrmrd(&im, &ims[i]));
        ims[i].instance_number = (int64_t)i + 1;
    }
    MR_CHECK(mr_output_write_dicom(out, &s, ims, l->n, &cfg->dicom));
out:
    free(ims);
    return st;
}

static mr_status write_stack(const struct mr_volume_config *cfg, const struct image_list *l,
                             const struct mr_ismrmrd_header *hdr, const char *in,
                             const char *xml, size_t xml_len, const char *out,
                             const char *method)
{
    mr_status st = MR_OK;
    struct mr_array vol = { 0 };
    size_t *order = malloc(sizeof(*order) * l->n);
    const enum mr_output_format fmt = mr_output_format_resolve(out, cfg->format);

    if (order == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "image order");
    const int64_t w = l->heads[0].matrix_size[0];
    const int64_t h = l->heads[0].matrix_size[1];
    /* insertion sort by index: stable, and n is the number of images of one file */
    for (size_t i = 0; i < l->n; i++) {
        size_t j = i;
        while (j > 0 && compare_heads(&l->heads[order[j - 1]], &l->heads[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    if (fmt == MR_OUTPUT_DICOM) {
        st = write_dicom(cfg, l, order, in, xml, xml_len, out, method);
        goto out;
    }
    MR_CHECK(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, (int64_t)l->n, h, w));
    for (size_t i = 0; i < l->n; i++)
        memcpy(mr_array_f32(&vol) + (int64_t)i * h * w, l->data[order[i]],
               sizeof(float) * (size_t)(h * w));
    MR_CHECK(mr_make_parent_dirs(out));
    if (fmt == MR_OUTPUT_NIFTI) {
        struct mr_nifti_config ncfg = mr_nifti_config_default;
        ncfg.voxel_mm[0] = hdr->recon_fov_mm[0] / (double)w;
        ncfg.voxel_mm[1] = hdr->recon_fov_mm[1] / (double)h;
        ncfg.voxel_mm[2] = hdr->recon_fov_mm[2];
        ncfg.descrip = method;
        MR_CHECK(mr_nifti_write(out, &vol, &ncfg));
    } else {
        MR_CHECK(mr_output_write(out, fmt, &vol, NULL, method));
    }
out:
    mr_array_cleanup(&vol);
    free(order);
    return st;
}

mr_status mr_volume_reconstruct_ismrmrd(const struct mr_volume_config *cfg, const char *in,
                                        const char *out, struct mr_volume_result *result)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_file *f = NULL;
    struct mr_stage *stage = NULL;
    struct mr_stage_config scfg;
    struct image_list list = { .cfg = cfg, .in = in, .out = out };
    ISMRMRD_Acquisition acq;
    const bool h5 = out != NULL && mr_output_format_resolve(out, cfg->format) == MR_OUTPUT_H5;

    ismrmrd_init_acquisition(&acq);
    st = out != NULL ? mr_output_check_name(out, cfg->format) : MR_OK;
    if (st != MR_OK)
        return st;
    mr_stage_config_init(&scfg);
    scfg.method = cfg->method;
    scfg.image_series_index = cfg->image_series_index;
    scfg.trust = cfg->trust;
    MR_CHECK(mr_ismrmrd_open(in, &f));
    size_t xml_len = 0;
    const char *xml = mr_ismrmrd_xml(f, &xml_len);
    if (xml_len == 0) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' has no XML header (/dataset/xml): not raw data", in);
        goto out;
    }
    if (h5) {
        MR_CHECK(mr_make_parent_dirs(out));
        MR_CHECK(mr_ismrmrd_writer_create(out, &list.writer));
        MR_CHECK(mr_ismrmrd_writer_header(list.writer, xml));
    }
    const struct mr_stage_sink sink = { .image = sink_image, .ctx = &list };
    st = mr_stage_create(&scfg, xml, xml_len, &sink, &stage);
    if (st != MR_OK) {
        mr_fail_context(st, "'%s'", in);
        goto out;
    }
    list.stage = stage;
    list.t = mr_clock_now_s();
    const uint32_t nacq = mr_ismrmrd_acquisition_count(f);
    for (uint32_t i = 0; i < nacq; i++) {
        MR_CHECK(mr_ismrmrd_read_acquisition(f, i, &acq));
        st = mr_stage_push(stage, &acq);
        if (st != MR_OK) {
            mr_fail_context(st, "acquisition %u of '%s'", i, in);
            goto out;
        }
    }
    st = mr_stage_close(stage);
    if (st != MR_OK) {
        mr_fail_context(st, "'%s'", in);
        goto out;
    }
    if (mr_stage_images(stage) == 0) {
        st = MR_FAIL(MR_ERR_DATA, "'%s' gave no image (%u acquisitions, none of them imaging)",
                     in, nacq);
        goto out;
    }
    if (h5) {
        st = mr_ismrmrd_writer_commit(list.writer);
        list.writer = NULL;
        MR_CHECK(st);
    } else if (out != NULL) {
        MR_CHECK(write_stack(cfg, &list, mr_stage_header(stage), in, xml, xml_len, out,
                             mr_stage_label(stage)));
    }
    MR_CHECK(mr_volume_finish_report(cfg, list.doc, result));
    if (result != NULL) {
        result->images = mr_stage_images(stage);
        snprintf(result->label, sizeof(result->label), "%s", mr_stage_label(stage));
    }
out:
    mr_trust_doc_free(list.doc);
    mr_ismrmrd_writer_free(list.writer);
    for (size_t i = 0; i < list.n; i++) {
        free(list.data[i]);
        free(list.meta[i]);
    }
    free(list.data);
    free(list.meta);
    free(list.heads);
    mr_stage_free(stage);
    mr_ismrmrd_close(f);
    ismrmrd_cleanup_acquisition(&acq);
    return st;
}
