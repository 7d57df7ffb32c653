/*
 * The files of a maskeval run that make it resumable and shardable (maskeval_run.h): the task
 * files (outdir/tasks/<hash>.csv, one per finished volume x mask x method task), their
 * loading into the row table and removal after the merge, the run's options kept in
 * outdir/maskeval.args, and the sort keys of rows read back from CSV.
 */
#include "runs/maskeval.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "runs/maskeval_run.h"

/* outdir/tasks/<hash of file, mask, method>.csv */
void mr_maskeval_task_file_name(char *buf, size_t len, const struct mr_maskeval_run *R,
                                int fi, int mi, int ji)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    size_t kl = strlen(R->files.v[fi]) + strlen(cfg->masks[mi].label) +
                strlen(cfg->methods[ji].label) + 3;
    char *key = malloc(kl);
    uint64_t h = 0;
    if (key != NULL) {
        snprintf(key, kl, "%s\n%s\n%s", R->files.v[fi], cfg->masks[mi].label,
                 cfg->methods[ji].label);
        h = mr_maskeval_hash(key);
    }
    free(key);
    snprintf(buf, len, "%s/tasks/%016llx.csv", cfg->outdir, (unsigned long long)h);
}

/* The task files now in outdir/tasks, sorted (*list empty when there are none). */
static mr_status list_task_files(const char *outdir, struct mr_strlist *list)
{
    mr_status st = MR_OK;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/tasks", outdir);
    memset(list, 0, sizeof(*list));
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? MR_OK : MR_FAIL(MR_ERR_IO, "cannot read '%s': %s", dir,
                                                 strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".csv") != 0)
            continue;
        if (list->n == list->cap) {
            size_t cap = list->cap == 0 ? 64 : 2 * list->cap;
            char **v = realloc(list->v, cap * sizeof(*v));
            if (v == NULL) {
                st = MR_FAIL(MR_ERR_NOMEM, "task file list");
                goto out;
            }
            list->v = v;
            list->cap = cap;
        }
        size_t pl = strlen(dir) + n + 2;
        list->v[list->n] = malloc(pl);
        if (list->v[list->n] == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "task file list");
            goto out;
        }
        snprintf(list->v[list->n++], pl, "%s/%s", dir, e->d_name);
    }
    if (list->n > 1)
        qsort(list->v, list->n, sizeof(*list->v), mr_strlist_cmp);
out:
    closedir(d);
    return st;
}

/* results.csv, then every task file (newer rows replace older ones of the same key). */
mr_status mr_maskeval_load_rows(struct mr_maskeval_run *R)
{
    struct mr_strlist tf;
    mr_status st = MR_OK;
    MR_CHECK(mr_results_load_csv(&R->rows, R->csv_path));
    MR_CHECK(list_task_files(R->cfg->outdir, &tf));
    for (size_t i = 0; i < tf.n && st == MR_OK; i++)
        st = mr_results_load_csv(&R->rows, tf.v[i]);
    mr_strlist_free(&tf);
out:
    return st;
}

/* Removes the task files (their rows are in results.csv now) and the folder if empty. */
mr_status mr_maskeval_remove_task_files(const struct mr_maskeval_run *R)
{
    struct mr_strlist tf;
    char dir[4200];
    mr_status st = list_task_files(R->cfg->outdir, &tf);
    for (size_t i = 0; i < tf.n && st == MR_OK; i++)
        if (unlink(tf.v[i]) != 0 && errno != ENOENT)
            st = MR_FAIL(MR_ERR_IO, "cannot remove the merged task file '%s': %s", tf.v[i],
                         strerror(errno));
    mr_strlist_free(&tf);
    snprintf(dir, sizeof(dir), "%s/tasks", R->cfg->outdir);
    (void)rmdir(dir); /* still holds a file of another process: kept */
    return st;
}

/* OUT/maskeval.args: the options of the run, for --merge. A different run is refused while
 * task files of an unmerged one remain. */
mr_status mr_maskeval_keep_args(const struct mr_maskeval_run *R)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    char path[4200];
    char *old = NULL;
    struct mr_strlist tf = { 0 };
    mr_status st = MR_OK;
    if (cfg->args == NULL)
        return MR_OK;
    snprintf(path, sizeof(path), "%s/maskeval.args", cfg->outdir);
    if (mr_maskeval_read_args(cfg->outdir, &old) != MR_OK)
        old = NULL;
    if (old != NULL && strcmp(old, cfg->args) == 0)
        goto out;
    MR_CHECK(list_task_files(cfg->outdir, &tf));
    if (old != NULL && tf.n > 0) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' holds the task results of an unmerged run with other "
                     "options (%s): merge them first (mrirecon maskeval --merge %s) or use "
                     "another output folder", cfg->outdir, path, cfg->outdir);
        goto out;
    }
    struct mr_atomic_file af;
    MR_CHECK(mr_atomic_file_open(&af, path));
    fputs(cfg->args, af.f);
    MR_CHECK(mr_atomic_file_commit(&af));
out:
    free(old);
    mr_strlist_free(&tf);
    return st;
}

mr_status mr_maskeval_read_args(const char *outdir, char **text)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/maskeval.args", outdir);
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s' (written by every maskeval run into that "
                       "folder): %s", path, strerror(errno));
    size_t cap = 4096;
    size_t n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, 2 * cap);
            if (nb == NULL)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "reading '%s'", path);
    buf[n] = '\0';
    *text = buf;
    return MR_OK;
}


/* Sort keys of rows loaded from an old CSV. */
void mr_maskeval_set_orders(struct mr_maskeval_run *R)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    for (size_t i = 0; i < R->rows.n; i++) {
        struct mr_result_row *r = &R->rows.v[i];
        r->mask_ord = cfg->nmasks;
        r->method_ord = cfg->nmethods;
        for (int mi = 0; mi < cfg->nmasks; mi++)
            if (strcmp(r->mask, cfg->masks[mi].label) == 0)
                r->mask_ord = mi;
        for (int ji = 0; ji < cfg->nmethods; ji++)
            if (strcmp(r->method, cfg->methods[ji].label) == 0)
                r->method_ord = ji;
    }
}
