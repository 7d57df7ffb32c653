/*
 * The CPU this process runs on, detected once: vendor, model name and the instruction-set
 * extensions the kernels use (with the operating system's support for their registers), and
 * the one instruction-set level every kernel dispatches on.
 *
 * Kernels written for one instruction set (networks/conv_direct.c, conv_winograd*.c, vmath.c)
 * ask mr_cpu_isa() and nothing else: it is the best level the CPU and the OS support, capped by
 * the application's setting (recon/settings.h, isa_max), so "generic", "avx2" and "avx512"
 * runs can be compared on one machine. Each such file keeps one table of kernels per level.
 */
#ifndef MR_RECON_CPU_H
#define MR_RECON_CPU_H

#include <stdbool.h>
#include <stddef.h>

/* instruction-set levels, ordered: a higher level implies every lower one */
enum mr_isa {
    MR_ISA_GENERIC = 0, /* portable C (the compiler's baseline, SSE2 on x86-64) */
    MR_ISA_AVX2 = 1,    /* AVX2 + FMA */
    MR_ISA_AVX512 = 2,  /* AVX-512 F, DQ, BW, VL */
};

struct mr_cpu {
    char vendor[13]; /* "GenuineIntel", "AuthenticAMD", or "" off x86 */
    char model[49];  /* the brand string, trimmed ("AMD EPYC 9B45 ..."), or "unknown" */
    bool avx2;
    bool fma;
    bool avx512f;
    bool avx512dq;
    bool avx512bw;
    bool avx512vl;
    bool avx512bf16; /* vdpbf16ps */
    bool avx512vnni;
    enum mr_isa isa; /* the best level the CPU and OS support (before the settings' cap) */
};

/* The detected CPU (detected on first use, thread-safe; never NULL). */
const struct mr_cpu *mr_cpu_get(void);

/* The level kernels use: min(mr_cpu_get()->isa, mr_settings_get()->isa_max). */
enum mr_isa mr_cpu_isa(void);

/* The OpenMP threads a parallel region opened here would get (omp_get_max_threads(); 1 without
 * OpenMP): what kernels size per-thread buffers and plans by. */
int mr_cpu_threads(void);

/* "generic", "avx2" or "avx512". */
const char *mr_isa_name(enum mr_isa isa);

/* The feature flags as one space-separated line ("avx2 fma avx512f ... avx512vnni"), written
 * to buf (truncated to n bytes, always terminated). */
void mr_cpu_features_string(char *buf, size_t n);

#endif
