/*
 * Shared by every fuzz harness (tests/fuzz/README.md): a consumer that turns the fuzzer's bytes
 * into the choices a structure-aware harness makes (sizes, types, flags, contents), the
 * harness set-up, and a scratch file in /dev/shm for readers that take a path.
 *
 * The consumer never fails: once the bytes run out every value is 0 (the smallest choice), so
 * every input, however short, describes one valid harness run and the fuzzer's mutations of a
 * byte change one decision.
 *
 * Each harness defines LLVMFuzzerTestOneInput (libFuzzer's entry point). Built with
 * -DMR_FUZZ=ON it is linked with -fsanitize=fuzzer; in every build it is also linked with
 * fuzz_main.c as a plain program that runs the files and folders named on its command line
 * through the same entry point (the regression inputs under tests/data/fuzz/<harness>/).
 */
#ifndef MR_TESTS_FUZZ_COMMON_H
#define MR_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Memory limit the harnesses set (recon/array.h mr_memory_limit_set): files asking for more
 * must fail with MR_ERR_NOMEM, well below libFuzzer's -rss_limit_mb=2048. */
#define FZ_MEMORY_LIMIT ((uint64_t)64 << 20)

struct fz {
    const uint8_t *p;
    size_t n;
};

void fz_init(struct fz *f, const uint8_t *data, size_t size);
uint8_t fz_u8(struct fz *f);
uint16_t fz_u16(struct fz *f);
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
bool fz_bool(struct fz *f);
/* True one time in 4 (false for a 0 byte): the unusual choice. */
bool fz_rare(struct fz *f);
/* A value in [lo, hi] (lo <= hi). */
int64_t fz_range(struct fz *f, int64_t lo, int64_t hi);
/* One of n entries of a table (n > 0). */
int64_t fz_pick(struct fz *f, const int64_t *table, size_t n);
/* A size: mostly small (1..8; 1 for a 0 byte), sometimes 0, a typical or a huge one (2^31,
 * 2^40, 2^62, ...). */
int64_t fz_dim(struct fz *f);
/* A float: one of the special values (0, +-1, NaN, +-Inf, FLT_MAX, the smallest normal and
 * subnormal) or the next 4 bytes as they are. */
float fz_float(struct fz *f);
/* Copies up to n bytes into dst and zero-fills the rest; returns how many were copied. */
size_t fz_bytes(struct fz *f, void *dst, size_t n);
/* Borrows a run of bytes: a length from the next 2 bytes (at most max), then that many bytes
 * (fewer at the end of the input). */
const uint8_t *fz_chunk(struct fz *f, size_t max, size_t *len);
/* Borrows all the remaining bytes. */
const uint8_t *fz_rest(struct fz *f, size_t *len);

/* Once per process: the memory limit above, HDF5's error printing off. */
void fz_setup(void);

/* A scratch path in /dev/shm (or $TMPDIR when /dev/shm is missing) unique to this process,
 * ending in `suffix`; the file is removed at exit. */
const char *fz_scratch_path(const char *suffix);

/* Writes n bytes to path (truncating it); aborts on an I/O error (the harness's own fault). */
void fz_write_file(const char *path, const void *data, size_t n);

/* Copy of data as a NUL-terminated string (malloc; the harness frees it). */
char *fz_strndup(const uint8_t *data, size_t n);

#endif
