/*
 * Who computes which task of a run: the one scheduler of the dataset-scale commands (batch,
 * maskeval). Every worker builds the same sorted list of n tasks (indices 0 .. n-1) and asks
 * this object for its next index until there is none:
 *
 *   serial      this process does every task, in order;
 *   shard I/N   this process does the tasks t with t mod N == I, in order (independent
 *               processes sharing one output folder: Slurm job arrays, GNU parallel);
 *   MPI         the ranks of MPI_COMM_WORLD share the list (builds with -DMR_MPI=ON, after
 *               mr_mpi_init): dynamic (default) hands out the next undone index to whoever asks
 *               first, through an atomic shared counter on rank 0 (MPI_Fetch_and_op on a
 *               window; rank 0 computes tasks too, so P ranks are P workers); static gives
 *               rank r the tasks t mod P == r, for comparison (bench/).
 *
 * Each task index is handed out exactly once per run. MPI is called from the calling (main)
 * thread only (MPI_THREAD_FUNNELED); OpenMP may run inside a task. Only runs/ uses MPI.
 */
#ifndef MR_RUNS_TASKS_H
#define MR_RUNS_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/status.h"

struct mr_tasks_config {
    int shard_index; /* 0 <= shard_index < shard_count */
    int shard_count; /* 1: no sharding */
    bool mpi;        /* share the tasks over the MPI ranks (mr_mpi_init must have succeeded) */
    bool dynamic;    /* MPI: first come, first served; false: static t mod P == rank */
};
/* serial: shard 0/1, no MPI, dynamic */
extern const struct mr_tasks_config mr_tasks_config_default;

/* Parses "I/N" (0 <= I < N <= 1000000). Errors: MR_ERR_ARG naming the text. */
mr_status mr_tasks_parse_shard(const char *s, int *index, int *count);

struct mr_tasks;

/* The schedule of n tasks. Under MPI this is collective (every rank calls it with the same
 * n). Errors: MR_ERR_ARG (bad shard, MPI asked for in a build without it or before
 * mr_mpi_init), MR_ERR_IO (an MPI call failed), MR_ERR_NOMEM. */
mr_status mr_tasks_create(const struct mr_tasks_config *cfg, int64_t n, struct mr_tasks **out);

/* Collective under MPI (after every rank's last mr_tasks_next) when st is MR_OK; after an
 * error on this rank (st != MR_OK) it frees only local memory, since the other ranks may not
 * come: the caller then ends the job (mr_mpi_abort). Accepts NULL. */
void mr_tasks_free(struct mr_tasks *t, mr_status st);

/* The next task index of this worker into *task; false when it has none left. */
bool mr_tasks_next(struct mr_tasks *t, int64_t *task);

/* Records that this worker finished a task and returns the number of tasks finished by every
 * worker so far that this worker can see (the run's total under MPI, this process's own in
 * serial and shard runs): for progress on rank 0. */
int64_t mr_tasks_finished(struct mr_tasks *t);

/* Collective: rank 0 writes "<what>: P workers, busy seconds a b ..., load imbalance
 * (max/mean) x" to stderr when print is set, the busy time of a worker being the wall time
 * between each mr_tasks_next that gave it a task and the following mr_tasks_finished. For
 * bench/: a dynamic schedule keeps the imbalance near 1 where a static one cannot. */
mr_status mr_tasks_report(struct mr_tasks *t, const char *what, bool print);

/* This worker's rank and the number of workers (MPI: the ranks; else 0 and 1). */
int mr_tasks_rank(const struct mr_tasks *t);
int mr_tasks_size(const struct mr_tasks *t);

/* Collective helpers (no-ops without MPI): wait for every rank; v[0..n) summed over the ranks
 * in place on every rank; len bytes of rank 0's buf copied to every rank. MR_ERR_IO. */
mr_status mr_tasks_barrier(struct mr_tasks *t);
mr_status mr_tasks_sum(struct mr_tasks *t, int64_t *v, int n);
mr_status mr_tasks_broadcast(struct mr_tasks *t, void *buf, size_t len);

/* ---- the MPI library ----------------------------------------------------------------------
 * The application decides whether to use MPI (launched under mpirun / srun, or asked) and
 * says so here; the library never looks at the environment. */

/* True in builds with -DMR_MPI=ON. */
bool mr_mpi_built(void);

/* MPI_Init_thread with MPI_THREAD_FUNNELED (once per process). Errors: MR_ERR_UNSUPPORTED
 * (built without MPI), MR_ERR_IO (initialisation failed or the thread level is missing). */
mr_status mr_mpi_init(int *argc, char ***argv);

/* Whether mr_mpi_init succeeded (and finalize has not run). */
bool mr_mpi_active(void);

/* MPI_COMM_WORLD rank and size after mr_mpi_init (else 0 and 1). */
int mr_mpi_rank(void);
int mr_mpi_size(void);

/* MPI_Finalize if initialised; nothing otherwise. */
void mr_mpi_finalize(void);

/* Ends every rank of the job with exit code `code` (MPI_Abort); a plain exit path in serial
 * runs is the caller's. Does not return under MPI; returns otherwise. */
void mr_mpi_abort(int code);

#endif
