/*
 * Shared test oracles (STYLE.md "Tests"): a seeded generator, relative-error checks, the
 * adjoint test for linear operators, and paths to test data and scratch space.
 * Include after <cmocka.h>'s prerequisites; this header pulls them in.
 */
#ifndef MR_TESTS_COMMON_MR_TEST_H
#define MR_TESTS_COMMON_MR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "recon/array.h"

/* Deterministic uniform/normal generator (xorshift64*), independent of libc. */
struct mr_test_rng {
    uint64_t s;
};
void mr_test_rng_seed(struct mr_test_rng *r, uint64_t seed);
double mr_test_rng_uniform(struct mr_test_rng *r); /* [0, 1) */
double mr_test_rng_normal(struct mr_test_rng *r);

/* Fills a (F32 or CF32) array with standard normal values (complex: both parts). */
void mr_test_rand(struct mr_array *a, uint64_t seed);

/* ||a - b|| / ||b|| over all elements, in double (same dtype and numel). */
double mr_test_nrmse(const struct mr_array *a, const struct mr_array *b);
/* max|a - b| / max|b| (the goldens' criterion). */
double mr_test_max_rel_err(const struct mr_array *a, const struct mr_array *b);

/* cmocka-style checks that print both numbers on failure */
#define assert_nrmse_below(a, b, tol) mr_test_assert_below("nrmse", mr_test_nrmse(a, b), (tol), \
                                                          __FILE__, __LINE__)
#define assert_max_rel_below(a, b, tol)                                                          \
    mr_test_assert_below("max rel err", mr_test_max_rel_err(a, b), (tol), __FILE__, __LINE__)
void mr_test_assert_below(const char *what, double value, double tol, const char *file, int line);

/* Path helpers: "$MR_TEST_DATA/rel" and "$MR_TEST_TMP/rel" into a static per-call buffer
 * (copy the result if you need two at once). */
const char *mr_test_data(const char *rel);
const char *mr_test_tmp(const char *rel);
/* mr_test_tmp(rel) in a malloc'd copy (the caller frees). */
char *mr_test_tmp_dup(const char *rel);

/* The whole file at path, NUL-terminated (malloc'd; the caller frees), its length without the
 * NUL in *len (len may be NULL); NULL when the file cannot be opened. */
char *mr_test_slurp(const char *path, size_t *len);

#endif
