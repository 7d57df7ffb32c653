/* Output size and format dispatch for reconstructed images, DICOM series (see output.h). */
#include "pipeline/output.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/fastmri_recon_writer.h"
#include "io/nifti.h"
#include "io/png.h"
#include "recon/crop.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void mr_output_shape(const struct mr_fastmri_info *info, int64_t h, int64_t w, bool crop,
                     int64_t *out_h, int64_t *out_w)
{
    *out_h = h;
    *out_w = w;
    if (!crop || info == NULL || !info->has_header)
        return;
    int64_t rh = info->hdr.recon_matrix[0];
    int64_t rw = info->hdr.recon_matrix[1];
    if (rh >= 1 && rw >= 1 && rh <= h && rw <= w) {
        *out_h = rh;
        *out_w = rw;
    }
}

bool mr_output_format_known(const char *path)
{
    return ends_with(path, ".h5") || ends_with(path, ".png") || ends_with(path, ".nii");
}

mr_status mr_output_format_parse(const char *s, enum mr_output_format *out)
{
    static const struct {
        const char *name;
        enum mr_output_format fmt;
    } names[] = {
        { "h5", MR_OUTPUT_H5 },
        { "png", MR_OUTPUT_PNG },
        { "nii", MR_OUTPUT_NIFTI },
        { "dicom", MR_OUTPUT_DICOM },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].fmt;
            return MR_OK;
        }
    return MR_FAIL(MR_ERR_ARG, "unknown output format '%s' (h5, png, nii or dicom)", s);
}

enum mr_output_format mr_output_format_resolve(const char *path, enum mr_output_format fmt)
{
    if (fmt != MR_OUTPUT_AUTO)
        return fmt;
    if (ends_with(path, ".h5"))
        return MR_OUTPUT_H5;
    if (ends_with(path, ".png"))
        return MR_OUTPUT_PNG;
    if (ends_with(path, ".nii"))
        return MR_OUTPUT_NIFTI;
    return MR_OUTPUT_AUTO;
}

mr_status mr_output_check_name(const char *path, enum mr_output_format fmt)
{
    if (mr_output_format_resolve(path, fmt) != MR_OUTPUT_AUTO)
        return MR_OK;
    if (ends_with(path, ".dcm") || ends_with(path, "/"))
        return MR_FAIL(MR_ERR_ARG, "output '%s': a DICOM series is a folder, written with "
                       "--format dicom (one IM#####.dcm file per image)", path);
    return MR_FAIL(MR_ERR_ARG, "output '%s' must end in .h5, .png or .nii, or be a folder "
                   "with --format dicom", path);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

mr_status mr_output_dicom_series(struct mr_dicom_series *s, const char *xml, size_t len,
                                 const char *in, const struct mr_method_config *method,
                                 const char *label, int64_t series_number,
                                 const struct mr_output_dicom *opts)
{
    char what[4200];
    mr_status st;

    mr_dicom_series_init(s);
    if (xml != NULL && len > 0) {
        snprintf(what, sizeof(what), "'%s'", in);
        st = mr_dicom_series_from_ismrmrd_xml(s, xml, len, what);
        if (st != MR_OK)
            return st;
    }
    const bool net = strcmp(label, method->name) != 0;
    const bool wts = method->weights[0] != '\0';
    snprintf(what, sizeof(what), "mrirecon %s%s%s", method->name, net ? " " : "",
             net ? label : "");
    mr_dicom_set_text(s->series_description, sizeof(s->series_description), what);
    snprintf(what, sizeof(what), "mrirecon %s%s%s%s%s%s, from %s", method->name,
             net ? ", network " : "", net ? label : "", wts ? " (weights " : "",
             wts ? base_name(method->weights) : "", wts ? ")" : "", base_name(in));
    mr_dicom_set_text(s->derivation, sizeof(s->derivation), what);
    s->series_number = series_number;
    return mr_dicom_series_uids(s, opts->uid_seed);
}

mr_status mr_output_write_dicom(const char *dir, const struct mr_dicom_series *s,
                                struct mr_dicom_image *ims, size_t n,
                                const struct mr_output_dicom *opts)
{
    mr_status st = MR_OK;
    struct mr_dicom_dir *d = NULL;
    char **files = NULL;
    struct mr_dicom_scale scale;
    double lo = 0.0;
    double hi = 0.0;
    char path[4096];
    size_t len = strlen(dir);

    while (len > 1 && dir[len - 1] == '/') /* "out/" is the folder "out" */
        len--;
    if (len >= sizeof(path))
        return MR_FAIL(MR_ERR_ARG, "output path '%s' is too long", dir);
    memcpy(path, dir, len);
    path[len] = '\0';
    dir = path;

    /* one scaling for the series; non-finite values are left to mr_dicom_write's check */
    for (size_t i = 0; i < n; i++)
        for (int64_t k = 0; k < ims[i].rows * ims[i].cols; k++) {
            const double v = (double)ims[i].data[k];
            lo = isfinite(v) && v < lo ? v : lo;
            hi = isfinite(v) && v > hi ? v : hi;
        }
    mr_dicom_scale_range(lo, hi, &scale);
    MR_CHECK(mr_make_parent_dirs(dir));
    MR_CHECK(mr_dicom_dir_create(dir, &d));
    for (size_t i = 0; i < n; i++) {
        ims[i].scale = scale;
        MR_CHECK(mr_dicom_dir_write(d, s, &ims[i]));
    }
    st = mr_dicom_dir_commit(d);
    d = NULL;
    MR_CHECK(st);
    if (opts->send == NULL || n == 0)
        goto out;
    files = calloc(n, sizeof(*files));
    if (files == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "DICOM file list");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t cap = strlen(dir) + 32;
        files[i] = malloc(cap);
        if (files[i] == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "DICOM file list");
            goto out;
        }
        MR_CHECK(mr_dicom_file_name(dir, ims[i].instance_number, files[i], cap));
    }
    const struct mr_dicom_peer *p = opts->send;
    st = mr_dicom_send((const char *const *)files, n, p->host, p->port, p->called_aet,
                       opts->calling_aet);
    if (st != MR_OK)
        mr_fail_context(st, "the series '%s' is written, but not stored", dir);
out:
    mr_dicom_dir_free(d);
    if (files != NULL)
        for (size_t i = 0; i < n; i++)
            free(files[i]);
    free(files);
    return st;
}

mr_status mr_make_parent_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return MR_FAIL(MR_ERR_ARG, "output path '%s' is too long", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return MR_FAIL(MR_ERR_IO, "cannot create the folder '%s' for '%s': %s", buf, path,
                           strerror(errno));
        *p = '/';
    }
    return MR_OK;
}

mr_status mr_output_write(const char *path, enum mr_output_format fmt,
                          const struct mr_array *vol, const struct mr_fastmri_info *info,
                          const char *method)
{
    mr_status st = mr_output_check_name(path, fmt);
    if (st != MR_OK)
        return st;
    st = mr_make_parent_dirs(path);
    if (st != MR_OK)
        return st;
    switch (mr_output_format_resolve(path, fmt)) {
    case MR_OUTPUT_H5:
        return mr_fastmri_recon_write_volume(path, vol, vol->dims[1], vol->dims[2], method);
    case MR_OUTPUT_PNG:
        return mr_png_write_gray(path, vol, NULL);
    case MR_OUTPUT_NIFTI: {
        struct mr_nifti_config cfg = mr_nifti_config_default;
        if (info != NULL && info->has_header)
            mr_nifti_voxel_from_header(&info->hdr, cfg.voxel_mm);
        cfg.descrip = method;
        return mr_nifti_write(path, vol, &cfg);
    }
    default:
        return MR_FAIL(MR_ERR_ARG, "output '%s': a DICOM series needs its geometry "
                       "(mr_output_write_dicom)", path);
    }
}
