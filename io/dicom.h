/*
 * DICOM output: one MR Image Storage instance (SOP class 1.2.840.10008.5.1.4.1.1.4, PS3.3
 * A.4) per 2-D magnitude image, written with DCMTK (io/dicom_dcmtk.cpp is the only C++ file;
 * everything else here is C), and C-STORE of the files to a PACS (DCMTK's DcmSCU).
 *
 * What an instance holds (Explicit VR Little Endian, Specific Character Set ISO_IR 192: UTF-8):
 *   Patient, General Study, General Series, Frame of Reference, General Equipment: from
 *     struct mr_dicom_series (below); empty type-2 values where unknown.
 *   General Image: Image Type DERIVED\SECONDARY, Instance Number, Derivation Description.
 *   Image Plane: Image Position (Patient) = centre of the first transmitted pixel (row 0,
 *     column 0) in mm, Image Orientation (Patient) = row direction \ column direction (unit
 *     vectors: the direction of increasing column index, then of increasing row index), Pixel
 *     Spacing = row spacing \ column spacing (mm between row centres, between column centres),
 *     Slice Thickness, Slice Location = position · (row × column direction).
 *   Image Pixel: Rows, Columns, 16-bit unsigned MONOCHROME2 pixels (Bits Stored 16, High Bit
 *     15), row-major, with the intensity scaling of struct mr_dicom_scale:
 *         value = stored × Rescale Slope + Rescale Intercept   (Rescale Type "US")
 *     and no window (viewers window on the data; a DICOM window narrower than 1 in these
 *     units would be invalid for images whose values are below 1).
 *   MR Image: Scanning Sequence RM (research mode: a reconstruction, not the scanner's
 *     sequence), Sequence Variant NONE, MR Acquisition Type 2D, TR / TE / TI / flip angle /
 *     field strength / imaging frequency from the series (empty where unknown).
 *
 * UIDs are DICOM UIDs (digits and dots, at most 64 characters). Unique ones come from DCMTK's
 * dcmGenerateUniqueIdentifier (OFFIS root 1.2.276.0.7230010.3 with the study, series and
 * instance sub-roots, then host, process, time and a counter). Reproducible ones, on request,
 * are name-based: "2.25." followed by the decimal value of the RFC 4122 version-5 UUID (SHA-1)
 * of a name in the URL namespace (ISO/IEC 9834-8 / PS3.5 B.2), so Python gives the same with
 * "2.25.%d" % uuid.uuid5(uuid.NAMESPACE_URL, name).int. The names (seed = the caller's text):
 *     study              "mrirecon:study:<seed>"
 *     frame of reference "mrirecon:frame:<seed>"
 *     series             "mrirecon:series:<seed>:<series number>:<series description>"
 *     instance           "mrirecon:instance:<series UID>:<instance number>"
 *
 * Files are written atomically: a temporary file next to the target, flushed, fsynced and
 * renamed (io/atomic_file.h). A series folder (mr_dicom_dir) goes one step further: its files
 * are written into "<dir>.tmp-XXXXXX" beside the target and the whole folder is renamed onto
 * <dir> at commit, so <dir> appears complete or not at all. Names inside: "IM%05d.dcm" of the
 * instance number (IM00001.dcm, ...).
 *
 * Limits checked before anything is written: 1 <= rows, cols <= 65535; rows × cols × 2 bytes
 * below 2^32 (the pixel data's 32-bit length); instance and series numbers 0 .. 2^31 - 1;
 * every pixel value finite; text longer than its value representation allows is cut at a
 * UTF-8 character boundary (LO/PN 64 bytes, SH/CS 16), backslashes (DICOM's value separator)
 * become '/', control characters spaces.
 *
 * Errors name the file, the field or the peer: MR_ERR_ARG (sizes, spec strings, a bad UID
 * given by the caller), MR_ERR_FORMAT (an ISMRMRD header field that is not what the schema
 * says), MR_ERR_DATA (a non-finite pixel), MR_ERR_IO (writing, renaming, the network),
 * MR_ERR_NOMEM. Functions are thread-safe on distinct objects.
 */
#ifndef MR_IO_DICOM_H
#define MR_IO_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ismrmrd/ismrmrd.h>

#include "recon/status.h"

#define MR_DICOM_UID_SIZE 65  /* UI: 64 characters + NUL */
#define MR_DICOM_LO_SIZE 65   /* LO, PN: 64 bytes + NUL */
#define MR_DICOM_SH_SIZE 17   /* SH, CS, AE: 16 + NUL */
#define MR_DICOM_DA_SIZE 9    /* YYYYMMDD */
#define MR_DICOM_TM_SIZE 17   /* HHMMSS.FFFFFF */
#define MR_DICOM_ST_SIZE 1025 /* ST: 1024 */

/* Anonymous defaults of mr_dicom_series_init. */
#define MR_DICOM_DEFAULT_PATIENT_NAME "Anonymous"
#define MR_DICOM_DEFAULT_PATIENT_ID "ANONYMOUS"

/* Default Calling AE Title of mr_dicom_send's users. */
#define MR_DICOM_CALLING_AET "MRIRECON"

/*
 * Who and what a series is. mr_dicom_series_init gives the anonymous defaults (documented per
 * field); mr_dicom_series_from_ismrmrd_xml overrides them from an ISMRMRD header;
 * mr_dicom_series_uids fills the UIDs. Empty strings are written as empty (type 2) values
 * or left out (type 3); NAN numbers likewise.
 */
struct mr_dicom_series {
    /* Patient */
    char patient_name[MR_DICOM_LO_SIZE];      /* (0010,0010) MR_DICOM_DEFAULT_PATIENT_NAME */
    char patient_id[MR_DICOM_LO_SIZE];        /* (0010,0020) MR_DICOM_DEFAULT_PATIENT_ID */
    char patient_birth_date[MR_DICOM_DA_SIZE]; /* (0010,0030) YYYYMMDD or "" */
    char patient_sex[MR_DICOM_SH_SIZE];       /* (0010,0040) M, F, O or "" */
    double patient_weight_kg;                 /* (0010,1030) NAN: unknown */
    /* Study */
    char study_uid[MR_DICOM_UID_SIZE];        /* (0020,000D) "" until mr_dicom_series_uids */
    char study_date[MR_DICOM_DA_SIZE];        /* (0008,0020) "" */
    char study_time[MR_DICOM_TM_SIZE];        /* (0008,0030) "" */
    char study_id[MR_DICOM_SH_SIZE];          /* (0020,0010) "" */
    char accession_number[MR_DICOM_SH_SIZE];  /* (0008,0050) "" */
    char referring_physician[MR_DICOM_LO_SIZE]; /* (0008,0090) "" */
    char study_description[MR_DICOM_LO_SIZE]; /* (0008,1030) "" */
    char body_part[MR_DICOM_SH_SIZE];         /* (0018,0015) "" */
    /* Series */
    char series_uid[MR_DICOM_UID_SIZE];       /* (0020,000E) "" until mr_dicom_series_uids */
    char frame_uid[MR_DICOM_UID_SIZE];        /* (0020,0052) "" until mr_dicom_series_uids */
    int64_t series_number;                    /* (0020,0011) default 1 */
    char series_date[MR_DICOM_DA_SIZE];       /* (0008,0021) "" */
    char series_time[MR_DICOM_TM_SIZE];       /* (0008,0031) "" */
    char series_description[MR_DICOM_LO_SIZE]; /* (0008,103E) default "mrirecon" */
    char derivation[MR_DICOM_ST_SIZE];        /* (0008,2111) default "" */
    char protocol_name[MR_DICOM_LO_SIZE];     /* (0018,1030) "" */
    char patient_position[MR_DICOM_SH_SIZE];  /* (0018,5100) HFS, FFS, ... or "" */
    /* Equipment */
    char manufacturer[MR_DICOM_LO_SIZE];      /* (0008,0070) "" */
    char model[MR_DICOM_LO_SIZE];             /* (0008,1090) "" */
    char institution[MR_DICOM_LO_SIZE];       /* (0008,0080) "" */
    char station[MR_DICOM_SH_SIZE];           /* (0008,1010) "" */
    /* Acquisition (NAN: unknown) */
    double field_strength_t;                  /* (0018,0087) */
    double imaging_frequency_mhz;             /* (0018,0084) */
    double tr_ms;                             /* (0018,0080) */
    double te_ms;                             /* (0018,0081) */
    double ti_ms;                             /* (0018,0082) */
    double flip_angle_deg;                    /* (0018,1314) */
    /* Set by mr_dicom_series_uids: instance UIDs are name-based on series_uid. */
    bool reproducible;
};

/* *s = the anonymous defaults above (no UIDs, not reproducible). */
void mr_dicom_series_init(struct mr_dicom_series *s);

/* Sets text field dst (of size cap, one of the series' arrays) from src with the cleaning
 * rules of the top of this file (cut at cap - 1 bytes on a UTF-8 boundary, '\\' -> '/',
 * control characters -> ' ', leading and trailing blanks dropped). */
void mr_dicom_set_text(char *dst, size_t cap, const char *src);

/*
 * Overrides s from an ISMRMRD XML header (len bytes; `what` names the source in messages),
 * field by field where the header has the element (ismrmrd.xsd):
 *   subjectInformation/  patientName, patientID, patientBirthdate (xs:date), patientGender,
 *                        patientWeight_kg
 *   studyInformation/    studyDate, studyTime (xs:time), studyID, accessionNumber,
 *                        referringPhysicianName, studyDescription, studyInstanceUID,
 *                        bodyPartExamined
 *   measurementInformation/  seriesDate, seriesTime, protocolName, patientPosition,
 *                        frameOfReferenceUID
 *   acquisitionSystemInformation/  systemVendor, systemModel, institutionName, stationName,
 *                        systemFieldStrength_T
 *   experimentalConditions/H1resonanceFrequency_Hz (imaging frequency = it / 1e6)
 *   sequenceParameters/  first TR, TE, TI, flipAngle_deg
 * measurementInformation's initialSeriesNumber and seriesDescription are the scanner's raw
 * series, not this derived one, and are not taken. Dates become YYYYMMDD, times HHMMSS[.F].
 * Errors: MR_ERR_FORMAT (not well-formed XML, a date/time/UID/number that does not parse, a
 * gender or patient position outside the schema's values), MR_ERR_NOMEM. s is unchanged on
 * failure.
 */
mr_status mr_dicom_series_from_ismrmrd_xml(struct mr_dicom_series *s, const char *xml,
                                           size_t len, const char *what);

/*
 * Fills the study, frame-of-reference and series UIDs that are still "" (UIDs from the header
 * are kept). seed NULL: unique UIDs (DCMTK); instance UIDs will be unique too. Else the
 * name-based UIDs of the top of this file from seed, series_number and series_description,
 * and s->reproducible = true, so the same seed, series number and description give the same
 * UIDs again. Errors: MR_ERR_ARG (a UID already in s that is not a valid UID).
 */
mr_status mr_dicom_series_uids(struct mr_dicom_series *s, const char *seed);

/* The name-based UID "2.25.<decimal UUIDv5(URL namespace, name)>" into uid. */
void mr_dicom_uid_from_name(const char *name, char uid[MR_DICOM_UID_SIZE]);

/* True for a valid DICOM UID: 1..64 characters, dot-separated numbers without leading zeros. */
bool mr_dicom_uid_valid(const char *uid);

/* value = stored × slope + intercept (Rescale Slope / Intercept). */
struct mr_dicom_scale {
    double slope;
    double intercept;
};

/*
 * The scaling that maps values in [lo, hi] onto the full 16-bit range: intercept
 * b = min(0, lo) rounded down and slope = (max(0, hi) - b) / 65535 rounded up (1 when that is
 * 0), both to the 10 significant digits the decimal strings in the file carry, so the file's
 * slope and intercept are exactly the ones used and b + 65535 slope >= hi. Zero stays exactly
 * 0 for non-negative data, and each stored value round((v - b) / slope) gives back v within
 * slope / 2. lo and hi must be finite.
 */
void mr_dicom_scale_range(double lo, double hi, struct mr_dicom_scale *out);

/* mr_dicom_scale_range of the n values v. Errors: MR_ERR_DATA (a value that is NaN or
 * infinite, named by index), MR_ERR_ARG (n = 0). */
mr_status mr_dicom_scale_fit(const float *v, size_t n, struct mr_dicom_scale *out);

/* One image of a series. */
struct mr_dicom_image {
    const float *data;       /* rows × cols values, row-major: data[r * cols + c]; borrowed */
    int64_t rows;
    int64_t cols;
    int64_t instance_number; /* (0020,0013); names the file in a series folder */
    double position[3];      /* centre of pixel (0, 0), mm, patient coordinates (LPS) */
    double row_dir[3];       /* unit vector of increasing column index */
    double col_dir[3];       /* unit vector of increasing row index, orthogonal to row_dir */
    double pixel_spacing[2]; /* mm: between rows (along col_dir), between columns (row_dir) */
    double slice_thickness;  /* mm */
    struct mr_dicom_scale scale;
    char comments[256];      /* Image Comments (0020,4000), e.g. the trust report's summary;
                              * "" : none */
    char sop_uid[MR_DICOM_UID_SIZE]; /* "" : made at write (name-based when the series is
                                      * reproducible, else unique) */
};

/*
 * Places im: row_dir, col_dir as given and position such that pixel (rows / 2, cols / 2)
 * (integer division: the pixel the centred FFT puts at the centre of the field of view) has
 * its centre at `centre`:
 *     position = centre - (cols / 2) spacing[1] row_dir - (rows / 2) spacing[0] col_dir
 * rows, cols and pixel_spacing must be set.
 */
void mr_dicom_image_place(struct mr_dicom_image *im, const double centre[3],
                          const double row_dir[3], const double col_dir[3]);

/*
 * An ISMRMRD image (float magnitude, one channel, matrix (x, y, 1), data x fastest) as a DICOM
 * image: rows = matrix y, cols = matrix x, data borrowed from im, instance number =
 * image_index, pixel spacing = (field_of_view[1] / y, field_of_view[0] / x), slice thickness
 * = field_of_view[2], placed (mr_dicom_image_place) with its centre at `position`, row_dir =
 * read_dir (the column index x runs along the readout) and col_dir = phase_dir; an image whose
 * read_dir and phase_dir are both zero (no geometry recorded) gets the axial default
 * (1, 0, 0), (0, 1, 0). Scale: mr_dicom_scale_fit
 * of this image. Errors: MR_ERR_ARG (not float, several channels, 3-D, empty, a side above
 * 65535, a field of view that is not positive and finite, directions not unit or not
 * orthogonal within 1e-3), MR_ERR_DATA (non-finite pixel).
 */
mr_status mr_dicom_image_from_ismrmrd(const ISMRMRD_Image *im, struct mr_dicom_image *out);

/* Image Comments from an ISMRMRD image's meta attributes (the stage's trust report,
 * pipeline/stage.h): "mrirecon trust: dc_residual R, score S, flag F[: reason]", or "" when
 * the meta has no mrirecon.dc_residual. */
void mr_dicom_comments_from_meta(const char *meta, char *out, size_t len);

/* Writes one instance to path (atomically). s must have its UIDs (mr_dicom_series_uids).
 * Errors: MR_ERR_ARG (sizes, numbers, UIDs), MR_ERR_DATA, MR_ERR_IO (folder missing or not
 * writable, disk full, DCMTK's encoding; path untouched then), MR_ERR_NOMEM. */
mr_status mr_dicom_write(const char *path, const struct mr_dicom_series *s,
                         const struct mr_dicom_image *im);

/* ---- a series folder, appearing whole ------------------------------------------------- */

struct mr_dicom_dir;

/*
 * Starts the series folder `dir`: checks it can be replaced (it does not exist, or is a folder
 * holding nothing but IM*.dcm files, e.g. an earlier series of ours: anything else is kept and
 * refused with MR_ERR_IO) and creates the temporary folder "<dir>.tmp-XXXXXX" beside it (the
 * parent folder must exist). Errors: MR_ERR_IO, MR_ERR_NOMEM.
 */
mr_status mr_dicom_dir_create(const char *dir, struct mr_dicom_dir **out);

/* Writes im as "IM%05d.dcm" (its instance number) into the temporary folder. An instance
 * number used twice is MR_ERR_ARG. Other errors: those of mr_dicom_write. */
mr_status mr_dicom_dir_write(struct mr_dicom_dir *d, const struct mr_dicom_series *s,
                             const struct mr_dicom_image *im);

/*
 * Syncs the temporary folder and renames it onto dir: an absent or empty dir is replaced in
 * one rename; an earlier series is swapped for the new one in one step (renameat2
 * RENAME_EXCHANGE; where the file system cannot, it is moved aside first) and then removed.
 * Always frees d; on failure the temporary folder is removed and dir untouched.
 * Errors: MR_ERR_IO.
 */
mr_status mr_dicom_dir_commit(struct mr_dicom_dir *d);

/* Abandons an uncommitted folder (the temporary folder and its files removed). NULL ok. */
void mr_dicom_dir_free(struct mr_dicom_dir *d);

/* "<dir>/IM%05d.dcm" of an instance number into buf. Errors: MR_ERR_ARG (too long). */
mr_status mr_dicom_file_name(const char *dir, int64_t instance, char *buf, size_t cap);

/* ---- C-STORE ------------------------------------------------------------------------------ */

/* A storage peer, as "HOST:PORT:AET" on command lines. */
struct mr_dicom_peer {
    char host[256];                    /* name or address; [v6] brackets removed */
    int port;                          /* 1..65535 */
    char called_aet[MR_DICOM_SH_SIZE]; /* the PACS's AE title */
};

/* True for an AE title: 1 to 16 characters of the default repertoire, no backslash or control
 * character, not only spaces. */
bool mr_dicom_aet_valid(const char *aet);

/* Parses "HOST:PORT:AET" (HOST may be a bracketed IPv6 address, "[::1]:104:PACS"). AET: 1 to
 * 16 characters, no backslash or control character, not all spaces. Errors: MR_ERR_ARG
 * saying which part is wrong. */
mr_status mr_dicom_peer_parse(const char *spec, struct mr_dicom_peer *out);

/*
 * Stores the n files (MR Image Storage) on the peer with one association: Explicit or
 * Implicit VR Little Endian, calling AE title calling_aet (NULL: MR_DICOM_CALLING_AET);
 * timeouts: 10 s to connect, 30 s for association messages, 60 s per C-STORE response.
 * Every file must be stored (status 0000 or a B-warning) or the call fails.
 * Errors: MR_ERR_ARG (n = 0, AE titles), MR_ERR_IO (cannot connect, association rejected, no
 * accepted presentation context, a file that cannot be read, a failure status: the message
 * names the peer "AET@host:port", the file and the status).
 */
mr_status mr_dicom_send(const char *const *files, size_t n, const char *host, int port,
                        const char *called_aet, const char *calling_aet);

#endif
