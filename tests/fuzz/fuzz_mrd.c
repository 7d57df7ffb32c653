/*
 * Byte-level harness: the MRD message stream (io/mrd.h). The input is a stream; it is read
 * message by message with mr_mrd_read (the blocking reader of `stage` on stdin), and framed
 * and decoded with mr_mrd_frame_size / mr_mrd_decode (the TCP stage's non-blocking path), as
 * far as each gets. Both must agree on where the first message ends.
 */
#include <stdlib.h>

#include "fuzz_common.h"
#include "io/mrd.h"
#include "recon/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    mr_mrd_message_init(&m);

    mr_mrd_reader_init_memory(&r, data, size, "fuzz");
    uint64_t first_end = 0;
    bool first_ok = false;
    for (int i = 0; i < 1000; i++) {
        if (mr_mrd_read(&r, &m) != MR_OK)
            break;
        if (i == 0) {
            first_ok = true;
            first_end = r.bytes;
        }
        if (m.id == MR_MRD_CLOSE)
            break;
    }

    /* Framing: as the stage does, a small text cap, then decode what was framed. */
    uint64_t need = 0;
    mr_status st = mr_mrd_frame_size(data, size, 1 << 20, &need);
    if (st == MR_OK && need > 0 && need <= size) {
        st = mr_mrd_decode(data, (size_t)need, "fuzz", &m);
        if (st == MR_OK && first_ok && need != first_end)
            abort(); /* the two readers disagree on the first message's size */
    }
    mr_mrd_message_cleanup(&m);
    return 0;
}
