/*
 * The task scheduler of runs/tasks.h. The MPI schedule keeps two int64 counters in a window on
 * rank 0: [0] the next task index to hand out, [1] the tasks finished. Every rank (rank 0 too)
 * takes an index with MPI_Fetch_and_op(+1) under a shared passive-target lock: the operation is
 * atomic, so each index goes to exactly one rank, and a rank asks again only when it is free,
 * which balances tasks whose costs differ by orders of magnitude (a zero-filled slice against a
 * network). No rank waits for another until mr_tasks_free.
 */
#include "runs/tasks.h"

#include "recon/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MR_MPI
#include <mpi.h>
#endif

const struct mr_tasks_config mr_tasks_config_default = {
    .shard_index = 0,
    .shard_count = 1,
    .mpi = false,
    .dynamic = true,
};

struct mr_tasks {
    struct mr_tasks_config cfg;
    int64_t n;
    int64_t next;     /* serial / shard / static: the next candidate index */
    int64_t finished; /* this process's finished tasks */
    double started;   /* clock when the current task was handed out */
    double busy;      /* seconds spent in tasks */
    int rank;
    int size;
#ifdef MR_MPI
    MPI_Win win;
    int64_t *counters; /* window memory (rank 0: 2 values; others: none) */
#endif
};

mr_status mr_tasks_parse_shard(const char *s, int *index, int *count)
{
    char *end = NULL;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/')
        goto bad;
    const char *p = end + 1;
    long n = strtol(p, &end, 10);
    if (end == p || *end != '\0' || i < 0 || n < 1 || i >= n || n > 1000000)
        goto bad;
    *index = (int)i;
    *count = (int)n;
    return MR_OK;
bad:
    return MR_FAIL(MR_ERR_ARG, "--shard '%s': expected I/N with 0 <= I < N (e.g. 0/4)", s);
}

/* ---- MPI ---------------------------------------------------------------------------------- */

#ifdef MR_MPI
static bool mpi_on;

bool mr_mpi_built(void)
{
    return true;
}

mr_status mr_mpi_init(int *argc, char ***argv)
{
    int provided = 0;
    if (mpi_on)
        return MR_OK;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return MR_FAIL(MR_ERR_IO, "MPI_Init_thread failed");
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return MR_FAIL(MR_ERR_IO, "the MPI library gives no MPI_THREAD_FUNNELED (level %d)",
                       provided);
    }
    mpi_on = true;
    return MR_OK;
}

bool mr_mpi_active(void)
{
    return mpi_on;
}

int mr_mpi_rank(void)
{
    int r = 0;
    if (mpi_on)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int mr_mpi_size(void)
{
    int s = 1;
    if (mpi_on)
        MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

void mr_mpi_finalize(void)
{
    if (mpi_on)
        MPI_Finalize();
    mpi_on = false;
}

void mr_mpi_abort(int code)
{
    if (mpi_on)
        MPI_Abort(MPI_COMM_WORLD, code);
}
#else
bool mr_mpi_built(void)
{
    return false;
}

mr_status mr_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return MR_FAIL(MR_ERR_UNSUPPORTED, "this mrirecon was built without MPI (cmake -DMR_MPI=ON)");
}

bool mr_mpi_active(void)
{
    return false;
}

int mr_mpi_rank(void)
{
    return 0;
}

int mr_mpi_size(void)
{
    return 1;
}

void mr_mpi_finalize(void)
{
}

void mr_mpi_abort(int code)
{
    (void)code;
}
#endif

/* ---- the schedule ------------------------------------------------------------------------- */

mr_status mr_tasks_create(const struct mr_tasks_config *cfg, int64_t n, struct mr_tasks **out)
{
    *out = NULL;
    if (cfg->shard_count < 1 || cfg->shard_index < 0 || cfg->shard_index >= cfg->shard_count)
        return MR_FAIL(MR_ERR_ARG, "shard %d/%d: expected 0 <= I < N", cfg->shard_index,
                       cfg->shard_count);
    if (cfg->mpi && !mr_mpi_active())
        return MR_FAIL(MR_ERR_ARG, "an MPI schedule needs MPI (built with -DMR_MPI=ON and "
                       "initialised)");
    if (cfg->mpi && cfg->shard_count > 1)
        return MR_FAIL(MR_ERR_ARG, "--shard and MPI do not combine: use one or the other");
    struct mr_tasks *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "task schedule");
    t->cfg = *cfg;
    t->n = n;
    t->rank = 0;
    t->size = 1;
    if (cfg->mpi) {
        t->rank = mr_mpi_rank();
        t->size = mr_mpi_size();
    }
    t->next = cfg->mpi ? t->rank : cfg->shard_index;
#ifdef MR_MPI
    t->win = MPI_WIN_NULL;
    if (cfg->mpi && cfg->dynamic) {
        MPI_Aint bytes = t->rank == 0 ? (MPI_Aint)(2 * sizeof(int64_t)) : 0;
        if (MPI_Win_allocate(bytes, (int)sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD,
                             &t->counters, &t->win) != MPI_SUCCESS) {
            free(t);
            return MR_FAIL(MR_ERR_IO, "MPI_Win_allocate of the task counter failed");
        }
        if (t->rank == 0) {
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, t->win);
            t->counters[0] = 0;
            t->counters[1] = 0;
            MPI_Win_unlock(0, t->win);
        }
        MPI_Barrier(MPI_COMM_WORLD); /* no rank takes an index before the counter is zero */
    }
#endif
    *out = t;
    return MR_OK;
}

void mr_tasks_free(struct mr_tasks *t, mr_status st)
{
    (void)st;
    if (t == NULL)
        return;
#ifdef MR_MPI
    if (t->win != MPI_WIN_NULL && st == MR_OK)
        MPI_Win_free(&t->win);
#endif
    free(t);
}

#ifdef MR_MPI
/* old value of counter k on rank 0, after adding add (0: a read) */
static int64_t counter_fetch_add(struct mr_tasks *t, int k, int64_t add)
{
    int64_t old = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, t->win);
    MPI_Fetch_and_op(&add, &old, MPI_INT64_T, 0, k, add != 0 ? MPI_SUM : MPI_NO_OP, t->win);
    MPI_Win_unlock(0, t->win);
    return old;
}
#endif

bool mr_tasks_next(struct mr_tasks *t, int64_t *task)
{
#ifdef MR_MPI
    if (t->win != MPI_WIN_NULL) {
        int64_t i = counter_fetch_add(t, 0, 1);
        if (i >= t->n)
            return false;
        *task = i;
        t->started = mr_clock_now_s();
        return true;
    }
#endif
    if (t->next >= t->n)
        return false;
    *task = t->next;
    t->started = mr_clock_now_s();
    t->next += t->cfg.mpi ? t->size : t->cfg.shard_count;
    return true;
}

int64_t mr_tasks_finished(struct mr_tasks *t)
{
    t->finished++;
    t->busy += mr_clock_now_s() - t->started;
#ifdef MR_MPI
    if (t->win != MPI_WIN_NULL)
        return counter_fetch_add(t, 1, 1) + 1;
#endif
    return t->finished;
}

int mr_tasks_rank(const struct mr_tasks *t)
{
    return t->rank;
}

int mr_tasks_size(const struct mr_tasks *t)
{
    return t->size;
}

mr_status mr_tasks_barrier(struct mr_tasks *t)
{
#ifdef MR_MPI
    if (t->cfg.mpi && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS)
        return MR_FAIL(MR_ERR_IO, "MPI_Barrier failed");
#else
    (void)t;
#endif
    return MR_OK;
}

mr_status mr_tasks_sum(struct mr_tasks *t, int64_t *v, int n)
{
#ifdef MR_MPI
    if (t->cfg.mpi &&
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return MR_FAIL(MR_ERR_IO, "MPI_Allreduce failed");
#else
    (void)t;
    (void)v;
    (void)n;
#endif
    return MR_OK;
}

mr_status mr_tasks_broadcast(struct mr_tasks *t, void *buf, size_t len)
{
#ifdef MR_MPI
    if (t->cfg.mpi && MPI_Bcast(buf, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return MR_FAIL(MR_ERR_IO, "MPI_Bcast failed");
#else
    (void)t;
    (void)buf;
    (void)len;
#endif
    return MR_OK;
}

mr_status mr_tasks_report(struct mr_tasks *t, const char *what, bool print)
{
    double *busy = calloc((size_t)t->size, sizeof(*busy));
    if (busy == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "busy times");
    busy[0] = t->busy;
#ifdef MR_MPI
    if (t->cfg.mpi && MPI_Gather(&t->busy, 1, MPI_DOUBLE, busy, 1, MPI_DOUBLE, 0,
                                 MPI_COMM_WORLD) != MPI_SUCCESS) {
        free(busy);
        return MR_FAIL(MR_ERR_IO, "MPI_Gather of the busy times failed");
    }
#endif
    if (print && t->rank == 0) {
        double sum = 0.0;
        double max = 0.0;
        fprintf(stderr, "%s: %d workers, busy seconds", what, t->size);
        for (int r = 0; r < t->size; r++) {
            fprintf(stderr, " %.2f", busy[r]);
            sum += busy[r];
            max = busy[r] > max ? busy[r] : max;
        }
        fprintf(stderr, ", load imbalance (max/mean) %.3f\n",
                sum > 0.0 ? max / (sum / t->size) : 1.0);
    }
    free(busy);
    return MR_OK;
}
