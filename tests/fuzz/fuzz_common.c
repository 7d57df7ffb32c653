/* The fuzz harnesses' byte consumer and set-up (fuzz_common.h). */
#include "fuzz_common.h"

#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "recon/array.h"

void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
    f->p = data;
    f->n = size;
}

uint8_t fz_u8(struct fz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

uint16_t fz_u16(struct fz *f)
{
    uint16_t lo = fz_u8(f);
    return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

uint32_t fz_u32(struct fz *f)
{
    uint32_t lo = fz_u16(f);
    return lo | (uint32_t)fz_u16(f) << 16;
}

uint64_t fz_u64(struct fz *f)
{
    uint64_t lo = fz_u32(f);
    return lo | (uint64_t)fz_u32(f) << 32;
}

bool fz_bool(struct fz *f)
{
    return (fz_u8(f) & 1) != 0;
}

bool fz_rare(struct fz *f)
{
    return (fz_u8(f) & 3) == 3;
}

int64_t fz_range(struct fz *f, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t v = span < 256 ? fz_u8(f) : span < 65536 ? fz_u16(f) : fz_u64(f);
    if (span != UINT64_MAX)
        v %= span + 1;
    return (int64_t)((uint64_t)lo + v);
}

int64_t fz_pick(struct fz *f, const int64_t *table, size_t n)
{
    return table[fz_range(f, 0, (int64_t)n - 1)];
}

int64_t fz_dim(struct fz *f)
{
    static const int64_t big[] = {0, 16,          320,          640,          65535,
                                  65536,       (int64_t)1 << 31, (int64_t)1 << 32,
                                  (int64_t)1 << 40, (int64_t)1 << 62, INT64_MAX};
    uint8_t c = fz_u8(f);
    if (c < 224)
        return 1 + c % 8;
    return big[c % (sizeof big / sizeof big[0])];
}

float fz_float(struct fz *f)
{
    uint8_t c = fz_u8(f);
    switch (c % 16) {
    case 0: return 0.0f;
    case 1: return 1.0f;
    case 2: return -1.0f;
    case 3: return NAN;
    case 4: return INFINITY;
    case 5: return -INFINITY;
    case 6: return FLT_MAX;
    case 7: return FLT_MIN;
    case 8: return FLT_TRUE_MIN;
    default: {
        uint32_t bits = fz_u32(f);
        float v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    }
}

size_t fz_bytes(struct fz *f, void *dst, size_t n)
{
    size_t k = n < f->n ? n : f->n;
    if (k > 0)
        memcpy(dst, f->p, k);
    memset((uint8_t *)dst + k, 0, n - k);
    f->p += k;
    f->n -= k;
    return k;
}

const uint8_t *fz_chunk(struct fz *f, size_t max, size_t *len)
{
    size_t want = fz_u16(f);
    if (want > max)
        want = max;
    if (want > f->n)
        want = f->n;
    const uint8_t *p = f->p;
    f->p += want;
    f->n -= want;
    *len = want;
    return p;
}

const uint8_t *fz_rest(struct fz *f, size_t *len)
{
    const uint8_t *p = f->p;
    *len = f->n;
    f->p += f->n;
    f->n = 0;
    return p;
}

static char scratch_dir[256];
static char scratch_paths[8][320];
static int n_scratch;

static void remove_scratch(void)
{
    for (int i = 0; i < n_scratch; i++)
        unlink(scratch_paths[i]);
}

void fz_setup(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    mr_memory_limit_set(FZ_MEMORY_LIMIT);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(scratch_dir, sizeof scratch_dir, "%s", dir != NULL ? dir : "/tmp");
    atexit(remove_scratch);
}

const char *fz_scratch_path(const char *suffix)
{
    fz_setup();
    for (int i = 0; i < n_scratch; i++)
        if (strstr(scratch_paths[i], suffix) != NULL)
            return scratch_paths[i];
    if (n_scratch == 8)
        abort();
    snprintf(scratch_paths[n_scratch], sizeof scratch_paths[0], "%s/mrfuzz-%ld-%s", scratch_dir,
             (long)getpid(), suffix);
    return scratch_paths[n_scratch++];
}

void fz_write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || (n > 0 && fwrite(data, 1, n, fp) != n) || fclose(fp) != 0) {
        perror(path);
        abort();
    }
}

char *fz_strndup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}
