/*
 * Structure-aware HDF5 building for the fuzz harnesses of HDF5-based formats (fastMRI,
 * ISMRMRD, weight files): the fuzzer's bytes (struct fz) decide whether an object exists,
 * whether it is a dataset or a group, its type, rank, dims, storage and contents, and the
 * file is written with the HDF5 API, so the project's readers see well-formed HDF5 whose
 * contents are anything at all (their checks are what is fuzzed, not libhdf5's parser).
 *
 * A "preferred" kind says what the format expects at that place; it is chosen most of the
 * time, any other type the rest, so that both deep paths and type checks are reached.
 */
#ifndef MR_TESTS_FUZZ_H5_H
#define MR_TESTS_FUZZ_H5_H

#include <hdf5.h>

#include "fuzz_common.h"

enum fzh_kind {
    FZH_COMPLEX, /* compound {r, i} of float32 (h5py complex64) */
    FZH_REAL,    /* float32 */
    FZH_MASK,    /* bool / uint8 / float */
    FZH_INT,     /* int64 */
    FZH_FLOAT64, /* float64 */
    FZH_STRING,  /* variable-length string */
};

/* Creates the file `path` (truncating it); aborts when HDF5 cannot (the harness's fault). */
hid_t fzh_create(const char *path);

/* The type for a kind, or (1 time in 4) any type of the table. Caller closes. */
hid_t fzh_type(struct fz *f, enum fzh_kind preferred);

/* Maybe creates object `name` under loc: absent, a group, or a dataset of fzh_type(preferred)
 * with a fuzzed rank and dims (at most max_rank, or scalar), contiguous or chunked, holding
 * fuzzed contents when it is small enough to write. `rank_hint` is the usual rank (used most
 * of the time). Strings get `text` (len bytes) as contents. */
void fzh_object(struct fz *f, hid_t loc, const char *name, enum fzh_kind preferred,
                int rank_hint, const char *text, size_t len);

/* Maybe attaches attribute `name` to loc: absent, or scalar or 1-D of fzh_type(preferred);
 * strings get `text`, numbers fuzzed values. */
void fzh_attribute(struct fz *f, hid_t loc, const char *name, enum fzh_kind preferred,
                   const char *text, size_t len);

/* Fills n bytes of elements of the given size: the fuzzer picks raw bytes cycled, float 1.0
 * (size 4 or 8 floats), zeros, or zeros with a few special floats. */
void fzh_fill(struct fz *f, void *buf, size_t n, hid_t type);



/* An ISMRMRD XML header for a file's header dataset: 3 times in 4 a schema-valid header
 * whose matrix sizes, limits, channels and acceleration are fuzzed numbers (in and out of
 * range), else fuzzed bytes. Returns its length; buf (cap bytes) is NUL-terminated. */
size_t fzh_xml_header(struct fz *f, char *buf, size_t cap);
#endif
