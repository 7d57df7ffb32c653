/*
 * The public API's version, error and memory-limit functions (mrirecon.h). The public status
 * codes are the engine's (recon/status.h) under public names, and the last error is the
 * engine's thread-local message, so every layer's message reaches the caller unchanged; the
 * memory limit is recon/array.h's. The engine's run-time settings (recon/settings.h) come from
 * the caller's environment when the library is loaded, as for the mrirecon program
 * (MR_FFT_PLANNER, MR_ISA, MR_CONV_ALGO, ...; a value that does not parse leaves the defaults).
 */
#include "api/mrirecon.h"

#include <stdlib.h>

#include "recon/array.h"
#include "recon/settings.h"
#include "recon/status.h"

__attribute__((constructor)) static void settings_from_environment(void)
{
    struct mr_settings s = mr_settings_default;
    if (mr_settings_parse_env(&s, getenv) == MR_OK)
        mr_settings_set(&s);
}

_Static_assert(MRIRECON_OK == (int)MR_OK && MRIRECON_ERR_NOMEM == (int)MR_ERR_NOMEM &&
                   MRIRECON_ERR_IO == (int)MR_ERR_IO &&
                   MRIRECON_ERR_FORMAT == (int)MR_ERR_FORMAT &&
                   MRIRECON_ERR_SHAPE == (int)MR_ERR_SHAPE &&
                   MRIRECON_ERR_WEIGHTS == (int)MR_ERR_WEIGHTS &&
                   MRIRECON_ERR_ARG == (int)MR_ERR_ARG &&
                   MRIRECON_ERR_UNSUPPORTED == (int)MR_ERR_UNSUPPORTED &&
                   MRIRECON_ERR_DATA == (int)MR_ERR_DATA,
               "public status codes are the engine's");

const char *mrirecon_version(void)
{
    return MRIRECON_VERSION_STRING;
}

int mrirecon_version_number(void)
{
    return MRIRECON_VERSION;
}

const char *mrirecon_last_error(void)
{
    return mr_last_error();
}

const char *mrirecon_status_name(mrirecon_status st)
{
    switch (st) {
    case MRIRECON_OK: return "MRIRECON_OK";
    case MRIRECON_ERR_NOMEM: return "MRIRECON_ERR_NOMEM";
    case MRIRECON_ERR_IO: return "MRIRECON_ERR_IO";
    case MRIRECON_ERR_FORMAT: return "MRIRECON_ERR_FORMAT";
    case MRIRECON_ERR_SHAPE: return "MRIRECON_ERR_SHAPE";
    case MRIRECON_ERR_WEIGHTS: return "MRIRECON_ERR_WEIGHTS";
    case MRIRECON_ERR_ARG: return "MRIRECON_ERR_ARG";
    case MRIRECON_ERR_UNSUPPORTED: return "MRIRECON_ERR_UNSUPPORTED";
    case MRIRECON_ERR_DATA: return "MRIRECON_ERR_DATA";
    }
    return "MRIRECON_ERR_?";
}

uint64_t mrirecon_memory_limit(void)
{
    return mr_memory_limit();
}

void mrirecon_set_memory_limit(uint64_t bytes)
{
    mr_memory_limit_set(bytes);
}
