/*
 * CPU detection (recon/cpu.h): CPUID leaves 0, 1, 7 (subleaves 0 and 1) and 0x80000002-4 for
 * the brand string; XGETBV for the registers the OS saves (AVX-512 needs XCR0 bits 1, 2, 5-7,
 * AVX bits 1 and 2). Run once under pthread_once.
 */
#include "recon/cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "recon/settings.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define MR_CPU_X86 1
#else
#define MR_CPU_X86 0
#endif

static struct mr_cpu cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

#if MR_CPU_X86
static uint64_t xcr0(void)
{
    uint32_t lo;
    uint32_t hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect_x86(void)
{
    unsigned a;
    unsigned b;
    unsigned c;
    unsigned d;
    if (__get_cpuid(0, &a, &b, &c, &d) == 0)
        return;
    const unsigned maxleaf = a;
    memcpy(cpu.vendor, &b, 4);
    memcpy(cpu.vendor + 4, &d, 4);
    memcpy(cpu.vendor + 8, &c, 4);
    cpu.vendor[12] = '\0';

    unsigned brand[12] = { 0 };
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) != 0 && a >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2],
                        &brand[4 * i + 3]);
        char raw[49];
        memcpy(raw, brand, 48);
        raw[48] = '\0';
        const char *s = raw;
        while (*s == ' ')
            s++;
        snprintf(cpu.model, sizeof cpu.model, "%s", s);
        size_t len = strlen(cpu.model);
        while (len > 0 && cpu.model[len - 1] == ' ')
            cpu.model[--len] = '\0';
    }

    __get_cpuid(1, &a, &b, &c, &d);
    const bool osxsave = (c >> 27) & 1u;
    const bool avx = (c >> 28) & 1u;
    const bool fma = (c >> 12) & 1u;
    const uint64_t x = osxsave ? xcr0() : 0;
    const bool os_avx = (x & 0x6u) == 0x6u;
    const bool os_avx512 = (x & 0xe6u) == 0xe6u;
    if (maxleaf < 7 || !avx || !os_avx)
        return;
    cpu.fma = fma;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned sub1 = a;
    cpu.avx2 = (b >> 5) & 1u;
    if (os_avx512) {
        cpu.avx512f = (b >> 16) & 1u;
        cpu.avx512dq = (b >> 17) & 1u;
        cpu.avx512bw = (b >> 30) & 1u;
        cpu.avx512vl = (b >> 31) & 1u;
        cpu.avx512vnni = (c >> 11) & 1u;
        if (sub1 >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            cpu.avx512bf16 = (a >> 5) & 1u;
        }
    }
}
#endif

static void detect(void)
{
    snprintf(cpu.model, sizeof cpu.model, "unknown");
#if MR_CPU_X86
    detect_x86();
#endif
    cpu.isa = MR_ISA_GENERIC;
    if (cpu.avx2 && cpu.fma)
        cpu.isa = MR_ISA_AVX2;
    if (cpu.isa == MR_ISA_AVX2 && cpu.avx512f && cpu.avx512dq && cpu.avx512bw && cpu.avx512vl)
        cpu.isa = MR_ISA_AVX512;
}

const struct mr_cpu *mr_cpu_get(void)
{
    pthread_once(&cpu_once, detect);
    return &cpu;
}

enum mr_isa mr_cpu_isa(void)
{
    const enum mr_isa best = mr_cpu_get()->isa;
    const enum mr_isa cap = mr_settings_get()->isa_max;
    return cap < best ? cap : best;
}

const char *mr_isa_name(enum mr_isa isa)
{
    switch (isa) {
    case MR_ISA_AVX512:
        return "avx512";
    case MR_ISA_AVX2:
        return "avx2";
    case MR_ISA_GENERIC:
    default:
        return "generic";
    }
}

void mr_cpu_features_string(char *buf, size_t n)
{
    const struct mr_cpu *c = mr_cpu_get();
    const struct {
        const char *name;
        bool on;
    } flags[] = {
        { "avx2", c->avx2 },         { "fma", c->fma },           { "avx512f", c->avx512f },
        { "avx512dq", c->avx512dq }, { "avx512bw", c->avx512bw }, { "avx512vl", c->avx512vl },
        { "avx512bf16", c->avx512bf16 }, { "avx512vnni", c->avx512vnni },
    };
    size_t used = 0;
    if (n == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (!flags[i].on)
            continue;
        int k = snprintf(buf + used, n - used, "%s%s", used > 0 ? " " : "", flags[i].name);
        if (k < 0 || (size_t)k >= n - used)
            return;
        used += (size_t)k;
    }
}

int mr_cpu_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
