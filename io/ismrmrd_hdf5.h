/*
 * Private to io/: ISMRMRD 1.8's HDF5 layout (ismrmrd libsrc/dataset.c), so that ISMRMRD files
 * are read and written through io/h5's handle with every size checked, instead of through the
 * ISMRMRD dataset API (which opens inputs read-write, reads acquisitions before any check and
 * leaks HDF5 handles on write errors).
 *
 * The file types are the ISMRMRD C structs described member by member with native types,
 * exactly as the library writes them, so files written here are read by ISMRMRD (C++, Python)
 * and files from ISMRMRD are read here; HDF5 converts member by member, by name.
 *
 *   /dataset/xml            1-D, one variable-length string: the XML header
 *   /dataset/data           1-D, chunked, unlimited: {head: AcquisitionHeader,
 *                           traj: vlen float [ns * trajectory_dimensions],
 *                           data: vlen float [2 * ns * active_channels]}
 *   /dataset/waveforms      1-D: {head: WaveformHeader, data: vlen uint32 [channels * ns]}
 *   /dataset/<g>/header     1-D: ImageHeader
 *   /dataset/<g>/attributes 1-D: variable-length string
 *   /dataset/<g>/data       (N, channels, z, y, x) of the image data_type (complex as
 *                           compound {real, imag})
 */
#ifndef MR_IO_ISMRMRD_HDF5_H
#define MR_IO_ISMRMRD_HDF5_H

#include <stdint.h>

#include <hdf5.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/waveform.h>

#include "recon/status.h"

/* In-memory records matching the compound types below (ISMRMRD's HDF5_Acquisition etc.). */
struct mr_ismrmrd_h5_acq {
    ISMRMRD_AcquisitionHeader head;
    hvl_t traj; /* float */
    hvl_t data; /* float, re/im interleaved */
};
struct mr_ismrmrd_h5_wav {
    ISMRMRD_WaveformHeader head;
    hvl_t data; /* uint32 */
};

/* New HDF5 types (caller closes; negative on failure). */
hid_t mr_ismrmrd_h5_acq_header_type(void);
hid_t mr_ismrmrd_h5_acq_type(void);         /* struct mr_ismrmrd_h5_acq */
hid_t mr_ismrmrd_h5_acq_head_only_type(void); /* {head} at offset 0 */
hid_t mr_ismrmrd_h5_wav_header_type(void);
hid_t mr_ismrmrd_h5_wav_type(void);           /* struct mr_ismrmrd_h5_wav */
hid_t mr_ismrmrd_h5_wav_head_only_type(void);
/* {member: vlen of base} at offset 0, to read one variable-length member of a record into an
 * hvl_t (one at a time, so that a refused allocation leaves nothing half-converted). */
hid_t mr_ismrmrd_h5_vlen_member_type(const char *member, hid_t base);
hid_t mr_ismrmrd_h5_image_header_type(void);
hid_t mr_ismrmrd_h5_string_type(void);      /* variable-length C string */
/* The HDF5 type of image data of an ISMRMRD data_type; negative for an unknown one. */
hid_t mr_ismrmrd_h5_image_data_type(uint16_t data_type);

/* MR_OK if the file type `have` can be converted to `want` member by member: every member of
 * the compound `want` exists in `have` under the same name with the same type class (compounds
 * recursively, arrays with the same length, vlen with the same base class). `what` names the
 * object ("'f.h5': /dataset/data"); MR_ERR_FORMAT names the first missing or mismatched
 * member and the expected layout. */
mr_status mr_ismrmrd_h5_check_type(hid_t have, hid_t want, const char *what,
                                   const char *expected);

#endif
