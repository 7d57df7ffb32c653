/* The mrirecon program: dispatch to a subcommand (apps/commands.c). */
#include "apps/commands.h"

int main(int argc, char *argv[])
{
    return mr_main(argc, argv);
}
