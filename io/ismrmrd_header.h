/*
 * The ISMRMRD XML header (namespace http://www.ismrm.org/ISMRMRD, schema ismrmrd.xsd): the few
 * fields a Cartesian reconstruction needs, parsed with libxml2. The same XML is fastMRI's
 * "ismrmrd_header" dataset and an ISMRMRD file's "/dataset/xml", so both readers use this.
 *
 * Read from the FIRST <encoding> element (n_encodings says how many there are):
 *   encodedSpace/matrixSize/{x,y,z}        enc_matrix     (required)
 *   encodedSpace/fieldOfView_mm/{x,y,z}    enc_fov_mm     (0 if absent)
 *   reconSpace/matrixSize/{x,y,z}          recon_matrix   (required)
 *   reconSpace/fieldOfView_mm/{x,y,z}      recon_fov_mm   (0 if absent)
 *   encodingLimits/<name>/{minimum,maximum,center} for kspace_encoding_step_1,
 *       kspace_encoding_step_2, slice  (each .present = false if absent)
 *   trajectory                             ("" if absent)
 *   parallelImaging/accelerationFactor/kspace_encoding_step_{1,2}   accel (1 if absent)
 * and from the root:
 *   acquisitionSystemInformation/receiverChannels   (0 if absent)
 *   acquisitionSystemInformation/systemFieldStrength_T (0 if absent)
 *
 * x is the readout, y the first phase-encoding direction, z the second (or slices in 2-D).
 * Elements are matched by local name in the ISMRMRD namespace; a header without any
 * namespace is accepted too (some converters drop it), any other namespace is rejected.
 */
#ifndef MR_IO_ISMRMRD_HEADER_H
#define MR_IO_ISMRMRD_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/status.h"

#define MR_ISMRMRD_NAMESPACE "http://www.ismrm.org/ISMRMRD"

struct mr_ismrmrd_limit {
    bool present;
    int64_t minimum;
    int64_t maximum;
    int64_t center;
};

struct mr_ismrmrd_header {
    int n_encodings;
    int64_t enc_matrix[3];   /* x, y, z */
    double enc_fov_mm[3];    /* x, y, z; 0 when absent */
    int64_t recon_matrix[3]; /* x, y, z */
    double recon_fov_mm[3];
    struct mr_ismrmrd_limit kspace_encoding_step_1;
    struct mr_ismrmrd_limit kspace_encoding_step_2;
    struct mr_ismrmrd_limit slice;
    char trajectory[32]; /* "cartesian", "radial", ...; "" when absent */
    int64_t accel[2];    /* acceleration factors along step 1 and 2; 1 when absent */
    int64_t receiver_channels;
    double field_strength_t;
};

/* Parses len bytes of XML (need not be NUL-terminated). `what` names the source in messages
 * ("'file.h5' dataset 'ismrmrd_header'"). Errors: MR_ERR_FORMAT (not well-formed XML, with
 * libxml2's line and message; wrong root element or namespace; no <encoding>; a required
 * field missing; a number that does not parse; a matrix size outside 1..65535 or encoding
 * limits outside 0..65535 or with maximum < minimum, as the schema's xs:unsignedShort allows),
 * MR_ERR_NOMEM. *out is written only on success. */
mr_status mr_ismrmrd_header_parse(const char *xml, size_t len, const char *what,
                                  struct mr_ismrmrd_header *out);

#endif
