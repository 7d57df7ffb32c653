/* OpenBLAS kernel selection: re-exec with OPENBLAS_CORETYPE where 0.3.21 picks Prescott. */
#include "apps/openblas_fix.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "recon/cpu.h"

void mr_openblas_fix_coretype(char *argv[])
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const char *core = openblas_get_corename();
    const char *want = NULL;
    if (getenv("OPENBLAS_CORETYPE") != NULL || core == NULL ||
        strcmp(core, "Prescott") != 0)
        return;
    const enum mr_isa isa = mr_cpu_get()->isa;
    if (isa >= MR_ISA_AVX512)
        want = "SkylakeX";
    else if (isa >= MR_ISA_AVX2)
        want = "Haswell";
    if (want == NULL || setenv("OPENBLAS_CORETYPE", want, 1) != 0)
        return;
    execv("/proc/self/exe", argv); /* returns only on failure: carry on as we are */
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}
