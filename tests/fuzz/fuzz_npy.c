/*
 * Byte-level harness: the .npy reader (io/npy.h). The input is the file; it is read as an
 * array and as a sampling mask of the shape its first dims suggest (and of a fixed 4 x 8).
 */
#include "fuzz_common.h"
#include "io/npy.h"
#include "recon/array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    const char *path = fz_scratch_path("in.npy");
    fz_write_file(path, data, size);

    struct mr_array a = {0};
    int64_t h = 4;
    int64_t w = 8;
    if (mr_npy_read(path, &a) == MR_OK) {
        if (a.ndim == 2) {
            h = a.dims[0];
            w = a.dims[1];
        } else if (a.ndim == 1) {
            w = a.dims[0];
        }
    }
    mr_array_cleanup(&a);
    struct mr_array mask = {0};
    if (h <= 4096 && w <= 4096)
        (void)mr_npy_read_mask(path, h, w, &mask);
    mr_array_cleanup(&mask);
    (void)mr_npy_read_mask(path, 4, 8, &mask);
    mr_array_cleanup(&mask);
    return 0;
}
