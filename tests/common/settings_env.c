/* Linked into every test executable: the engine settings from the test's environment
 * (recon/settings.h; ctest sets e.g. MR_CONV_WINOGRAD=always or MR_ISA=avx2 on some runs), as
 * the mrirecon program applies them, before any test runs. A value that does not parse
 * aborts the test program with the message. */
#include <stdio.h>
#include <stdlib.h>

#include "recon/settings.h"

__attribute__((constructor)) static void settings_from_environment(void)
{
    struct mr_settings s = mr_settings_default;
    if (mr_settings_parse_env(&s, getenv) != MR_OK) {
        fprintf(stderr, "test settings: %s\n", mr_last_error());
        abort();
    }
    mr_settings_set(&s);
}
