/*
 * ISMRMRD raw-data files (ISMRMRD 1.8 C API, ismrmrd/dataset.h; specs/ismrmrd.md §2.2).
 *
 * File layout (HDF5), group "/dataset":
 *   xml                    the ISMRMRD XML header (parse it with io/ismrmrd_header.h)
 *   data                   acquisitions: 340-byte AcquisitionHeader + trajectory + data
 *                          (data[c * number_of_samples + s]: all samples of channel 0, then 1...)
 *   waveforms              optional physiological waveforms
 *   <group>/{header, attributes, data}   images appended under a name, e.g. "image_0";
 *                          data (N, channels, z, y, x), x fastest
 *
 * A file is recognised as ISMRMRD by its content (a /dataset/xml object), not by its name.
 *
 * Reading goes one acquisition at a time; every acquisition is checked (at least one active
 * channel, sizes the stage can hold) before it is returned. Writing never leaves a half file
 * behind: the writer fills "<path>.tmp-<pid>" and only mr_ismrmrd_writer_commit renames it onto
 * <path>.
 *
 * The ISMRMRD library reports its errors (and HDF5's) through a global handler; this module
 * installs one that keeps the last message on the calling thread instead of printing, and
 * appends it to our messages. Like all HDF5 access, use one handle on one thread at a time.
 *
 * Errors name the file: MR_ERR_IO (missing or unreadable file, failed write or rename),
 * MR_ERR_FORMAT (not HDF5, no /dataset/xml, an acquisition or image that cannot be read or is
 * inconsistent), MR_ERR_ARG (index out of range), MR_ERR_NOMEM.
 */
#ifndef MR_IO_ISMRMRD_H
#define MR_IO_ISMRMRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/waveform.h>

#include "recon/status.h"

/* Acquisition flags are bit numbers starting at 1 (ISMRMRD_ACQ_*): true if bit `flag` is set.
 * (ISMRMRD 1.8's own ismrmrd_is_flag_set is fine too; this one is a constant expression.) */
#define MR_ISMRMRD_FLAG(flags, flag) ((((uint64_t)(flags)) >> ((flag) - 1)) & 1u)
#define MR_ISMRMRD_FLAG_BIT(flag) ((uint64_t)1 << ((flag) - 1))

/* Largest acquisition accepted from a file or a stream: number_of_samples × active_channels
 * complex samples (2^24 = 128 MiB) and number_of_samples × trajectory_dimensions floats. */
#define MR_ISMRMRD_MAX_ACQ_SAMPLES ((uint64_t)1 << 24)

/* Sets *is_ismrmrd to whether path is an HDF5 file with a /dataset/xml object. A file that is
 * not HDF5 at all is simply not ISMRMRD (MR_OK, false). Errors: MR_ERR_IO (missing or
 * unreadable file). */
mr_status mr_ismrmrd_probe(const char *path, bool *is_ismrmrd);

/* Checks an acquisition header against what this project can hold (active_channels >= 1,
 * the MR_ISMRMRD_MAX_ACQ_SAMPLES limits). `what` names the source in the message.
 * Errors: MR_ERR_FORMAT. */
mr_status mr_ismrmrd_check_acquisition_header(const ISMRMRD_AcquisitionHeader *h,
                                              const char *what);

/*
 * Gadgetron-style configuration XML (the text of an MRD CONFIG_TEXT message): calls
 * fn(ctx, name, value) for every <property> element anywhere in the document, in document
 * order, with name and value taken from its attributes (<property name="k" value="v"/>,
 * Gadgetron 4) or from its <name>/<value> children (Gadgetron 3 stream configurations).
 * Properties without a name are skipped; a missing value is "". fn's error stops the walk and
 * is returned. Errors: MR_ERR_FORMAT (not well-formed XML, with libxml2's line and message),
 * MR_ERR_NOMEM.
 */
typedef mr_status (*mr_ismrmrd_property_fn)(void *ctx, const char *name, const char *value);
mr_status mr_ismrmrd_config_properties(const char *xml, size_t len, mr_ismrmrd_property_fn fn,
                                       void *ctx);

/* ---- reading ------------------------------------------------------------------------------ */

struct mr_ismrmrd_file;

/* Opens an ISMRMRD file and reads its XML header (not parsed here). A file of images only
 * (no /dataset/xml, as a stream of images converts to) opens with an empty header.
 * Errors: MR_ERR_IO (missing/unreadable), MR_ERR_FORMAT (not HDF5, no /dataset group). */
mr_status mr_ismrmrd_open(const char *path, struct mr_ismrmrd_file **out);
void mr_ismrmrd_close(struct mr_ismrmrd_file *f);

const char *mr_ismrmrd_path(const struct mr_ismrmrd_file *f);

/* The XML header text, NUL-terminated, borrowed (valid until close); *len without the NUL
 * (len may be NULL); "" (len 0) when the file has none. */
const char *mr_ismrmrd_xml(const struct mr_ismrmrd_file *f, size_t *len);

/* Number of acquisitions / waveforms stored (0 when there are none). */
uint32_t mr_ismrmrd_acquisition_count(const struct mr_ismrmrd_file *f);
uint32_t mr_ismrmrd_waveform_count(const struct mr_ismrmrd_file *f);

/* Reads acquisition i into acq (initialised by the caller with ismrmrd_init_acquisition; its
 * buffers are reallocated) and checks it (mr_ismrmrd_check_acquisition_header).
 * Errors: MR_ERR_ARG (i out of range), MR_ERR_FORMAT. */
mr_status mr_ismrmrd_read_acquisition(struct mr_ismrmrd_file *f, uint32_t i,
                                      ISMRMRD_Acquisition *acq);

/* Reads waveform i into wav (initialised by the caller with ismrmrd_init_waveform). */
mr_status mr_ismrmrd_read_waveform(struct mr_ismrmrd_file *f, uint32_t i, ISMRMRD_Waveform *wav);

/* Number of images under /dataset/<group> (0 when the group does not exist). */
uint32_t mr_ismrmrd_image_count(const struct mr_ismrmrd_file *f, const char *group);

/* Reads image i of /dataset/<group> into im (initialised with ismrmrd_init_image). */
mr_status mr_ismrmrd_read_image(struct mr_ismrmrd_file *f, const char *group, uint32_t i,
                                ISMRMRD_Image *im);

/* ---- writing ------------------------------------------------------------------------------ */

struct mr_ismrmrd_writer;

/* Starts a new ISMRMRD file at "<path>.tmp-<pid>" (an old temp file is replaced).
 * Errors: MR_ERR_IO (folder missing or not writable), MR_ERR_NOMEM. */
mr_status mr_ismrmrd_writer_create(const char *path, struct mr_ismrmrd_writer **out);

/* Writes /dataset/xml (at most once). */
mr_status mr_ismrmrd_writer_header(struct mr_ismrmrd_writer *w, const char *xml);

/* Appends one acquisition / waveform / image (image under /dataset/<group>). MR_ERR_IO. */
mr_status mr_ismrmrd_writer_acquisition(struct mr_ismrmrd_writer *w,
                                        const ISMRMRD_Acquisition *acq);
mr_status mr_ismrmrd_writer_waveform(struct mr_ismrmrd_writer *w, const ISMRMRD_Waveform *wav);
mr_status mr_ismrmrd_writer_image(struct mr_ismrmrd_writer *w, const char *group,
                                  const ISMRMRD_Image *im);

/* Closes the file and renames it onto <path>. Always frees w; on failure the temp file is
 * removed and <path> untouched. Errors: MR_ERR_IO. */
mr_status mr_ismrmrd_writer_commit(struct mr_ismrmrd_writer *w);

/* Abandons an uncommitted file (temp file removed) and frees w. NULL ok. */
void mr_ismrmrd_writer_free(struct mr_ismrmrd_writer *w);

#endif
