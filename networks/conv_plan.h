/*
 * Conv algorithms chosen by measurement, as FFTW plans its transforms: for each distinct conv
 * shape and input size (the "key": cin, cout, kernel, stride, dilation, padding and its mode,
 * H, W) the engine keeps the algorithm that was fastest on this machine (im2col + SGEMM — for
 * 1×1 convs SGEMM alone —, the AVX-512 direct kernel, Winograd F(4×4, 3×3), oneDNN's conv
 * where the build has it). The input-gradient (layers.h mr_conv2d_input_grad) is planned under
 * the same key in a second table of choices: im2col's col2im or oneDNN's backward-data conv.
 *
 * Process-wide "wisdom": an append-only table of keys and choices. In the settings' MEASURE
 * mode (recon/settings.h conv_plan) a network that prepares a conv for an input size
 * (layers.h mr_conv2d_scratch_size, mr_conv2d_prepare_winograd_for) has every candidate timed
 * on random data the first time the key is seen (a few runs each, the best time counts), at
 * the thread count in force; in ESTIMATE mode nothing is timed and keys without wisdom use the
 * built-in heuristics (layers.h). Wisdom read from a file applies in both modes, so a site
 * measures once (mrirecon --plan measure --wisdom FILE) and later runs reuse the file.
 *
 * Every algorithm computes the same conv up to float summation order, so the choice changes
 * results by rounding only (the goldens hold for each forced algorithm).
 *
 * Each candidate is timed with its weights evicted from the caches before every run (conv_plan.c
 * time_conv: in a network each conv's weights are read once per pass).
 *
 * Wisdom file (text): a header of five lines — the format version (2: weights out of cache;
 * files of version 1 were timed with warm weights and are ignored), the CPU model, its features
 * and the instruction-set level in use, the OpenMP thread count, and the libraries (OpenBLAS
 * configuration and core type, oneDNN version) — then one "conv" (forward) or "grad"
 * (input-gradient) line per key with the chosen algorithm ("im2col", "direct", "winograd",
 * "dnnl") and the measured times of those four in microseconds (-1: not timed). Files of
 * builds before oneDNN (three times per line) differ in the libraries line and are ignored.
 * A file whose header differs from this process's is ignored (with a warning for the caller to
 * print): its timings belong to another machine or configuration.
 *
 * Thread safety: lookups are lock-free and may run beside a measurement or import; measuring,
 * importing and exporting serialise on one mutex.
 */
#ifndef MR_NETWORKS_CONV_PLAN_H
#define MR_NETWORKS_CONV_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "networks/layers.h"
#include "recon/status.h"

/* The wisdom's algorithm for c at input size h×w, or MR_CONV2D_ALGO_AUTO when it has none. */
enum mr_conv2d_algo mr_conv_plan_lookup(const struct mr_conv2d *c, int64_t h, int64_t w);

/* As lookup; in MEASURE mode a key without wisdom is measured first (allocating and freeing
 * its test data: a failed allocation leaves the key to the heuristics). c needs no weights. */
enum mr_conv2d_algo mr_conv_plan_choose(const struct mr_conv2d *c, int64_t h, int64_t w);

/* The same two for the input-gradient's key: MR_CONV2D_ALGO_IM2COL or _DNNL, or AUTO (none;
 * the caller runs im2col). MEASURE times im2col against oneDNN where oneDNN can run it. */
enum mr_conv2d_algo mr_conv_plan_lookup_grad(const struct mr_conv2d *c, int64_t h, int64_t w);
enum mr_conv2d_algo mr_conv_plan_choose_grad(const struct mr_conv2d *c, int64_t h, int64_t w);

/* True if the wisdom holds any size of c's shape (weights and all) with Winograd chosen. */
bool mr_conv_plan_any_winograd(const struct mr_conv2d *c);

/* Writes c's weights (spatial, and the Winograd and oneDNN copies it points at) back to memory
 * and out of every cache level (clflush; nothing on other architectures): how a candidate is
 * timed, and how bench/bench_conv_shapes times each algorithm. */
void mr_conv2d_evict_weights(const struct mr_conv2d *c);

/* Number of keys in the wisdom. */
int64_t mr_conv_wisdom_count(void);

/* Forgets every key (tests). Not while another thread plans or runs convs. */
void mr_conv_wisdom_forget(void);

/*
 * Reads a wisdom file into the table (keys already present keep their choice). When its header
 * does not match this process, imports nothing and writes the reason ("wisdom file 'F' was
 * measured with threads 1, this run has 2") to warning (n bytes; "" when imported) and returns
 * MR_OK. Errors: MR_ERR_IO (cannot open or read), MR_ERR_FORMAT (a line that does not parse,
 * naming file and line).
 */
mr_status mr_conv_wisdom_import(const char *path, char *warning, size_t n);

/* Writes the header and every key to path (a temporary file renamed over it). MR_ERR_IO. */
mr_status mr_conv_wisdom_export(const char *path);

/* The algorithm's name in wisdom files ("im2col", "direct", "winograd", "dnnl"; "auto"). */
const char *mr_conv2d_algo_name(enum mr_conv2d_algo a);

#endif
