/*
 * Wall-clock and memory readings for progress reports and benchmarks (defined once here for
 * every command and bench).
 */
#ifndef MR_RECON_CLOCK_H
#define MR_RECON_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC); only differences are meaningful. */
double mr_clock_now_s(void);

/* Peak resident set size of this process so far, in MiB (getrusage ru_maxrss). */
double mr_clock_peak_rss_mib(void);

#endif
