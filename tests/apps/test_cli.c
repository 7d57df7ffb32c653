/*
 * The mrirecon program as a user runs it (a child process, $MR_BIN_DIR/mrirecon): output that
 * cannot be written is a failure (stdout on /dev/full), errors are shown even with -q, and a
 * stream that gives no image is an error, not a success.
 */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char bin[4096];
static char src[4096];

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("MR_BIN_DIR");
    const char *s = getenv("MR_SOURCE_DIR");
    snprintf(bin, sizeof(bin), "%s/mrirecon", b != NULL ? b : "build/bin");
    snprintf(src, sizeof(src), "%s", s != NULL ? s : ".");
    return 0;
}

/* Runs `mrirecon ARGS` through the shell; returns its exit code; stderr goes to err_file. */
static int run(const char *args, const char *err_file)
{
    char cmd[32768];
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>'%s'", bin, args, err_file);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static size_t file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n > 0 ? (size_t)n : 0;
}

static void test_full_stdout_is_a_failure(void **state)
{
    char args[12000];
    char err[4096];
    char zf[4096];
    (void)state;
    snprintf(err, sizeof(err), "%s", mr_test_tmp("err.txt"));
    snprintf(zf, sizeof(zf), "%s", mr_test_tmp("zf.h5"));
    snprintf(args, sizeof(args), "recon -q -m zf '%s/data/sample/brain8_full.h5' '%s'", src, zf);
    assert_int_equal(run(args, err), 0);

    snprintf(args, sizeof(args), "info '%s/data/sample/brain8_full.h5' >/dev/full", src);
    assert_int_equal(run(args, err), 1);
    assert_true(file_size(err) > 0);
    snprintf(args, sizeof(args), "mask -t equispaced -s 32x32 -a 4 -o '%s' >/dev/full",
             mr_test_tmp("m.npy"));
    assert_int_equal(run(args, err), 1);
    assert_true(file_size(err) > 0);
    snprintf(args, sizeof(args), "metrics --target '%s' --pred '%s' >/dev/full", zf, zf);
    assert_int_equal(run(args, err), 1);
    assert_true(file_size(err) > 0);
    /* and the same commands with a working stdout succeed */
    snprintf(args, sizeof(args), "metrics --target '%s' --pred '%s' >/dev/null", zf, zf);
    assert_int_equal(run(args, err), 0);
}

/* --plan measure --wisdom W writes W and W.fftw; a later process reads both back, with no
 * warning (FFTW only takes wisdom from a planner with the same solvers, threads included) */
static void test_wisdom_read_by_another_process(void **state)
{
    char args[12000];
    char err[4096];
    char wis[4096];
    char fftw[4200];
    (void)state;
    snprintf(err, sizeof(err), "%s", mr_test_tmp("wisdom_err.txt"));
    snprintf(wis, sizeof(wis), "%s", mr_test_tmp("wisdom.txt"));
    snprintf(fftw, sizeof(fftw), "%s.fftw", wis);
    remove(wis);
    remove(fftw);
    snprintf(args, sizeof(args), "recon -q -m cg --iters 3 --plan measure --wisdom '%s' "
             "'%s/data/sample/brain8_full.h5' '%s'", wis, src, mr_test_tmp("cg.h5"));
    assert_int_equal(run(args, err), 0);
    assert_true(file_size(wis) > 0);
    assert_true(file_size(fftw) > 0);
    snprintf(args, sizeof(args), "recon -q -m cg --iters 3 --wisdom '%s' "
             "'%s/data/sample/brain8_full.h5' '%s'", wis, src, mr_test_tmp("cg2.h5"));
    assert_int_equal(run(args, err), 0);
    assert_int_equal(file_size(err), 0); /* no warning, no error */
}

static void test_stage_quiet_still_reports_errors(void **state)
{
    char args[12000];
    char err[4096];
    (void)state;
    snprintf(err, sizeof(err), "%s", mr_test_tmp("stage_err.txt"));
    /* not an MRD stream at all */
    snprintf(args, sizeof(args), "stage -q < '%s/data/README.md' > /dev/null", src);
    assert_int_equal(run(args, err), 1);
    assert_true(file_size(err) > 0);
}

/* only noise lines: the stage must fail (recon on the same data errors too) */
static void test_stream_without_imaging_lines_fails(void **state)
{
    char args[12000];
    char err[4096];
    (void)state;
    snprintf(err, sizeof(err), "%s", mr_test_tmp("noise_err.txt"));
    snprintf(args, sizeof(args),
             "to-stream '%s/tests/data/pipeline/sl96_a2.h5' | /usr/bin/python3 -c \""
             "import struct, sys\n"
             "d = sys.stdin.buffer.read(); o = sys.stdout.buffer; i = 0\n"
             "while i < len(d):\n"
             "    mid = struct.unpack_from('<H', d, i)[0]\n"
             "    if mid == 3:\n"
             "        n = struct.unpack_from('<I', d, i + 2)[0]; o.write(d[i:i + 6 + n]); i += 6 + n\n"
             "    elif mid == 1008:\n"
             "        h = d[i + 2:i + 342]; ns = struct.unpack_from('<H', h, 34)[0]\n"
             "        ch = struct.unpack_from('<H', h, 38)[0]\n"
             "        td = struct.unpack_from('<H', h, 176)[0]\n"
             "        n = 342 + 4 * ns * td + 8 * ns * ch\n"
             "        if struct.unpack_from('<Q', h, 2)[0] >> 18 & 1: o.write(d[i:i + n])\n"
             "        i += n\n"
             "    elif mid == 4:\n"
             "        o.write(d[i:i + 2]); i += 2\n"
             "    else:\n"
             "        sys.exit('unexpected message %%d' %% mid)\n"
             "\" | '%s' stage -q -m zf > /dev/null",
             src, bin);
    assert_int_equal(run(args, err), 1);
    FILE *f = fopen(err, "r");
    char line[2048] = { 0 };
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "no image"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_stdout_is_a_failure),
        cmocka_unit_test(test_stage_quiet_still_reports_errors),
        cmocka_unit_test(test_wisdom_read_by_another_process),
        cmocka_unit_test(test_stream_without_imaging_lines_fails),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
