/* The mrirecon program: dispatch to a subcommand (apps/commands.c). */
#include "apps/commands.h"
#include "apps/openblas_fix.h"

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512/AVX2 GEMM kernels where 0.3.21 picks SSE3 */
    return mr_main(argc, argv);
}
