/*
 * NIfTI-1 writer (layout and conventions in nifti.h). The header is assembled byte by byte at
 * the offsets of nifti1.h (no struct, so no padding or endianness surprises) and written
 * little-endian; the rows of every slice are flipped so that viewers, which draw j upwards,
 * show the image upright.
 */
#include "io/nifti.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NII_HDR 348
#define NII_OFFSET 352
#define NII_FLOAT32 16
#define NII_XFORM_ALIGNED_ANAT 2
#define NII_UNITS_MM 2

const struct mr_nifti_config mr_nifti_config_default = {
    .voxel_mm = { 1.0, 1.0, 1.0 },
    .descrip = NULL,
};

static double voxel_or_1(double fov, int64_t n)
{
    double v = n > 0 ? fov / (double)n : 0.0;
    return isfinite(v) && v > 0.0 ? v : 1.0;
}

void mr_nifti_voxel_from_header(const struct mr_ismrmrd_header *hdr, double voxel_mm[3])
{
    voxel_mm[0] = voxel_or_1(hdr->recon_fov_mm[1], hdr->recon_matrix[1]);
    voxel_mm[1] = voxel_or_1(hdr->recon_fov_mm[0], hdr->recon_matrix[0]);
    voxel_mm[2] = voxel_or_1(hdr->recon_fov_mm[2], hdr->recon_matrix[2]);
}

/* little-endian stores */
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

static void put_i32(uint8_t *p, int32_t v)
{
    put_u32(p, (uint32_t)v);
}

static void put_i16(uint8_t *p, int16_t v)
{
    uint16_t u = (uint16_t)v;
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
}

static void put_f32(uint8_t *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof(u));
    put_u32(p, u);
}

static void make_header(uint8_t h[NII_OFFSET], int64_t nx, int64_t ny, int64_t nz,
                        const double vox[3], const char *descrip)
{
    const int64_t n[3] = { nx, ny, nz };
    float off[3];

    memset(h, 0, NII_OFFSET);
    put_i32(h + 0, NII_HDR);      /* sizeof_hdr */
    h[38] = 'r';                  /* regular */
    put_i16(h + 40, 3);           /* dim[0] */
    for (int d = 0; d < 3; d++)
        put_i16(h + 42 + 2 * d, (int16_t)n[d]);
    for (int d = 3; d < 7; d++)
        put_i16(h + 42 + 2 * d, 1);
    put_i16(h + 70, NII_FLOAT32); /* datatype */
    put_i16(h + 72, 32);          /* bitpix */
    put_f32(h + 76, 1.0f);        /* pixdim[0] = qfac */
    for (int d = 0; d < 3; d++)
        put_f32(h + 80 + 4 * d, (float)vox[d]);
    put_f32(h + 108, (float)NII_OFFSET); /* vox_offset */
    put_f32(h + 112, 1.0f);              /* scl_slope */
    put_f32(h + 116, 0.0f);              /* scl_inter */
    h[123] = NII_UNITS_MM;               /* xyzt_units */
    snprintf((char *)h + 148, 80, "%s", descrip != NULL ? descrip : "mrirecon");
    put_i16(h + 252, NII_XFORM_ALIGNED_ANAT); /* qform_code */
    put_i16(h + 254, NII_XFORM_ALIGNED_ANAT); /* sform_code */
    /* quatern_b, c, d = 0: identity rotation */
    for (int d = 0; d < 3; d++) {
        off[d] = (float)(-vox[d] * (double)(n[d] - 1) / 2.0);
        put_f32(h + 268 + 4 * d, off[d]); /* qoffset_x, y, z */
    }
    for (int r = 0; r < 3; r++) { /* srow_x, srow_y, srow_z */
        put_f32(h + 280 + 16 * r + 4 * r, (float)vox[r]);
        put_f32(h + 280 + 16 * r + 12, off[r]);
    }
    memcpy(h + 344, "n+1", 4); /* magic, with its NUL */
    /* h[348..351]: extension flag 0 */
}

mr_status mr_nifti_write(const char *path, const struct mr_array *vol,
                         const struct mr_nifti_config *cfg)
{
    mr_status st = MR_OK;
    uint8_t hdr[NII_OFFSET];
    uint8_t *row = NULL;
    struct mr_atomic_file af = { 0 };
    double vox[3];
    char buf[160];

    if (cfg == NULL)
        cfg = &mr_nifti_config_default;
    if (vol->dtype != MR_DTYPE_F32 || (vol->ndim != 2 && vol->ndim != 3)) {
        st = MR_FAIL(MR_ERR_ARG, "NIfTI '%s': volume is %s, expected float32 (slices, H, W) or "
                     "(H, W)", path, mr_array_shape_str(vol, buf, sizeof(buf)));
        goto out;
    }
    const int64_t nz = vol->ndim == 3 ? vol->dims[0] : 1;
    const int64_t ny = vol->dims[vol->ndim - 2];
    const int64_t nx = vol->dims[vol->ndim - 1];
    if (nx < 1 || ny < 1 || nz < 1 || nx > INT16_MAX || ny > INT16_MAX || nz > INT16_MAX) {
        st = MR_FAIL(MR_ERR_ARG, "NIfTI '%s': volume %s; NIfTI-1 needs every side in 1..%d",
                     path, mr_array_shape_str(vol, buf, sizeof(buf)), INT16_MAX);
        goto out;
    }
    for (int d = 0; d < 3; d++)
        vox[d] = isfinite(cfg->voxel_mm[d]) && cfg->voxel_mm[d] > 0.0 ? cfg->voxel_mm[d] : 1.0;
    make_header(hdr, nx, ny, nz, vox, cfg->descrip);

    row = malloc((size_t)nx * 4);
    if (row == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "NIfTI '%s'", path);
        goto out;
    }
    MR_CHECK(mr_atomic_file_open(&af, path));
    bool ok = fwrite(hdr, 1, sizeof(hdr), af.f) == sizeof(hdr);
    const float *src = mr_array_f32(vol);
    for (int64_t k = 0; k < nz && ok; k++)
        for (int64_t j = 0; j < ny && ok; j++) {
            const float *r = src + (k * ny + (ny - 1 - j)) * nx;
            for (int64_t i = 0; i < nx; i++)
                put_f32(row + 4 * i, r[i]);
            ok = fwrite(row, 4, (size_t)nx, af.f) == (size_t)nx;
        }
    if (!ok) {
        st = MR_FAIL(MR_ERR_IO, "cannot write NIfTI '%s': %s", path, strerror(errno));
        goto out;
    }
    st = mr_atomic_file_commit(&af);
out:
    mr_atomic_file_abort(&af);
    free(row);
    return st;
}
