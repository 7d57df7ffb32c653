/*
 * Structure-aware harness: fastMRI files (io/fastmri.h). The fuzzer's bytes decide every
 * dataset (kspace, mask, sensitivity_map, reconstruction_rss / _esc, ismrmrd_header) and root
 * attribute: present or not, dataset or group, type, rank, dims, storage and contents
 * (tests/fuzz/fuzz_h5.h); the file is written with HDF5 to a scratch file and opened with
 * mr_fastmri_open. What opens is read as `recon` reads it: the first and last slice of k-space,
 * sensitivities and target, the mask both ways, each into an array of the size the info
 * states (after the memory check a caller makes).
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "io/fastmri.h"
#include "recon/array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_slices(struct mr_fastmri *f, const struct mr_fastmri_info *in)
{
    struct mr_array a = {0};
    int64_t last = in->slices - 1;
    if (mr_array_init_dims(&a, MR_DTYPE_CF32, 3, in->coils, in->h, in->w) == MR_OK) {
        (void)mr_fastmri_read_kspace(f, 0, &a);
        (void)mr_fastmri_read_kspace(f, last, &a);
        (void)mr_fastmri_read_kspace(f, in->slices, &a); /* out of range: MR_ERR_ARG */
        (void)mr_fastmri_read_sens(f, last, &a);
    }
    mr_array_cleanup(&a);
    if (mr_array_init_dims(&a, MR_DTYPE_F32, 2, in->h, in->w) == MR_OK)
        (void)mr_fastmri_read_mask(f, &a);
    mr_array_cleanup(&a);
    if (mr_array_init_dims(&a, MR_DTYPE_F32, 1, in->w) == MR_OK)
        (void)mr_fastmri_read_mask_columns(f, &a);
    mr_array_cleanup(&a);
    int64_t th = in->target_dims[1];
    int64_t tw = in->target_dims[2];
    int64_t numel;
    int64_t nbytes;
    if (in->has_target && mr_dims_size(2, in->target_dims + 1, 4, &numel, &nbytes) == MR_OK &&
        mr_memory_check((uint64_t)nbytes, "target") == MR_OK &&
        mr_array_init_dims(&a, MR_DTYPE_F32, 2, th, tw) == MR_OK)
        (void)mr_fastmri_read_target(f, last, &a);
    mr_array_cleanup(&a);
}

#ifdef FZ_RAW_BYTES
/* fuzz_h5_bytes: the input is the file itself (byte-mutated HDF5), so libhdf5's own parser is
 * fuzzed too; its crashes are triaged in tests/fuzz/README.md. Not in CI. */
static void write_file(struct fz *z, const char *path)
{
    size_t len;
    const uint8_t *raw = fz_rest(z, &len);
    fz_write_file(path, raw, len);
}
#else
static void write_file(struct fz *z, const char *path)
{
    char xml[4096];
    size_t xlen = fzh_xml_header(z, xml, sizeof xml);
    size_t slen;
    const uint8_t *s = fz_chunk(z, 64, &slen);
    char str[65];
    memcpy(str, s, slen);
    str[slen] = '\0';

    hid_t fid = fzh_create(path);
    fzh_object(z, fid, "kspace", FZH_COMPLEX, fz_bool(z) ? 3 : 4, NULL, 0);
    fzh_object(z, fid, "mask", FZH_MASK, fz_bool(z) ? 2 : 1, NULL, 0);
    fzh_object(z, fid, "sensitivity_map", FZH_COMPLEX, 4, NULL, 0);
    fzh_object(z, fid, fz_bool(z) ? "reconstruction_rss" : "reconstruction_esc", FZH_REAL, 3,
               NULL, 0);
    fzh_object(z, fid, "ismrmrd_header", FZH_STRING, 0, xml, xlen);
    fzh_attribute(z, fid, "acquisition", FZH_STRING, str, slen);
    fzh_attribute(z, fid, "patient_id", FZH_STRING, str, slen);
    fzh_attribute(z, fid, "max", FZH_FLOAT64, NULL, 0);
    fzh_attribute(z, fid, "norm", FZH_FLOAT64, NULL, 0);
    fzh_attribute(z, fid, "acceleration", FZH_INT, NULL, 0);
    fzh_attribute(z, fid, "num_low_frequency", FZH_INT, NULL, 0);
    H5Fclose(fid);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct fz z;
    fz_init(&z, data, size);
    const char *path = fz_scratch_path("fastmri.h5");
    write_file(&z, path);

    struct mr_fastmri *f = NULL;
    if (mr_fastmri_open(path, &f) == MR_OK) {
        const struct mr_fastmri_info *in = mr_fastmri_info(f);
        int64_t dims[3] = {in->coils, in->h, in->w};
        int64_t numel;
        int64_t nbytes;
        if (mr_dims_size(3, dims, 8, &numel, &nbytes) == MR_OK &&
            mr_memory_check((uint64_t)nbytes, "slice") == MR_OK)
            read_slices(f, in);
        mr_fastmri_close(f);
    }
    return 0;
}
