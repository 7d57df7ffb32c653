/*
 * The DCMTK half of io/dicom.h, internal to io/. DCMTK is a C++ library, so the one C++ file
 * (dicom_dcmtk.cpp) does the three things DCMTK does for us behind plain C functions: encode a
 * data set as a DICOM Part 10 file, C-STORE files to a peer, make unique UIDs. io/dicom*.c
 * decide what goes into the data set, check every size and handle files and errors.
 *
 * DCMTK's own logging is switched off (its messages come back through err instead), and its
 * data dictionary (Debian: /usr/share/libdcmtk17/dicom.dic, or DCMDICTPATH) must be loadable.
 * Errors: -1 with a one-line message in err (cap bytes, NUL-terminated); 0 on success.
 */
#ifndef MR_IO_DICOM_DCMTK_H
#define MR_IO_DICOM_DCMTK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One data element: tag, value representation ("DS", "UI", ...) and its value as DICOM text
 * (several values separated by '\\'); borrowed. */
struct mr_dcmtk_element {
    uint16_t group;
    uint16_t element;
    const char *vr;
    const char *value;
};

/* Writes preamble, file meta information and a data set of the n elements plus Pixel Data
 * (7FE0,0010) OW = the npix words of pixels, Explicit VR Little Endian, to f (left open; the
 * caller flushes, syncs and closes it). */
int mr_dcmtk_write(FILE *f, const struct mr_dcmtk_element *el, size_t n, const uint16_t *pixels,
                   size_t npix, char *err, size_t cap);

/* C-STORE of the n files over one association (see mr_dicom_send). */
int mr_dcmtk_store(const char *const *files, size_t n, const char *host, int port,
                   const char *called_aet, const char *calling_aet, char *err, size_t cap);

enum mr_dcmtk_uid_kind {
    MR_DCMTK_UID_STUDY = 0,
    MR_DCMTK_UID_SERIES = 1,
    MR_DCMTK_UID_INSTANCE = 2, /* also frames of reference */
};

/* A unique UID (dcmGenerateUniqueIdentifier under DCMTK's site root for the kind) into uid
 * (65 bytes). */
void mr_dcmtk_unique_uid(enum mr_dcmtk_uid_kind kind, char uid[65]);

#ifdef __cplusplus
}
#endif

#endif
