/*
 * Byte-level harness: the ISMRMRD XML header parser (io/ismrmrd_header.h) and the Gadgetron
 * configuration XML walk (io/ismrmrd.h mr_ismrmrd_config_properties), on the same bytes.
 */
#include <string.h>

#include "fuzz_common.h"
#include "io/ismrmrd.h"
#include "io/ismrmrd_header.h"
#include "recon/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mr_status count_property(void *ctx, const char *name, const char *value)
{
    size_t *n = ctx;
    *n += strlen(name) + strlen(value);
    return MR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct mr_ismrmrd_header hdr;
    if (mr_ismrmrd_header_parse((const char *)data, size, "fuzz", &hdr) == MR_OK) {
        /* What the parser promises (ismrmrd_header.h): matrix sizes in 1..65535, limits in
         * order, a NUL-terminated trajectory. */
        for (int i = 0; i < 3; i++)
            if (hdr.enc_matrix[i] < 1 || hdr.enc_matrix[i] > 65535 ||
                hdr.recon_matrix[i] < 1 || hdr.recon_matrix[i] > 65535)
                __builtin_trap();
        if (hdr.kspace_encoding_step_1.present &&
            hdr.kspace_encoding_step_1.maximum < hdr.kspace_encoding_step_1.minimum)
            __builtin_trap();
        if (memchr(hdr.trajectory, '\0', sizeof hdr.trajectory) == NULL)
            __builtin_trap();
    }
    size_t n = 0;
    mr_ismrmrd_config_properties((const char *)data, size, count_property, &n);
    return 0;
}
