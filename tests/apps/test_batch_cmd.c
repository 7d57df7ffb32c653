/* runs/tasks.h schedules (serial, shards) and `mrirecon batch` in-process on a real file:
 * the outputs and the log of a run, the rerun that skips, usage errors; the process-level
 * cases (kill and resume, concurrent shards, mpirun) are tests/apps/batch_runs.py. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs/batch.h"
#include "runs/tasks.h"

int mr_main_batch(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* the indices a schedule hands out, -1 terminated */
static void collect(const struct mr_tasks_config *cfg, int64_t n, int64_t *got, int max)
{
    struct mr_tasks *t = NULL;
    int k = 0;
    int64_t i;
    assert_int_equal(mr_tasks_create(cfg, n, &t), MR_OK);
    while (mr_tasks_next(t, &i)) {
        assert_true(k < max);
        got[k++] = i;
        assert_int_equal(mr_tasks_finished(t), k);
    }
    got[k] = -1;
    assert_int_equal(mr_tasks_rank(t), 0);
    assert_int_equal(mr_tasks_size(t), 1);
    mr_tasks_free(t, MR_OK);
}

static void test_tasks_serial_and_shards(void **state)
{
    (void)state;
    int64_t got[16];
    struct mr_tasks_config cfg = mr_tasks_config_default;
    collect(&cfg, 5, got, 15);
    for (int i = 0; i < 5; i++)
        assert_int_equal(got[i], i);
    assert_int_equal(got[5], -1);
    /* shards 0/3, 1/3, 2/3 of 7 tasks: a partition, each in order */
    int seen[7] = { 0 };
    for (int s = 0; s < 3; s++) {
        assert_int_equal(mr_tasks_parse_shard((const char *[]){ "0/3", "1/3", "2/3" }[s],
                                              &cfg.shard_index, &cfg.shard_count), MR_OK);
        collect(&cfg, 7, got, 15);
        for (int k = 0; got[k] >= 0; k++) {
            assert_int_equal(got[k] % 3, s);
            assert_true(k == 0 || got[k] > got[k - 1]);
            seen[got[k]]++;
        }
    }
    for (int i = 0; i < 7; i++)
        assert_int_equal(seen[i], 1);
    cfg.shard_index = 0;
    cfg.shard_count = 4; /* more shards than tasks: some get none */
    collect(&cfg, 0, got, 15);
    assert_int_equal(got[0], -1);
    int a = 0;
    int b = 0;
    const char *bad[] = { "2/2", "-1/2", "1", "1/0", "a/b", "0/2x", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mr_tasks_parse_shard(bad[i], &a, &b), MR_ERR_ARG);
    cfg = mr_tasks_config_default;
    cfg.mpi = true; /* MPI not initialised (or not built) */
    struct mr_tasks *t = NULL;
    assert_int_equal(mr_tasks_create(&cfg, 3, &t), MR_ERR_ARG);
    assert_null(t);
}

static long file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_batch_cmd_list_run_and_rerun(void **state)
{
    (void)state;
    char list[1024];
    char out[1024];
    char path[1200];
    char data[1024];
    snprintf(data, sizeof(data), "%s", mr_test_data("maskeval/ixi_axial2.h5"));
    snprintf(list, sizeof(list), "%s", mr_test_tmp("batch_cmd_list.txt"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("batch_cmd_out"));
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "# one good file, one missing\n%s\n\n/nonexistent/missing.h5\n", data);
    fclose(f);
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out); /* a fresh folder each run */
    assert_int_equal(system(cmd), 0);
    char *run1[] = { "batch", "-q", "-m", "zf", "--format", "nii", list, out, NULL };
    assert_int_equal(mr_main_batch(ARGC(run1), run1), 1); /* the missing file fails */
    snprintf(path, sizeof(path), "%s/ixi_axial2.nii", out);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/batch.jsonl", out);
    assert_int_equal(file_lines(path), 2);
    /* a rerun: the output is skipped, the failure retried (one more line) */
    assert_int_equal(mr_main_batch(ARGC(run1), run1), 1);
    assert_int_equal(file_lines(path), 3);
    /* other options: refused */
    char *run2[] = { "batch", "-q", "-m", "sense", "--format", "nii", list, out, NULL };
    assert_int_equal(mr_main_batch(ARGC(run2), run2), 2);
    assert_int_equal(file_lines(path), 3);
}

static void test_batch_cmd_usage(void **state)
{
    (void)state;
    char *a[] = { "batch", "--shard", "3/2", "in", "out", NULL };
    assert_int_equal(mr_main_batch(ARGC(a), a), 2);
    char *b[] = { "batch", "--schedule", "greedy", "in", "out", NULL };
    assert_int_equal(mr_main_batch(ARGC(b), b), 2);
    char *c[] = { "batch", "in", NULL };
    assert_int_equal(mr_main_batch(ARGC(c), c), 2);
    char *d[] = { "batch", "-m", "nosuch", "in", "out", NULL };
    assert_int_equal(mr_main_batch(ARGC(d), d), 2);
    if (!mr_mpi_built()) {
        char *e[] = { "batch", "--mpi", "in", "out", NULL };
        assert_int_equal(mr_main_batch(ARGC(e), e), 2);
    }
    char none[1024];
    snprintf(none, sizeof(none), "%s", mr_test_tmp("batch_cmd_none"));
    char *g[] = { "batch", "-q", "/nonexistent/in", none, NULL };
    assert_int_equal(mr_main_batch(ARGC(g), g), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_serial_and_shards),
        cmocka_unit_test(test_batch_cmd_list_run_and_rerun),
        cmocka_unit_test(test_batch_cmd_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
