/* OpenBLAS kernel selection for the executables (mrirecon and the benchmarks). */
#ifndef MR_APPS_OPENBLAS_FIX_H
#define MR_APPS_OPENBLAS_FIX_H

/*
 * OpenBLAS 0.3.21 (Debian 12) does not recognise some recent x86 CPUs (e.g. Sapphire Rapids)
 * and silently falls back to its SSE3 "Prescott" kernels, 2-3x slower for the GEMMs of the
 * networks. It reads OPENBLAS_CORETYPE only when the library loads, so when it reports
 * Prescott on a CPU with AVX-512 (or AVX2), this sets OPENBLAS_CORETYPE to the right kernels
 * and re-executes the program once (/proc/self/exe with argv). A user's own OPENBLAS_CORETYPE
 * is always left alone. Call it first thing in main(), before any other work; it returns
 * (changing nothing) when there is nothing to do or the re-exec fails.
 */
void mr_openblas_fix_coretype(char *argv[]);

#endif
