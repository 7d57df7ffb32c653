/*
 * Every io/ writer on a full disk (RLIMIT_FSIZE in a child process) and on a folder it cannot
 * write: the target keeps its old contents, no "<path>.tmp-*" is left (#15: a 0-byte
 * *.tmp-PID stayed behind when HDF5 could not create the file), and the error names the
 * target. Also the atomic helper's three modes (stdio, descriptor, by name), mr_same_file,
 * and the .npy readers: shapes checked against the bytes stored and the memory limit, and
 * mr_npy_read_mask.
 */
#include "io_test.h"
#include "mr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/fastmri_recon_writer.h"
#include "io/h5.h"
#include "io/mrd.h"
#include "io/nifti.h"
#include "io/npy.h"
#include "io/png.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool holds(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

/* ---- the helper --------------------------------------------------------------------------- */

static void test_atomic_file_modes(void **state)
{
    char path[1024];
    struct mr_atomic_file af = { 0 };
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("atomic.txt"));
    io_test_clean(path);
    put(path, "old");
    /* stdio */
    assert_int_equal(mr_atomic_file_open(&af, path), MR_OK);
    assert_int_equal(io_test_count_tmp(path), 1);
    fputs("new", af.f);
    assert_true(holds(path, "old")); /* nothing visible before commit */
    assert_int_equal(mr_atomic_file_commit(&af), MR_OK);
    assert_true(holds(path, "new"));
    assert_int_equal(io_test_count_tmp(path), 0);
    mr_atomic_file_abort(&af); /* released: a no-op */
    /* a descriptor (the MRD stream writers) */
    assert_int_equal(mr_atomic_file_open(&af, path), MR_OK);
    assert_int_equal(mr_mrd_write_close(af.fd), MR_OK);
    assert_int_equal(mr_atomic_file_commit(&af), MR_OK);
    assert_true(holds(path, "\x04")); /* id 4 = CLOSE, little-endian */
    /* abandoned */
    assert_int_equal(mr_atomic_file_open(&af, path), MR_OK);
    fputs("half", af.f);
    mr_atomic_file_abort(&af);
    assert_true(holds(path, "\x04"));
    assert_int_equal(io_test_count_tmp(path), 0);
    /* by name, for a library */
    assert_int_equal(mr_atomic_file_reserve(&af, path), MR_OK);
    assert_null(af.f);
    put(af.tmp, "by name");
    assert_int_equal(mr_atomic_file_commit(&af), MR_OK);
    assert_true(holds(path, "by name"));
    /* a folder that does not exist */
    assert_int_equal(mr_atomic_file_open(&af, mr_test_tmp("no/such/dir/x.txt")), MR_ERR_IO);
    io_assert_error_mentions("no/such/dir/x.txt", NULL);
    mr_atomic_file_abort(&af);
    assert_int_equal(mr_atomic_file_commit(&af), MR_ERR_ARG); /* nothing open */
}

static void test_same_file(void **state)
{
    char a[1024];
    char b[1024];
    char c[1024];
    (void)state;

    snprintf(a, sizeof(a), "%s", mr_test_tmp("same_a.h5"));
    snprintf(b, sizeof(b), "%s", mr_test_tmp("same_b.h5"));
    snprintf(c, sizeof(c), "%s", mr_test_tmp("same_link.h5"));
    put(a, "a");
    put(b, "b");
    unlink(c);
    assert_int_equal(symlink(a, c), 0);
    assert_true(mr_same_file(a, a));
    assert_true(mr_same_file(c, a)); /* through a link */
    assert_false(mr_same_file(a, b));
    assert_false(mr_same_file(mr_test_tmp("absent.h5"), a)); /* a new output */
    assert_false(mr_same_file(a, mr_test_tmp("absent.h5")));
}

/* ---- full disks ----------------------------------------------------------------------------- */

struct job {
    int kind;
    const char *path;
};

enum { JOB_NPY, JOB_PNG, JOB_NIFTI, JOB_H5, JOB_RECON, JOB_STREAM, JOB_COUNT };

static const char *job_name[] = { "out.npy", "out.png", "out.nii", "out.h5", "recon.h5",
                                  "out.mrd" };

/* path = an HDF5 file with the dataset "x" = a, through io/h5's atomic writer */
static mr_status write_h5(const char *path, const struct mr_array *a)
{
    struct mr_h5 *h = NULL;
    mr_status st = mr_h5_create(path, &h);
    if (st == MR_OK)
        st = mr_h5_write(h, "x", a);
    if (st == MR_OK) {
        st = mr_h5_commit(h);
        h = NULL;
    }
    mr_h5_close(h);
    return st;
}

/* Writes about 1 MiB with the writer of job->kind. */
static mr_status run_job(void *arg)
{
    const struct job *j = arg;
    struct mr_array a;
    mr_status st = mr_array_init_dims(&a, MR_DTYPE_F32, 3, (int64_t)4, (int64_t)256,
                                      (int64_t)256);
    if (st != MR_OK)
        return st;
    mr_test_rand(&a, 1);
    struct mr_atomic_file af = { 0 };
    switch (j->kind) {
    case JOB_NPY: st = mr_npy_write(j->path, &a, MR_NPY_TYPE_NATIVE); break;
    case JOB_PNG: st = mr_png_write_gray(j->path, &a, NULL); break;
    case JOB_NIFTI: st = mr_nifti_write(j->path, &a, NULL); break;
    case JOB_H5: st = write_h5(j->path, &a); break;
    case JOB_RECON: st = mr_fastmri_recon_write_volume(j->path, &a, 200, 200, "zf"); break;
    case JOB_STREAM:
        st = mr_atomic_file_open(&af, j->path);
        for (int k = 0; k < 64 && st == MR_OK; k++)
            st = mr_mrd_write_text_message(af.fd, MR_MRD_TEXT, (const char *)a.data, 16384);
        if (st == MR_OK)
            st = mr_atomic_file_commit(&af);
        else /* the MRD writers know a descriptor only: the caller names the file */
            mr_fail_context(st, "writing '%s'", j->path);
        mr_atomic_file_abort(&af);
        break;
    }
    mr_array_cleanup(&a);
    return st;
}

static void test_writers_on_a_full_disk_keep_the_old_file(void **state)
{
    char path[1024];
    char msg[1024];
    (void)state;

    for (int k = 0; k < JOB_COUNT; k++) {
        snprintf(path, sizeof(path), "%s", mr_test_tmp(job_name[k]));
        io_test_clean(path);
        put(path, "old");
        struct job j = { .kind = k, .path = path };
        int rc = io_test_with_fsize_limit(run_job, &j, 64 << 10, msg, sizeof(msg));
        if (rc == -1000)
            fail_msg("%s: the writer crashed on a full disk", job_name[k]);
        if (rc != MR_ERR_IO)
            fail_msg("%s: status %d (%s), expected MR_ERR_IO", job_name[k], rc, msg);
        if (strstr(msg, job_name[k]) == NULL)
            fail_msg("%s: the message \"%s\" does not name the file", job_name[k], msg);
        assert_true(holds(path, "old"));
        assert_int_equal(io_test_count_tmp(path), 0);
        /* with room, the same job replaces the old file */
        assert_int_equal(io_test_with_fsize_limit(run_job, &j, 1 << 30, msg, sizeof(msg)),
                         MR_OK);
        assert_false(holds(path, "old"));
        assert_int_equal(io_test_count_tmp(path), 0);
    }
}

/* No room even for HDF5's first bytes: creating the file fails, and the reserved temporary
 * file must go too. */
static mr_status create_h5(void *arg)
{
    struct mr_array a;
    mr_status st = mr_array_init_dims(&a, MR_DTYPE_F32, 1, (int64_t)4);
    if (st == MR_OK)
        st = write_h5(arg, &a);
    mr_array_cleanup(&a);
    return st;
}

static void test_h5_create_failure_leaves_no_temporary_file(void **state)
{
    char path[1024];
    char msg[1024];
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("nothing.h5"));
    io_test_clean(path);
    assert_int_equal(io_test_with_fsize_limit(create_h5, path, 0, msg, sizeof(msg)), MR_ERR_IO);
    assert_non_null(strstr(msg, "nothing.h5"));
    assert_false(io_test_exists(path));
    assert_int_equal(io_test_count_tmp(path), 0);
}

/* ---- .npy ---------------------------------------------------------------------------------- */

/* A .npy file: header dict `dict`, then `data` bytes of payload. */
static const char *write_npy(const char *name, const char *dict, const void *data, size_t n)
{
    static char path[1024];
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
    char hdr[256];
    size_t dl = strlen(dict);
    size_t hlen = (10 + dl + 1 + 63) / 64 * 64 - 10;
    memset(hdr, ' ', hlen);
    memcpy(hdr, dict, dl);
    hdr[hlen - 1] = '\n';
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    snprintf(path, sizeof(path), "%s", mr_test_tmp(name));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, hlen, f);
    if (n > 0)
        fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static void test_npy_sizes_checked_before_allocating(void **state)
{
    struct mr_array a;
    static const float six[6] = { 1, 2, 3, 4, 5, 6 };
    (void)state;

    /* a shape claiming far more than the file holds: refused before allocating */
    assert_int_equal(mr_npy_read(write_npy("claims.npy", "{'descr': '<f4', 'fortran_order': "
                                           "False, 'shape': (100000, 100000), }", six,
                                           sizeof(six)), &a),
                     MR_ERR_FORMAT);
    io_assert_error_mentions("claims.npy' is truncated", "shape (100000, 100000)");
    /* a shape whose product wraps */
    assert_int_equal(mr_npy_read(write_npy("wraps.npy", "{'descr': '<c8', 'fortran_order': "
                                           "False, 'shape': (4294967296, 4294967296, 2), }",
                                           six, sizeof(six)), &a),
                     MR_ERR_FORMAT);
    io_assert_error_mentions("wraps.npy", "too large");
    /* within the file, over the memory limit */
    mr_memory_limit_set(40);
    assert_int_equal(mr_npy_read(write_npy("six.npy", "{'descr': '<f4', 'fortran_order': "
                                           "False, 'shape': (2, 3), }", six, sizeof(six)), &a),
                     MR_ERR_NOMEM);
    io_assert_error_mentions("six.npy", "memory limit of 40 bytes");
    mr_memory_limit_set(0);
    assert_int_equal(mr_npy_read(write_npy("six.npy", "{'descr': '<f4', 'fortran_order': "
                                           "False, 'shape': (2, 3), }", six, sizeof(six)), &a),
                     MR_OK);
    mr_array_cleanup(&a);
}

static void test_npy_read_mask(void **state)
{
    struct mr_array m;
    static const unsigned char cols[5] = { 0, 1, 0, 3, 0 };
    static const float full[3 * 5] = { 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, -1 };
    static const float zero[5] = { 0 };
    static const float nan5[5] = { 0, 1, NAN, 0, 0 };
    (void)state;

    /* a column mask of length W: the same pattern on every row, nonzero -> 1 */
    assert_int_equal(mr_npy_read_mask(write_npy("cols.npy", "{'descr': '|u1', 'fortran_order':"
                                                " False, 'shape': (5,), }", cols, 5), 3, 5, &m),
                     MR_OK);
    assert_int_equal(m.ndim, 2);
    assert_int_equal(m.dims[0], 3);
    assert_int_equal(m.dims[1], 5);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            assert_true(mr_array_f32(&m)[y * 5 + x] == (cols[x] != 0 ? 1.0f : 0.0f));
    mr_array_cleanup(&m);
    /* (1, W) is a column mask too */
    assert_int_equal(mr_npy_read_mask(write_npy("cols1.npy", "{'descr': '|u1', "
                                                "'fortran_order': False, 'shape': (1, 5), }",
                                                cols, 5), 3, 5, &m), MR_OK);
    mr_array_cleanup(&m);
    /* a full (H, W) mask */
    assert_int_equal(mr_npy_read_mask(write_npy("full.npy", "{'descr': '<f4', 'fortran_order':"
                                                " False, 'shape': (3, 5), }", full,
                                                sizeof(full)), 3, 5, &m), MR_OK);
    for (int i = 0; i < 15; i++)
        assert_true(mr_array_f32(&m)[i] == (full[i] != 0.0f ? 1.0f : 0.0f));
    mr_array_cleanup(&m);
    /* errors: shape, nothing sampled, NaN, complex */
    assert_int_equal(mr_npy_read_mask(write_npy("full.npy", "{'descr': '<f4', 'fortran_order':"
                                                " False, 'shape': (3, 5), }", full,
                                                sizeof(full)), 4, 5, &m), MR_ERR_SHAPE);
    io_assert_error_mentions("full.npy' has shape (3, 5)", "(5,) columns or (4, 5)");
    assert_null(m.data);
    assert_int_equal(mr_npy_read_mask(write_npy("zero.npy", "{'descr': '<f4', 'fortran_order':"
                                                " False, 'shape': (5,), }", zero,
                                                sizeof(zero)), 3, 5, &m), MR_ERR_DATA);
    io_assert_error_mentions("zero.npy' samples nothing", NULL);
    assert_int_equal(mr_npy_read_mask(write_npy("nan.npy", "{'descr': '<f4', 'fortran_order':"
                                                " False, 'shape': (5,), }", nan5,
                                                sizeof(nan5)), 3, 5, &m), MR_ERR_DATA);
    io_assert_error_mentions("nan.npy' holds NaN at element 2", NULL);
    assert_int_equal(mr_npy_read_mask(write_npy("cplx.npy", "{'descr': '<c8', 'fortran_order':"
                                                " False, 'shape': (2,), }", full, 16), 3, 2,
                                      &m), MR_ERR_FORMAT);
    io_assert_error_mentions("cplx.npy' is complex", NULL);
    assert_int_equal(mr_npy_read_mask(mr_test_tmp("absent.npy"), 3, 5, &m), MR_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_file_modes),
        cmocka_unit_test(test_same_file),
        cmocka_unit_test(test_writers_on_a_full_disk_keep_the_old_file),
        cmocka_unit_test(test_h5_create_failure_leaves_no_temporary_file),
        cmocka_unit_test(test_npy_sizes_checked_before_allocating),
        cmocka_unit_test(test_npy_read_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
