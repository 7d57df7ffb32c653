/* The mrirecon program: dispatch to a subcommand (apps/commands.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "apps/commands.h"

/*
 * OpenBLAS 0.3.21 (Debian 12) does not recognise some recent x86 CPUs (e.g. Sapphire Rapids)
 * and silently falls back to its SSE3 "Prescott" kernels, 2-3x slower for the GEMMs of the
 * networks. It reads OPENBLAS_CORETYPE only when the library loads, so when it reports
 * Prescott on a CPU with AVX-512 (or AVX2), name the right kernels and re-execute once. A
 * user's own OPENBLAS_CORETYPE is always left alone.
 */
static void fix_openblas_coretype(char *argv[])
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const char *core = openblas_get_corename();
    const char *want = NULL;
    if (getenv("OPENBLAS_CORETYPE") != NULL || core == NULL ||
        strcmp(core, "Prescott") != 0)
        return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (want == NULL || setenv("OPENBLAS_CORETYPE", want, 1) != 0)
        return;
    execv("/proc/self/exe", argv); /* returns only on failure: carry on as we are */
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}

int main(int argc, char *argv[])
{
    fix_openblas_coretype(argv);
    return mr_main(argc, argv);
}
