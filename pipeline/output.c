/* Output size and format dispatch for reconstructed images (see output.h). */
#include "pipeline/output.h"

#include <errno.h>
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

mr_status mr_output_write(const char *path, const struct mr_array *vol,
                          const struct mr_fastmri_info *info, const char *method)
{
    mr_status st = mr_make_parent_dirs(path);
    if (st != MR_OK)
        return st;
    if (ends_with(path, ".h5"))
        return mr_fastmri_recon_write_volume(path, vol, vol->dims[1], vol->dims[2], method);
    if (ends_with(path, ".png"))
        return mr_png_write_gray(path, vol, NULL);
    if (ends_with(path, ".nii")) {
        struct mr_nifti_config cfg = mr_nifti_config_default;
        if (info != NULL && info->has_header)
            mr_nifti_voxel_from_header(&info->hdr, cfg.voxel_mm);
        cfg.descrip = method;
        return mr_nifti_write(path, vol, &cfg);
    }
    return MR_FAIL(MR_ERR_ARG, "output '%s' must end in .h5, .png or .nii", path);
}
