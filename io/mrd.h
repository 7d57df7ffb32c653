/*
 * The MRD / Gadgetron message stream (../shared/specs/ismrmrd.md §2.3), over a file descriptor
 * (stdin/stdout, a pipe or a TCP socket). Every integer is little-endian; a message is a
 * uint16 id followed by its payload:
 *
 *   1    CONFIG_FILE   1024 bytes, NUL-terminated config name
 *   2    CONFIG_TEXT   uint32 len + len bytes
 *   3    HEADER        uint32 len + len bytes of ISMRMRD XML
 *   4    CLOSE         nothing
 *   5    TEXT          uint32 len + len bytes
 *   8    ERROR         uint64 len + len bytes (Gadgetron)
 *   1008 ACQUISITION   340-byte AcquisitionHeader, float traj[ns * trajectory_dimensions],
 *                      float data[2 * ns * active_channels] (re, im; samples fastest)
 *   1022 IMAGE         198-byte ImageHeader, uint64 attribute length, attribute text,
 *                      data (matrix_size[0]·[1]·[2]·channels elements of data_type)
 *   1026 WAVEFORM      40-byte WaveformHeader + uint32 data[channels · number_of_samples]
 *
 * The packed ISMRMRD C structs are the wire format on little-endian hosts (asserted at compile
 * time). Reading checks every length before anything is allocated or read: text over
 * MR_MRD_MAX_TEXT, an acquisition failing io/ismrmrd.h's mr_ismrmrd_check_acquisition_header
 * (no active channel, over MR_ISMRMRD_MAX_ACQ_SAMPLES, discards or centre outside the readout,
 * the memory limit), an image failing mr_ismrmrd_check_image_header (unknown data type, empty
 * axis, over MR_ISMRMRD_MAX_IMAGE_BYTES / MR_ISMRMRD_MAX_ATTRIBUTES) or a waveform over
 * MR_ISMRMRD_MAX_WAVEFORM_BYTES, an unknown id or a truncated message is MR_ERR_FORMAT; NaN or
 * Inf samples in an acquisition are MR_ERR_DATA. Every message names the stream, the message
 * (id, number, first byte) and what was expected, e.g. "stdin: ACQUISITION message 7 (byte
 * 1234) (scan_counter 5): center_sample 300 is outside the readout of 256 samples". The end
 * of the stream before any byte of a message is MR_ERR_IO with mr_mrd_reader_eof() true.
 */
#ifndef MR_IO_MRD_H
#define MR_IO_MRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/waveform.h>

#include "recon/status.h"

enum mr_mrd_id {
    MR_MRD_CONFIG_FILE = 1,
    MR_MRD_CONFIG_TEXT = 2,
    MR_MRD_HEADER = 3,
    MR_MRD_CLOSE = 4,
    MR_MRD_TEXT = 5,
    MR_MRD_ERROR = 8,
    MR_MRD_ACQUISITION = 1008,
    MR_MRD_IMAGE = 1022,
    MR_MRD_WAVEFORM = 1026,
};

#define MR_MRD_CONFIG_FILE_LEN 1024
#define MR_MRD_MAX_TEXT ((uint64_t)64 << 20) /* 64 MiB for any text payload */

/* One decoded message. text holds CONFIG_FILE/CONFIG_TEXT/HEADER/TEXT/ERROR payloads
 * (NUL-terminated); acq / image / waveform the others (an image's attribute_string is
 * NUL-terminated too, one byte past attribute_string_len). Owned by the message: reuse it across
 * reads and release it with mr_mrd_message_cleanup. */
struct mr_mrd_message {
    uint16_t id;
    char *text;
    size_t text_len;
    ISMRMRD_Acquisition acq;
    ISMRMRD_Image image;
    ISMRMRD_WaveformHeader waveform;
    uint32_t *waveform_data;
};

void mr_mrd_message_init(struct mr_mrd_message *m);
void mr_mrd_message_cleanup(struct mr_mrd_message *m);

/* A reader over fd (borrowed; not closed), or over bytes in memory. `what` names the stream in
 * messages ("stdin"). */
struct mr_mrd_reader {
    int fd;
    const char *what;
    bool eof;
    uint64_t bytes;    /* read so far */
    uint64_t start;    /* byte at which the current message began */
    uint64_t messages; /* messages begun so far (the current one is number `messages`) */
    const void *mem;   /* memory source (NULL: fd) */
    size_t mem_len;
};
void mr_mrd_reader_init(struct mr_mrd_reader *r, int fd, const char *what);
void mr_mrd_reader_init_memory(struct mr_mrd_reader *r, const void *buf, size_t len,
                               const char *what);
bool mr_mrd_reader_eof(const struct mr_mrd_reader *r);

/* Reads the next message into m (previous contents released). */
mr_status mr_mrd_read(struct mr_mrd_reader *r, struct mr_mrd_message *m);

/*
 * Framing for readers that cannot block (io/mrd_frame.c): *need = the size in bytes of the
 * whole message that starts at buf, from its first `have` bytes, or 0 when they do not tell
 * yet (read more). The same checks as mr_mrd_read, as soon as the bytes allow: an unknown id,
 * a text over max_text bytes (and MR_MRD_MAX_TEXT), an acquisition, image or waveform over
 * the ISMRMRD limits (io/ismrmrd.h's header checks) are MR_ERR_FORMAT (MR_ERR_NOMEM over the
 * memory limit) naming the message.
 */
mr_status mr_mrd_frame_size(const void *buf, size_t have, size_t max_text, uint64_t *need);

/* Decodes one whole message of len bytes (as mr_mrd_frame_size measured it) into m.
 * Errors: those of mr_mrd_read, and MR_ERR_FORMAT when len is not exactly one message. */
mr_status mr_mrd_decode(const void *buf, size_t len, const char *what,
                        struct mr_mrd_message *m);

/* Writers: each writes one whole message (retrying short writes). Errors: MR_ERR_IO (peer gone
 * or disk full), MR_ERR_ARG (a text over MR_MRD_MAX_TEXT). A closed peer gives EPIPE, never
 * SIGPIPE, when the caller has ignored SIGPIPE (the stage does). */
mr_status mr_mrd_write_text_message(int fd, uint16_t id, const char *text, size_t len);
mr_status mr_mrd_write_config_file(int fd, const char *name);
mr_status mr_mrd_write_error(int fd, const char *text);
mr_status mr_mrd_write_close(int fd);
mr_status mr_mrd_write_acquisition(int fd, const ISMRMRD_Acquisition *acq);
mr_status mr_mrd_write_image(int fd, const ISMRMRD_Image *im);
mr_status mr_mrd_write_waveform(int fd, const ISMRMRD_WaveformHeader *wh, const uint32_t *data);

/* Name of a message id ("ACQUISITION") or "unknown". */
const char *mr_mrd_id_name(uint16_t id);

#endif
