/* One slice of a small real test volume, retrospectively undersampled on columns: the input of
 * the pipeline tests (test_pipeline.c, test_trust.c). */
#ifndef MR_TESTS_PIPELINE_SLICE_DATA_H
#define MR_TESTS_PIPELINE_SLICE_DATA_H

#include <stdint.h>

#include "recon/array.h"

struct slice_data {
    struct mr_array ksp;  /* (C, H, W) CF32, zero off the mask */
    struct mr_array mask; /* (H, W) F32 */
    int64_t nc;
    int64_t h;
    int64_t w;
};

/* Slice 0 of the test data file rel (fastMRI layout), sampled on every `every`-th column plus
 * the `centre` columns around W/2. Returns 0, or -1 when the file cannot be read. */
int slice_data_load(struct slice_data *sd, const char *rel, int every, int centre);
void slice_data_cleanup(struct slice_data *sd);

#endif
