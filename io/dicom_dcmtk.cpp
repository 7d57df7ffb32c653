/*
 * DCMTK behind plain C (see dicom_dcmtk.h): Part 10 encoding through a memory buffer into the
 * caller's FILE (so io/atomic_file.h keeps the temp-file-and-rename rule), C-STORE with DcmSCU,
 * and dcmGenerateUniqueIdentifier. No C++ exception or DCMTK type crosses the interface.
 */
#include "dcmtk/config/osconfig.h"

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/oflog/oflog.h"

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "io/dicom_dcmtk.h"

namespace {

/* DCMTK logs to stderr by default; a library must not, and every error comes back in err. */
void quiet_dcmtk()
{
    static const bool done = (OFLog::configure(OFLogger::OFF_LOG_LEVEL), true);
    (void)done;
}

int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    /* DCMTK's condition texts may span lines: keep messages on one */
    for (char *p = err; *p != '\0'; p++)
        if (*p == '\n')
            *p = ';';
    return -1;
}

bool dictionary_ok(char *err, size_t cap)
{
    if (dcmDataDict.isDictionaryLoaded())
        return true;
    fail(err, cap, "DCMTK's data dictionary is not loaded (looked in %s and DCMDICTPATH; "
         "Debian's libdcmtk17 installs it)", DCM_DICT_DEFAULT_PATH);
    return false;
}

} // namespace

extern "C" int mr_dcmtk_write(FILE *f, const struct mr_dcmtk_element *el, size_t n,
                              const uint16_t *pixels, size_t npix, char *err, size_t cap)
{
    quiet_dcmtk();
    if (!dictionary_ok(err, cap))
        return -1;
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    for (size_t i = 0; i < n; i++) {
        DcmVR vr(el[i].vr);
        if (vr.getEVR() == EVR_UNKNOWN)
            return fail(err, cap, "(%04X,%04X): unknown value representation '%s'",
                        el[i].group, el[i].element, el[i].vr);
        OFCondition c = ds->putAndInsertString(DcmTag(el[i].group, el[i].element, vr),
                                               el[i].value);
        if (c.bad())
            return fail(err, cap, "(%04X,%04X) = '%s': %s", el[i].group, el[i].element,
                        el[i].value, c.text());
    }
    OFCondition c = ds->putAndInsertUint16Array(DCM_PixelData, pixels,
                                                static_cast<unsigned long>(npix));
    if (c.bad())
        return fail(err, cap, "pixel data of %zu values: %s", npix, c.text());

    /* the file in 64 KiB pieces: DCMTK fills the buffer, asks us to empty it, goes on */
    static const offile_off_t piece = 65536;
    OFVector<unsigned char> buf(static_cast<size_t>(piece));
    DcmOutputBufferStream out(&buf[0], piece);
    ff.transferInit();
    do {
        c = ff.write(out, EXS_LittleEndianExplicit, EET_ExplicitLength, NULL, EGL_recalcGL,
                     EPD_noChange, 0, 0, 0, EWM_createNewMeta);
        void *data = NULL;
        offile_off_t len = 0;
        out.flushBuffer(data, len);
        if (len > 0 && fwrite(data, 1, static_cast<size_t>(len), f) != static_cast<size_t>(len)) {
            int e = errno;
            ff.transferEnd();
            return fail(err, cap, "%s", strerror(e != 0 ? e : EIO));
        }
    } while (c == EC_StreamNotifyClient);
    ff.transferEnd();
    if (c.bad())
        return fail(err, cap, "DCMTK could not encode the data set: %s", c.text());
    return 0;
}

extern "C" int mr_dcmtk_store(const char *const *files, size_t n, const char *host, int port,
                              const char *called_aet, const char *calling_aet, char *err,
                              size_t cap)
{
    quiet_dcmtk();
    if (!dictionary_ok(err, cap))
        return -1;
    DcmSCU scu;
    scu.setAETitle(calling_aet);
    scu.setPeerHostName(host);
    scu.setPeerPort(static_cast<Uint16>(port));
    scu.setPeerAETitle(called_aet);
    scu.setConnectionTimeout(10);
    scu.setACSETimeout(30);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setDIMSETimeout(60);
    OFList<OFString> xfers;
    xfers.push_back(UID_LittleEndianExplicitTransferSyntax);
    xfers.push_back(UID_LittleEndianImplicitTransferSyntax);
    OFCondition c = scu.addPresentationContext(UID_MRImageStorage, xfers);
    if (c.good())
        c = scu.initNetwork();
    if (c.bad())
        return fail(err, cap, "cannot set up the DICOM network: %s", c.text());
    c = scu.negotiateAssociation();
    if (c.bad())
        return fail(err, cap, "no association with %s@%s:%d: %s", called_aet, host, port,
                    c.text());
    T_ASC_PresentationContextID pc =
        scu.findAnyPresentationContextID(UID_MRImageStorage, UID_LittleEndianExplicitTransferSyntax);
    if (pc == 0) {
        scu.releaseAssociation();
        return fail(err, cap, "%s@%s:%d accepts no MR Image Storage in Little Endian",
                    called_aet, host, port);
    }
    for (size_t i = 0; i < n; i++) {
        Uint16 status = 0;
        c = scu.sendSTORERequest(pc, OFFilename(files[i]), NULL, status);
        if (c.bad()) {
            if (scu.isConnected())
                scu.abortAssociation();
            return fail(err, cap, "storing '%s' on %s@%s:%d failed: %s", files[i], called_aet,
                        host, port, c.text());
        }
        /* 0000 success; Bxxx warnings (stored, possibly with coercion) */
        if (status != 0x0000 && (status & 0xF000) != 0xB000) {
            scu.releaseAssociation();
            return fail(err, cap, "%s@%s:%d refused '%s': C-STORE status %04X (%s)", called_aet,
                        host, port, files[i], status, DU_cstoreStatusString(status));
        }
    }
    c = scu.releaseAssociation();
    if (c.bad())
        return fail(err, cap, "releasing the association with %s@%s:%d: %s", called_aet, host,
                    port, c.text());
    return 0;
}

extern "C" void mr_dcmtk_unique_uid(enum mr_dcmtk_uid_kind kind, char uid[65])
{
    const char *root = kind == MR_DCMTK_UID_STUDY    ? SITE_STUDY_UID_ROOT
                       : kind == MR_DCMTK_UID_SERIES ? SITE_SERIES_UID_ROOT
                                                     : SITE_INSTANCE_UID_ROOT;
    dcmGenerateUniqueIdentifier(uid, root);
}
