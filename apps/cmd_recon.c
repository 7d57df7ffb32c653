/* mrirecon recon: placeholder until io lands (replaced in this issue). */
#include <stdio.h>

int mr_main_recon(int argc, char *argv[]);
int mr_main_recon(int argc, char *argv[])
{
    (void)argc;
    (void)argv;
    fputs("mrirecon recon: not built yet\n", stderr);
    return 1;
}
