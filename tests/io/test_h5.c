/* io/h5: every element type h5py writes (committed fixture made by tests/data/io/
 * make_fixtures.py), write → read round trips, atomic create/commit/abandon, listing, slabs,
 * and every error path on real malformed files (missing, empty, text, truncated, wrong types)
 * — with HDF5's own error printing checked to stay silent. */
#include "io_test.h"
#include "mr_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/h5.h"

static char *xstrdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Runs with stderr redirected to a file; returns how many bytes were printed. */
static int stderr_fd = -1;
static const char *stderr_path;
static void capture_stderr_begin(void)
{
    fflush(stderr);
    stderr_path = xstrdup(mr_test_tmp("stderr.txt"));
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    stderr_fd = dup(2);
    dup2(fd, 2);
    close(fd);
}

static long capture_stderr_end(void)
{
    struct stat sb;
    fflush(stderr);
    dup2(stderr_fd, 2);
    close(stderr_fd);
    assert_int_equal(stat(stderr_path, &sb), 0);
    free((char *)stderr_path);
    return (long)sb.st_size;
}

/* ---- the h5py fixture ------------------------------------------------------------------- */

static void test_h5_reads_h5py_types(void **state)
{
    struct mr_h5 *h = NULL;
    struct mr_array a;
    (void)state;

    assert_int_equal(mr_h5_open(mr_test_data("io/h5py_types.h5"), &h), MR_OK);

    assert_int_equal(mr_h5_read(h, "c64", &a), MR_OK); /* complex64 (2, 3) */
    assert_int_equal(a.dtype, MR_DTYPE_CF32);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.dims[0], 2);
    assert_int_equal(a.dims[1], 3);
    for (int i = 0; i < 6; i++)
        assert_true(mr_array_cf32(&a)[i] == (float)i * (1.0f + 2.0f * I));
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "/c128", &a), MR_OK); /* complex128 → CF32 */
    assert_int_equal(a.dtype, MR_DTYPE_CF32);
    assert_int_equal(a.dims[0], 4);
    assert_true(mr_array_cf32(&a)[3] == 1.5f + 0.25f * I);
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "f64", &a), MR_OK);
    assert_int_equal(a.dtype, MR_DTYPE_F32);
    assert_true(mr_array_f32(&a)[0] == -1.0f && mr_array_f32(&a)[2] == 0.0f);
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "i16", &a), MR_OK);
    assert_int_equal(a.ndim, 2);
    assert_true(mr_array_f32(&a)[0] == -3.0f && mr_array_f32(&a)[2] == 7.0f);
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "u64", &a), MR_OK);
    assert_true(mr_array_f32(&a)[2] == 1048576.0f);
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "bool", &a), MR_OK); /* h5py bool = enum over int8 */
    assert_true(mr_array_f32(&a)[0] == 1.0f && mr_array_f32(&a)[1] == 0.0f &&
                mr_array_f32(&a)[2] == 1.0f);
    mr_array_cleanup(&a);

    assert_int_equal(mr_h5_read(h, "scalar_f32", &a), MR_OK);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(mr_array_numel(&a), 1);
    assert_true(mr_array_f32(&a)[0] == 2.5f);
    mr_array_cleanup(&a);

    int64_t v = 0;
    assert_int_equal(mr_h5_read_i64(h, "num_low_frequencies", &v), MR_OK);
    assert_int_equal(v, 26);
    assert_int_equal(mr_h5_read_i64(h, "flag", &v), MR_OK);
    assert_int_equal(v, 1);

    char *s = NULL;
    size_t len = 0;
    assert_int_equal(mr_h5_read_string_dataset(h, "text_bytes", &s, &len), MR_OK);
    assert_string_equal(s, "hello bytes");
    assert_int_equal(len, 11);
    free(s);
    assert_int_equal(mr_h5_read_string_dataset(h, "text_vlen_bytes", &s, NULL), MR_OK);
    assert_string_equal(s, "hello vlen bytes");
    free(s);
    assert_int_equal(mr_h5_read_string_dataset(h, "text_vlen", &s, NULL), MR_OK);
    assert_string_equal(s, "hello vlen");
    free(s);
    assert_int_equal(mr_h5_read_string_dataset(h, "/dataset/xml", &s, &len), MR_OK);
    assert_string_equal(s, "<ismrmrdHeader/>");
    assert_int_equal(len, 16);
    free(s);

    assert_int_equal(mr_h5_read_attr_string(h, "/", "vlen_str", &s), MR_OK);
    assert_string_equal(s, "AXT1");
    free(s);
    assert_int_equal(mr_h5_read_attr_string(h, "/", "fixed_str", &s), MR_OK);
    assert_string_equal(s, "CORPD_FBK");
    free(s);
    assert_int_equal(mr_h5_read_attr_string(h, "c64", "unit", &s), MR_OK);
    assert_string_equal(s, "a.u.");
    free(s);

    double d = 0.0;
    assert_int_equal(mr_h5_read_attr_double(h, "/", "max", &d), MR_OK);
    assert_true(d == 0.000123);
    assert_int_equal(mr_h5_read_attr_double(h, "/", "f32", &d), MR_OK);
    assert_true(d == 1.5);
    assert_int_equal(mr_h5_read_attr_double(h, "/", "acceleration", &d), MR_OK);
    assert_true(d == 4.0);
    assert_int_equal(mr_h5_read_attr_i64(h, "/", "acceleration", &v), MR_OK);
    assert_int_equal(v, 4);
    assert_true(mr_h5_has_attr(h, "/", "max"));
    assert_false(mr_h5_has_attr(h, "/", "min"));
    assert_false(mr_h5_has_attr(h, "/nope", "max"));

    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    bool cplx = false;
    assert_int_equal(mr_h5_dims(h, "weights/cascades.0.model.conv.weight", &ndim, dims, &cplx),
                     MR_OK);
    assert_int_equal(ndim, 4);
    assert_int_equal(dims[0], 2);
    assert_int_equal(dims[1], 1);
    assert_int_equal(dims[3], 3);
    assert_false(cplx);
    assert_int_equal(mr_h5_dims(h, "c64", &ndim, dims, &cplx), MR_OK);
    assert_true(cplx);

    assert_true(mr_h5_exists(h, "/weights/cascades.0.dc_weight"));
    assert_true(mr_h5_exists(h, "weights"));
    assert_true(mr_h5_exists(h, "/"));
    assert_false(mr_h5_exists(h, "/weights/cascades.2.dc_weight"));
    assert_false(mr_h5_exists(h, "/nope/deeper/still"));

    char **names = NULL;
    size_t count = 0;
    assert_int_equal(mr_h5_list(h, "/weights", &names, &count), MR_OK);
    assert_int_equal(count, 3);
    assert_string_equal(names[0], "cascades.0.dc_weight");
    assert_string_equal(names[1], "cascades.0.model.conv.weight");
    assert_string_equal(names[2], "cascades.1.dc_weight");
    mr_h5_free_names(names, count);
    assert_int_equal(mr_h5_list(h, "/", &names, &count), MR_OK);
    assert_int_equal(count, 17);
    assert_string_equal(names[count - 1], "weights/cascades.1.dc_weight");
    mr_h5_free_names(names, count);

    mr_h5_close(h);
}

static void test_h5_type_errors_name_file_and_object(void **state)
{
    struct mr_h5 *h = NULL;
    struct mr_array a;
    char *s = NULL;
    int64_t v = 0;
    double d = 0.0;
    char **names = NULL;
    size_t count = 0;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    (void)state;

    assert_int_equal(mr_h5_open(mr_test_data("io/h5py_types.h5"), &h), MR_OK);
    capture_stderr_begin();

    assert_int_equal(mr_h5_read(h, "missing", &a), MR_ERR_FORMAT);
    io_assert_error_mentions("h5py_types.h5", "'missing'");
    assert_null(a.data);
    assert_int_equal(mr_h5_read(h, "weights", &a), MR_ERR_FORMAT); /* a group */
    io_assert_error_mentions("'weights'", "not a readable dataset");
    assert_int_equal(mr_h5_read(h, "text_bytes", &a), MR_ERR_FORMAT);
    io_assert_error_mentions("'text_bytes'", "expected numbers");
    assert_int_equal(mr_h5_dims(h, "strings", &ndim, dims, NULL), MR_ERR_FORMAT);
    assert_int_equal(mr_h5_read_i64(h, "f64", &v), MR_ERR_FORMAT);
    io_assert_error_mentions("'f64'", "expected an integer");
    assert_int_equal(mr_h5_read_i64(h, "i16", &v), MR_ERR_FORMAT); /* 3 values */
    io_assert_error_mentions("3 values", NULL);
    assert_int_equal(mr_h5_read_string_dataset(h, "c64", &s, NULL), MR_ERR_FORMAT);
    io_assert_error_mentions("expected a string", NULL);
    assert_null(s);
    assert_int_equal(mr_h5_read_string_dataset(h, "strings", &s, NULL), MR_ERR_FORMAT);
    io_assert_error_mentions("2 strings", NULL);
    assert_int_equal(mr_h5_read_attr_string(h, "/", "nope", &s), MR_ERR_FORMAT);
    io_assert_error_mentions("no attribute 'nope'", "h5py_types.h5");
    assert_int_equal(mr_h5_read_attr_string(h, "/", "max", &s), MR_ERR_FORMAT);
    assert_int_equal(mr_h5_read_attr_string(h, "/absent", "max", &s), MR_ERR_FORMAT);
    io_assert_error_mentions("'/absent'", NULL);
    assert_int_equal(mr_h5_read_attr_double(h, "/", "vlen_str", &d), MR_ERR_FORMAT);
    io_assert_error_mentions("expected a number", NULL);
    assert_int_equal(mr_h5_read_attr_double(h, "/", "vec", &d), MR_ERR_FORMAT);
    assert_int_equal(mr_h5_read_attr_i64(h, "/", "max", &v), MR_ERR_FORMAT);
    assert_int_equal(mr_h5_list(h, "/missing", &names, &count), MR_ERR_FORMAT);
    assert_int_equal(mr_h5_list(h, "c64", &names, &count), MR_ERR_FORMAT);
    io_assert_error_mentions("not a group", NULL);
    assert_int_equal(count, 0);

    struct mr_array dst;
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 1, (int64_t)3), MR_OK);
    assert_int_equal(mr_h5_read_slab(h, "c64", 2, &dst), MR_ERR_ARG); /* only 2 rows */
    assert_int_equal(mr_h5_read_slab(h, "c64", -1, &dst), MR_ERR_ARG);
    assert_int_equal(mr_h5_read_slab(h, "c64", 1, &dst), MR_OK);
    assert_true(mr_array_cf32(&dst)[0] == 3.0f * (1.0f + 2.0f * I));
    assert_int_equal(mr_h5_read_slab(h, "f64", 0, &dst), MR_ERR_SHAPE); /* real into CF32 */
    assert_int_equal(mr_h5_read_slab(h, "scalar_f32", 0, &dst), MR_ERR_SHAPE);
    mr_array_cleanup(&dst);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 1, (int64_t)4), MR_OK);
    assert_int_equal(mr_h5_read_slab(h, "c64", 0, &dst), MR_ERR_SHAPE); /* 4 != 3 */
    io_assert_error_mentions("h5py_types.h5", "'c64'");
    mr_array_cleanup(&dst);
    /* an entry of a sliced dataset, or the whole dataset */
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 1, (int64_t)3), MR_OK);
    assert_int_equal(mr_h5_read_entry(h, "c64", true, 1, &dst), MR_OK);
    assert_true(mr_array_cf32(&dst)[0] == 3.0f * (1.0f + 2.0f * I));
    assert_int_equal(mr_h5_read_entry(h, "c64", true, 2, &dst), MR_ERR_ARG);
    mr_array_cleanup(&dst);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 2, (int64_t)2, (int64_t)3), MR_OK);
    assert_int_equal(mr_h5_read_entry(h, "c64", false, 1, &dst), MR_OK);
    assert_true(mr_array_cf32(&dst)[3] == 3.0f * (1.0f + 2.0f * I));
    assert_int_equal(mr_h5_read_entry(h, "absent", false, 0, &dst), MR_ERR_FORMAT);
    mr_array_cleanup(&dst);

    struct mr_array x;
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 1, (int64_t)2), MR_OK);
    assert_int_equal(mr_h5_write(h, "new", &x), MR_ERR_ARG); /* reader */
    io_assert_error_mentions("read-only", NULL);
    assert_int_equal(mr_h5_write_attr_double(h, "/", "x", 1.0), MR_ERR_ARG);
    mr_array_cleanup(&x);

    assert_int_equal(capture_stderr_end(), 0); /* HDF5 printed nothing */
    mr_h5_close(h);
}

/* ---- files that are not (whole) HDF5 ---------------------------------------------------- */

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n > 0)
        assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void copy_truncated(const char *src, const char *dst, long keep)
{
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    char *buf = malloc((size_t)keep);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)keep, in), (size_t)keep);
    fclose(in);
    write_bytes(dst, buf, (size_t)keep);
    free(buf);
}

static void test_h5_open_rejects_bad_files(void **state)
{
    struct mr_h5 *h = (struct mr_h5 *)0x1;
    char *path = NULL;
    (void)state;

    capture_stderr_begin();
    assert_int_equal(mr_h5_open(mr_test_tmp("does_not_exist.h5"), &h), MR_ERR_IO);
    assert_null(h);
    io_assert_error_mentions("does_not_exist.h5", "No such file");

    assert_int_equal(mr_h5_open(mr_test_tmp(""), &h), MR_ERR_IO); /* a directory */
    io_assert_error_mentions("not a regular file", NULL);

    path = xstrdup(mr_test_tmp("empty.h5"));
    write_bytes(path, "", 0);
    assert_int_equal(mr_h5_open(path, &h), MR_ERR_FORMAT);
    io_assert_error_mentions("empty.h5", "not an HDF5 file");
    free(path);

    path = xstrdup(mr_test_tmp("text.h5"));
    write_bytes(path, "kspace = [1, 2, 3]\n", 19);
    assert_int_equal(mr_h5_open(path, &h), MR_ERR_FORMAT);
    io_assert_error_mentions("text.h5", "not an HDF5 file");
    free(path);

    /* a real file cut short: the superblock survives, the data does not */
    path = xstrdup(mr_test_tmp("truncated.h5"));
    copy_truncated(mr_test_data("io/fastmri_multicoil.h5"), path, 3000);
    assert_int_equal(mr_h5_open(path, &h), MR_ERR_FORMAT);
    io_assert_error_mentions("truncated.h5", "truncated");
    assert_null(h);
    free(path);

    /* cut inside the superblock */
    path = xstrdup(mr_test_tmp("truncated_sb.h5"));
    copy_truncated(mr_test_data("io/fastmri_multicoil.h5"), path, 20);
    assert_int_equal(mr_h5_open(path, &h), MR_ERR_FORMAT);
    io_assert_error_mentions("truncated_sb.h5", NULL);
    free(path);

    assert_int_equal(capture_stderr_end(), 0);
}

/* ---- writing ---------------------------------------------------------------------------- */

static void test_h5_write_read_roundtrip(void **state)
{
    struct mr_h5 *h = NULL;
    struct mr_array c;
    struct mr_array f;
    struct mr_array s;
    struct mr_array back;
    char *path = xstrdup(mr_test_tmp("roundtrip.h5"));
    char *str = NULL;
    (void)state;

    io_test_clean(path);
    assert_int_equal(mr_array_init_dims(&c, MR_DTYPE_CF32, 3, (int64_t)3, (int64_t)5, (int64_t)7),
                     MR_OK);
    assert_int_equal(mr_array_init_dims(&f, MR_DTYPE_F32, 2, (int64_t)4, (int64_t)9), MR_OK);
    assert_int_equal(mr_array_init(&s, MR_DTYPE_F32, 0, NULL), MR_OK);
    mr_test_rand(&c, 11);
    mr_test_rand(&f, 12);
    mr_array_f32(&s)[0] = 0.125f;

    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_false(file_exists(path)); /* only the temp file exists until commit */
    assert_int_equal(mr_h5_write(h, "/kspace", &c), MR_OK);
    assert_int_equal(mr_h5_write(h, "/weights/cascades.0.model.conv.weight", &f), MR_OK);
    assert_int_equal(mr_h5_write(h, "scalar", &s), MR_OK);
    assert_int_equal(mr_h5_write(h, "/kspace", &c), MR_ERR_ARG); /* exists */
    assert_int_equal(mr_h5_write_string_dataset(h, "ismrmrd_header", "<xml/>"), MR_OK);
    assert_int_equal(mr_h5_write_attr_string(h, "/", "acquisition", "CORPD_FBK"), MR_OK);
    assert_int_equal(mr_h5_write_attr_string(h, "/", "acquisition", "AXT2"), MR_OK); /* replace */
    assert_int_equal(mr_h5_write_attr_double(h, "/", "max", 3.5e-4), MR_OK);
    assert_int_equal(mr_h5_write_attr_i64(h, "/kspace", "num", -7), MR_OK);
    assert_int_equal(mr_h5_write_attr_i64(h, "/absent", "num", 1), MR_ERR_ARG);
    assert_int_equal(mr_h5_create_dataset(h, "/recon/slices", MR_DTYPE_F32, 3,
                                          (const int64_t[]){ 4, 4, 9 }),
                     MR_OK);
    struct mr_array row;
    mr_array_wrap(&row, MR_DTYPE_F32, 2, (const int64_t[]){ 4, 9 }, f.data);
    assert_int_equal(mr_h5_write_slab(h, "/recon/slices", 2, &row), MR_OK);
    assert_int_equal(mr_h5_write_slab(h, "/recon/slices", 4, &row), MR_ERR_ARG);
    assert_int_equal(mr_h5_write_slab(h, "/recon/slices", 0, &c), MR_ERR_SHAPE);
    assert_int_equal(mr_h5_commit(h), MR_OK);
    assert_true(file_exists(path));

    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "kspace", &back), MR_OK);
    assert_true(mr_array_same_shape(&back, &c));
    assert_memory_equal(back.data, c.data, mr_array_nbytes(&c));
    mr_array_cleanup(&back);
    assert_int_equal(mr_h5_read(h, "weights/cascades.0.model.conv.weight", &back), MR_OK);
    assert_true(mr_array_same_shape(&back, &f));
    assert_memory_equal(back.data, f.data, mr_array_nbytes(&f));
    mr_array_cleanup(&back);
    assert_int_equal(mr_h5_read(h, "scalar", &back), MR_OK);
    assert_int_equal(back.ndim, 0);
    assert_true(mr_array_f32(&back)[0] == 0.125f);
    mr_array_cleanup(&back);
    assert_int_equal(mr_h5_read(h, "recon/slices", &back), MR_OK);
    assert_int_equal(back.dims[0], 4);
    assert_memory_equal(mr_array_f32(&back) + 2 * 36, f.data, 36 * sizeof(float));
    assert_true(mr_array_f32(&back)[0] == 0.0f && mr_array_f32(&back)[3 * 36 + 35] == 0.0f);
    mr_array_cleanup(&back);

    struct mr_array slab;
    assert_int_equal(mr_array_init_dims(&slab, MR_DTYPE_CF32, 2, (int64_t)5, (int64_t)7),
                     MR_OK);
    assert_int_equal(mr_h5_read_slab(h, "kspace", 1, &slab), MR_OK);
    assert_memory_equal(slab.data, mr_array_cf32(&c) + 35, 35 * sizeof(float complex));
    mr_array_cleanup(&slab);

    assert_int_equal(mr_h5_read_string_dataset(h, "ismrmrd_header", &str, NULL), MR_OK);
    assert_string_equal(str, "<xml/>");
    free(str);
    assert_int_equal(mr_h5_read_attr_string(h, "/", "acquisition", &str), MR_OK);
    assert_string_equal(str, "AXT2");
    free(str);
    double d = 0.0;
    assert_int_equal(mr_h5_read_attr_double(h, "/", "max", &d), MR_OK);
    assert_true(d == 3.5e-4);
    int64_t v = 0;
    assert_int_equal(mr_h5_read_attr_i64(h, "kspace", "num", &v), MR_OK);
    assert_int_equal(v, -7);
    assert_int_equal(mr_h5_commit(h), MR_ERR_ARG); /* a reader; the handle is released */

    mr_array_cleanup(&c);
    mr_array_cleanup(&f);
    mr_array_cleanup(&s);
    free(path);
}

static void test_h5_uncommitted_writer_leaves_nothing(void **state)
{
    struct mr_h5 *h = NULL;
    struct mr_array x;
    char *path = xstrdup(mr_test_tmp("abandoned.h5"));
    (void)state;

    io_test_clean(path);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 1, (int64_t)3), MR_OK);
    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_int_equal(io_test_count_tmp(path), 1);
    assert_int_equal(mr_h5_write(h, "x", &x), MR_OK);
    mr_h5_close(h); /* abandoned: neither file remains */
    assert_int_equal(io_test_count_tmp(path), 0);
    assert_false(file_exists(path));

    /* commit replaces an older file atomically */
    write_bytes(path, "old", 3);
    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_int_equal(mr_h5_write(h, "x", &x), MR_OK);
    struct mr_h5 *r = NULL;
    assert_int_equal(mr_h5_open(path, &r), MR_ERR_FORMAT); /* old file still in place */
    assert_int_equal(mr_h5_commit(h), MR_OK);
    assert_int_equal(io_test_count_tmp(path), 0);
    assert_int_equal(mr_h5_open(path, &r), MR_OK);
    assert_true(mr_h5_exists(r, "x"));
    mr_h5_close(r);

    /* a directory that does not exist */
    capture_stderr_begin();
    assert_int_equal(mr_h5_create(mr_test_tmp("no/such/dir/out.h5"), &h), MR_ERR_IO);
    io_assert_error_mentions("no/such/dir/out.h5", NULL);
    assert_null(h);
    assert_int_equal(capture_stderr_end(), 0);

    mr_h5_close(NULL);
    mr_array_cleanup(&x);
    free(path);
}

/* Files written by HDF5 itself in shapes h5py never makes: wrong compound members, a null
 * dataspace, a rank above MR_MAX_DIMS. */
static void test_h5_rejects_odd_types(void **state)
{
    char *path = xstrdup(mr_test_tmp("odd.h5"));
    struct mr_h5 *h = NULL;
    struct mr_array a;
    (void)state;

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t ct = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(ct, "real", 0, H5T_IEEE_F32LE);
    H5Tinsert(ct, "imag", 4, H5T_IEEE_F32LE);
    hsize_t n = 2;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "realimag", ct, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    hid_t nsp = H5Screate(H5S_NULL);
    d = H5Dcreate2(f, "null", H5T_IEEE_F32LE, nsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    hsize_t big[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 2 };
    hid_t bsp = H5Screate_simple(9, big, NULL);
    d = H5Dcreate2(f, "rank9", H5T_IEEE_F32LE, bsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(bsp);
    H5Sclose(nsp);
    H5Sclose(sp);
    H5Tclose(ct);
    H5Fclose(f);

    capture_stderr_begin();
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "realimag", &a), MR_ERR_FORMAT);
    io_assert_error_mentions("'realimag'", "complex {r, i}");
    assert_int_equal(mr_h5_read(h, "null", &a), MR_ERR_FORMAT);
    io_assert_error_mentions("null dataspace", NULL);
    assert_int_equal(mr_h5_read(h, "rank9", &a), MR_ERR_FORMAT);
    io_assert_error_mentions("rank 9", NULL);
    mr_h5_close(h);
    assert_int_equal(capture_stderr_end(), 0);
    free(path);
}

/* A variable-length string whose stored length is damaged (found by tests/fuzz's
 * fuzz_h5_bytes, input tests/data/fuzz/h5_bytes/known/): refused from its length before libhdf5
 * allocates a conversion buffer that long; within the file but over the memory limit: refused
 * by the limit. */
static void test_h5_damaged_vlen_string_length(void **state)
{
    char *path = xstrdup(mr_test_tmp("vlen_len.h5"));
    struct mr_h5 *h = NULL;
    char *s = NULL;
    (void)state;

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, "xml", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *text = "<ismrmrdHeader/>";
    assert_true(H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0);
    haddr_t at = H5Dget_offset(d);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(st);
    H5Fclose(f);
    assert_true(at != HADDR_UNDEF);

    /* the element's 4-byte length: 3,195,310,088 bytes as the fuzzer found, then 1 MiB */
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    const uint8_t huge[4] = {0x08, 0x90, 0x74, 0xbe};
    assert_int_equal(pwrite(fd, huge, 4, (off_t)at), 4);
    capture_stderr_begin();
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read_string_dataset(h, "xml", &s, NULL), MR_ERR_FORMAT);
    io_assert_error_mentions("claims a string of 3195310088 bytes", "'xml'");
    mr_h5_close(h);

    const uint8_t mib[4] = {0x00, 0x00, 0x10, 0x00};
    assert_int_equal(pwrite(fd, mib, 4, (off_t)at), 4);
    /* grow the file past 1 MiB so that only the memory limit can refuse it */
    assert_int_equal(ftruncate(fd, 2 << 20), 0);
    close(fd);
    uint64_t old = mr_memory_limit();
    mr_memory_limit_set(1 << 16);
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read_string_dataset(h, "xml", &s, NULL), MR_ERR_NOMEM);
    io_assert_error_mentions("over the memory limit", "'xml'");
    mr_h5_close(h);
    mr_memory_limit_set(old);
    assert_int_equal(capture_stderr_end(), 0);
    assert_null(s);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h5_reads_h5py_types),
        cmocka_unit_test(test_h5_type_errors_name_file_and_object),
        cmocka_unit_test(test_h5_open_rejects_bad_files),
        cmocka_unit_test(test_h5_write_read_roundtrip),
        cmocka_unit_test(test_h5_uncommitted_writer_leaves_nothing),
        cmocka_unit_test(test_h5_rejects_odd_types),
        cmocka_unit_test(test_h5_damaged_vlen_string_length),
        cmocka_unit_test(io_test_no_open_h5_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
