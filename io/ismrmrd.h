/*
 * ISMRMRD raw-data files (ISMRMRD 1.8 layout, ismrmrd/dataset.h; specs/ismrmrd.md §2.2).
 *
 * File layout (HDF5), group "/dataset" (types in io/ismrmrd_hdf5.h):
 *   xml                    the ISMRMRD XML header (parse it with io/ismrmrd_header.h)
 *   data                   acquisitions: 340-byte AcquisitionHeader + trajectory + data
 *                          (data[c * number_of_samples + s]: all samples of channel 0, then 1...)
 *   waveforms              optional physiological waveforms
 *   <group>/{header, attributes, data}   images appended under a name, e.g. "image_0";
 *                          data (N, channels, z, y, x), x fastest
 *
 * A file is recognised as ISMRMRD by its content (a /dataset group), not by its name.
 *
 * Reading and writing go through io/h5's handle with HDF5 directly (not the ISMRMRD dataset
 * API, which opens inputs read-write, reads a record before any check and cannot recover from
 * a write error). Opening checks that /dataset/data and /dataset/waveforms, when present, are
 * 1-D datasets of ISMRMRD's record types. Each acquisition is read in two steps: its header
 * first, checked (mr_ismrmrd_check_acquisition_header), then its trajectory and samples, which
 * must be exactly the sizes the header declares (HDF5 may not even allocate more) and finite.
 * Waveforms and images are checked the same way. Writing never leaves a half file behind
 * (io/atomic_file.h): the writer fills a temporary file and only mr_ismrmrd_writer_commit
 * moves it onto <path>; after a failed write (a full disk) the writer refuses every further
 * call and freeing it removes the temporary file.
 *
 * Errors name the file and the record: MR_ERR_IO (missing or unreadable file, failed write or
 * rename), MR_ERR_FORMAT (not HDF5, truncated, no /dataset group, a record type or size that
 * is not ISMRMRD's or not what its header declares), MR_ERR_DATA (NaN/Inf samples: acquisition,
 * channel, sample and which of NaN/Inf), MR_ERR_ARG (index out of range), MR_ERR_NOMEM (also
 * over the memory limit of recon/array.h). Like all HDF5 access, use one handle on one thread
 * at a time.
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
/* Largest image (data bytes) and image attribute text, and largest waveform (data bytes). */
#define MR_ISMRMRD_MAX_IMAGE_BYTES ((uint64_t)1 << 30)
#define MR_ISMRMRD_MAX_ATTRIBUTES ((uint64_t)64 << 20)
#define MR_ISMRMRD_MAX_WAVEFORM_BYTES ((uint64_t)1 << 30)

/* Sets *is_ismrmrd to whether path is an HDF5 file with a /dataset group (raw data with or
 * without its XML header, or images). A file that is not HDF5 at all, or HDF5 that cannot be
 * opened (truncated), is not recognised (MR_OK, false): opening it then says why. Errors:
 * MR_ERR_IO (missing or unreadable file). */
mr_status mr_ismrmrd_probe(const char *path, bool *is_ismrmrd);

/* Checks an acquisition header against what this project can hold and what makes sense:
 * active_channels >= 1; the MR_ISMRMRD_MAX_ACQ_SAMPLES limits; and, for a readout with
 * samples, discard_pre + discard_post < number_of_samples (some sample is left) and
 * center_sample < number_of_samples (the echo lies on the readout; 0 means "not set"), either
 * of which would otherwise place nothing and give an all-zero image. `what` names the source
 * ("'f.h5' acquisition 3"; the scan_counter is added). Errors: MR_ERR_FORMAT. */
mr_status mr_ismrmrd_check_acquisition_header(const ISMRMRD_AcquisitionHeader *h,
                                              const char *what);

/* MR_OK if every sample (and trajectory value) of acq is finite; else MR_ERR_DATA naming
 * `what`, the scan_counter, the channel and sample, and whether it is NaN or Inf. acq must be
 * consistent with its header (as every reader here returns it). */
mr_status mr_ismrmrd_check_acquisition_data(const ISMRMRD_Acquisition *acq, const char *what);

/* Checks an image header before its buffers are sized from it: a known data_type,
 * matrix_size and channels >= 1, matrix_size[0..2] * channels within what ISMRMRD's int
 * arithmetic and MR_ISMRMRD_MAX_IMAGE_BYTES allow, attribute_string_len within
 * MR_ISMRMRD_MAX_ATTRIBUTES, and the memory limit. *data_bytes (may be NULL) receives the
 * size of the image data. Errors: MR_ERR_FORMAT, MR_ERR_NOMEM (memory limit). */
mr_status mr_ismrmrd_check_image_header(const ISMRMRD_ImageHeader *h, const char *what,
                                        size_t *data_bytes);

/* Checks a waveform header: channels * number_of_samples uint32 values within
 * MR_ISMRMRD_MAX_WAVEFORM_BYTES and the memory limit. Errors: MR_ERR_FORMAT, MR_ERR_NOMEM. */
mr_status mr_ismrmrd_check_waveform_header(const ISMRMRD_WaveformHeader *h, const char *what);

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

/* Opens an ISMRMRD file read-only, reads its XML header (not parsed here) and checks the
 * acquisition and waveform datasets' types and counts. A file of images only (no /dataset/xml,
 * as a stream of images converts to) opens with an empty header. Errors: MR_ERR_IO
 * (missing/unreadable), MR_ERR_FORMAT (not HDF5, truncated, no /dataset group, /dataset/data
 * or /dataset/waveforms not a 1-D dataset of ISMRMRD records, more than 2^32 - 1 of them),
 * MR_ERR_NOMEM. */
mr_status mr_ismrmrd_open(const char *path, struct mr_ismrmrd_file **out);
void mr_ismrmrd_close(struct mr_ismrmrd_file *f);

const char *mr_ismrmrd_path(const struct mr_ismrmrd_file *f);

/* The XML header text, NUL-terminated, borrowed (valid until close); *len without the NUL
 * (len may be NULL); "" (len 0) when the file has none. */
const char *mr_ismrmrd_xml(const struct mr_ismrmrd_file *f, size_t *len);

/* The XML header of a raw-data file: like mr_ismrmrd_xml, but a file without one fails with
 * MR_ERR_FORMAT "'f.h5' has no XML header (/dataset/xml); ISMRMRD raw data needs one". */
mr_status mr_ismrmrd_require_xml(const struct mr_ismrmrd_file *f, const char **xml, size_t *len);

/* Number of acquisitions / waveforms stored (0 when there are none; checked at open). */
uint32_t mr_ismrmrd_acquisition_count(const struct mr_ismrmrd_file *f);
uint32_t mr_ismrmrd_waveform_count(const struct mr_ismrmrd_file *f);

/* Reads acquisition i into acq (initialised by the caller with ismrmrd_init_acquisition; its
 * buffers are replaced): the header first, checked with mr_ismrmrd_check_acquisition_header
 * and the memory limit, then the trajectory and samples, which must be exactly as many as the
 * header declares and finite (mr_ismrmrd_check_acquisition_data). On failure acq's contents
 * are unspecified but safe to clean up. Errors: MR_ERR_ARG (i out of range), MR_ERR_FORMAT,
 * MR_ERR_DATA, MR_ERR_NOMEM. */
mr_status mr_ismrmrd_read_acquisition(struct mr_ismrmrd_file *f, uint32_t i,
                                      ISMRMRD_Acquisition *acq);

/* Reads waveform i into wav (initialised by the caller with ismrmrd_init_waveform; its data
 * is replaced), header first (mr_ismrmrd_check_waveform_header), then exactly the samples it
 * declares. Errors: MR_ERR_ARG, MR_ERR_FORMAT, MR_ERR_NOMEM. */
mr_status mr_ismrmrd_read_waveform(struct mr_ismrmrd_file *f, uint32_t i, ISMRMRD_Waveform *wav);

/* Number of images under /dataset/<group>: the length of its 1-D header dataset (0 when the
 * group or its header does not exist or is not such a dataset; reading then says why). */
uint32_t mr_ismrmrd_image_count(const struct mr_ismrmrd_file *f, const char *group);

/* Reads image i of /dataset/<group> into im (initialised with ismrmrd_init_image): the header
 * (mr_ismrmrd_check_image_header), then the attribute text (exactly attribute_string_len
 * bytes) and the data, whose dataset must have the header's data type and dims. Errors:
 * MR_ERR_ARG (i out of range), MR_ERR_FORMAT, MR_ERR_NOMEM. */
mr_status mr_ismrmrd_read_image(struct mr_ismrmrd_file *f, const char *group, uint32_t i,
                                ISMRMRD_Image *im);

/* ---- writing ------------------------------------------------------------------------------ */

struct mr_ismrmrd_writer;

/* Starts a new ISMRMRD file under a temporary name next to path (io/atomic_file.h).
 * Errors: MR_ERR_IO (folder missing or not writable), MR_ERR_NOMEM. */
mr_status mr_ismrmrd_writer_create(const char *path, struct mr_ismrmrd_writer **out);

/* Writes /dataset/xml (at most once: MR_ERR_ARG the second time). */
mr_status mr_ismrmrd_writer_header(struct mr_ismrmrd_writer *w, const char *xml);

/* Appends one acquisition / waveform / image (image under /dataset/<group>; every image of a
 * group has the same data type, channels and matrix size). Records are checked like the
 * reader checks them (MR_ERR_FORMAT). Errors: MR_ERR_IO (a write failed, e.g. a full disk:
 * the writer is then broken and refuses further calls with MR_ERR_ARG), MR_ERR_FORMAT. */
mr_status mr_ismrmrd_writer_acquisition(struct mr_ismrmrd_writer *w,
                                        const ISMRMRD_Acquisition *acq);
mr_status mr_ismrmrd_writer_waveform(struct mr_ismrmrd_writer *w, const ISMRMRD_Waveform *wav);
mr_status mr_ismrmrd_writer_image(struct mr_ismrmrd_writer *w, const char *group,
                                  const ISMRMRD_Image *im);

/* Closes, syncs and renames the file onto <path>. Always frees w; on failure (also of any
 * earlier write) the temporary file is removed and <path> untouched. Errors: MR_ERR_IO,
 * MR_ERR_ARG (a broken writer). */
mr_status mr_ismrmrd_writer_commit(struct mr_ismrmrd_writer *w);

/* Abandons an uncommitted file (temp file removed) and frees w. NULL ok. */
void mr_ismrmrd_writer_free(struct mr_ismrmrd_writer *w);

#endif
