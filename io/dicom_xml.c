/*
 * Patient, study, series and acquisition fields of an ISMRMRD XML header (ismrmrd.xsd) for a
 * DICOM series (io/dicom.h, mr_dicom_series_from_ismrmrd_xml). The tree is walked by local
 * name as io/ismrmrd_header.c does (a header without the namespace is accepted, another
 * namespace is not looked into); values are converted to DICOM's forms: xs:date -> DA
 * (YYYYMMDD), xs:time -> TM (HHMMSS.FFFFFF), enumerations checked against the schema.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "io/dicom.h"
#include "io/ismrmrd_header.h"

struct walk {
    const char *what;
    const xmlNode *root;
};

static const xmlNode *find(const xmlNode *parent, const char *name)
{
    if (parent == NULL)
        return NULL;
    for (const xmlNode *n = parent->children; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 &&
            (n->ns == NULL || xmlStrEqual(n->ns->href, BAD_CAST MR_ISMRMRD_NAMESPACE)))
            return n;
    return NULL;
}

/* The text of <group>/<name> under the root, blanks around it dropped, into buf (cut to cap);
 * false when absent. */
static bool text(const struct walk *w, const char *group, const char *name, char *buf,
                 size_t cap)
{
    const xmlNode *n = find(find(w->root, group), name);
    if (n == NULL)
        return false;
    xmlChar *t = xmlNodeGetContent(n);
    mr_dicom_set_text(buf, cap, t != NULL ? (const char *)t : "");
    xmlFree(t);
    return true;
}

/* A plain text field: set only where the header has it. */
static void take_text(const struct walk *w, const char *group, const char *name, char *dst,
                      size_t cap)
{
    char buf[MR_DICOM_ST_SIZE];
    if (text(w, group, name, buf, sizeof(buf)))
        mr_dicom_set_text(dst, cap, buf);
}

static mr_status take_number(const struct walk *w, const char *group, const char *name,
                             double scale, double *dst)
{
    char buf[64];
    char *end = NULL;
    if (!text(w, group, name, buf, sizeof(buf)))
        return MR_OK;
    errno = 0;
    double v = strtod(buf, &end);
    if (buf[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s/%s> is '%s', expected a number",
                       w->what, group, name, buf);
    *dst = v * scale;
    return MR_OK;
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* An xs:timezone suffix ("", "Z", "+hh:mm", "-hh:mm") */
static bool timezone_ok(const char *s)
{
    return *s == '\0' || strcmp(s, "Z") == 0 ||
           ((*s == '+' || *s == '-') && digits(s + 1, 2) && s[3] == ':' && digits(s + 4, 2) &&
            s[6] == '\0');
}

/* xs:date YYYY-MM-DD[tz] -> DA YYYYMMDD (the local date; the zone is dropped, as DICOM's DA
 * has none) */
static mr_status take_date(const struct walk *w, const char *group, const char *name,
                           char dst[MR_DICOM_DA_SIZE])
{
    char b[64];
    if (!text(w, group, name, b, sizeof(b)))
        return MR_OK;
    if (strlen(b) < 10 || !digits(b, 4) || b[4] != '-' || !digits(b + 5, 2) || b[7] != '-' ||
        !digits(b + 8, 2) || !timezone_ok(b + 10))
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s/%s> is '%s', expected a date "
                       "YYYY-MM-DD", w->what, group, name, b);
    snprintf(dst, MR_DICOM_DA_SIZE, "%.4s%.2s%.2s", b, b + 5, b + 8);
    return MR_OK;
}

/* xs:time hh:mm:ss[.f...][tz] -> TM HHMMSS[.FFFFFF] (at most 6 fraction digits kept) */
static mr_status take_time(const struct walk *w, const char *group, const char *name,
                           char dst[MR_DICOM_TM_SIZE])
{
    char b[64];
    if (!text(w, group, name, b, sizeof(b)))
        return MR_OK;
    size_t nf = 0;
    bool ok = strlen(b) >= 8 && digits(b, 2) && b[2] == ':' && digits(b + 3, 2) &&
              b[5] == ':' && digits(b + 6, 2);
    const char *p = b + 8;
    if (ok && *p == '.') {
        p++;
        while (p[nf] >= '0' && p[nf] <= '9')
            nf++;
        ok = nf > 0;
    }
    if (!ok || !timezone_ok(p + nf))
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s/%s> is '%s', expected a time "
                       "hh:mm:ss", w->what, group, name, b);
    int k = snprintf(dst, MR_DICOM_TM_SIZE, "%.2s%.2s%.2s", b, b + 3, b + 6);
    if (nf > 0)
        snprintf(dst + k, MR_DICOM_TM_SIZE - (size_t)k, ".%.*s", (int)(nf < 6 ? nf : 6), p);
    return MR_OK;
}

/* A value of an xs:enumeration, copied as is (the schema's codes are DICOM's). */
static mr_status take_enum(const struct walk *w, const char *group, const char *name,
                           const char *const *allowed, char *dst, size_t cap)
{
    char b[64];
    if (!text(w, group, name, b, sizeof(b)))
        return MR_OK;
    for (size_t i = 0; allowed[i] != NULL; i++)
        if (strcmp(b, allowed[i]) == 0) {
            mr_dicom_set_text(dst, cap, b);
            return MR_OK;
        }
    return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s/%s> is '%s', not one of the "
                   "schema's values", w->what, group, name, b);
}

static mr_status take_uid(const struct walk *w, const char *group, const char *name,
                          char dst[MR_DICOM_UID_SIZE])
{
    char b[128];
    if (!text(w, group, name, b, sizeof(b)))
        return MR_OK;
    if (!mr_dicom_uid_valid(b))
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s/%s> is '%s', not a DICOM UID "
                       "(numbers separated by dots, at most 64 characters)", w->what, group,
                       name, b);
    memcpy(dst, b, strlen(b) + 1); /* valid: at most 64 characters */
    return MR_OK;
}

static mr_status walk_header(const struct walk *w, struct mr_dicom_series *s)
{
    static const char *const sexes[] = { "M", "F", "O", NULL };
    static const char *const positions[] = { "HFP", "HFS", "HFDR", "HFDL",
                                             "FFP", "FFS", "FFDR", "FFDL", NULL };
    static const char subj[] = "subjectInformation";
    static const char study[] = "studyInformation";
    static const char meas[] = "measurementInformation";
    static const char sys[] = "acquisitionSystemInformation";
    static const char seq[] = "sequenceParameters";
    mr_status st = MR_OK;

    take_text(w, subj, "patientName", s->patient_name, sizeof(s->patient_name));
    take_text(w, subj, "patientID", s->patient_id, sizeof(s->patient_id));
    MR_CHECK(take_date(w, subj, "patientBirthdate", s->patient_birth_date));
    MR_CHECK(take_enum(w, subj, "patientGender", sexes, s->patient_sex,
                       sizeof(s->patient_sex)));
    MR_CHECK(take_number(w, subj, "patientWeight_kg", 1.0, &s->patient_weight_kg));

    MR_CHECK(take_date(w, study, "studyDate", s->study_date));
    MR_CHECK(take_time(w, study, "studyTime", s->study_time));
    take_text(w, study, "studyID", s->study_id, sizeof(s->study_id));
    take_text(w, study, "accessionNumber", s->accession_number, sizeof(s->accession_number));
    take_text(w, study, "referringPhysicianName", s->referring_physician,
              sizeof(s->referring_physician));
    take_text(w, study, "studyDescription", s->study_description,
              sizeof(s->study_description));
    MR_CHECK(take_uid(w, study, "studyInstanceUID", s->study_uid));
    take_text(w, study, "bodyPartExamined", s->body_part, sizeof(s->body_part));

    MR_CHECK(take_date(w, meas, "seriesDate", s->series_date));
    MR_CHECK(take_time(w, meas, "seriesTime", s->series_time));
    take_text(w, meas, "protocolName", s->protocol_name, sizeof(s->protocol_name));
    MR_CHECK(take_enum(w, meas, "patientPosition", positions, s->patient_position,
                       sizeof(s->patient_position)));
    MR_CHECK(take_uid(w, meas, "frameOfReferenceUID", s->frame_uid));

    take_text(w, sys, "systemVendor", s->manufacturer, sizeof(s->manufacturer));
    take_text(w, sys, "systemModel", s->model, sizeof(s->model));
    take_text(w, sys, "institutionName", s->institution, sizeof(s->institution));
    take_text(w, sys, "stationName", s->station, sizeof(s->station));
    MR_CHECK(take_number(w, sys, "systemFieldStrength_T", 1.0, &s->field_strength_t));
    MR_CHECK(take_number(w, "experimentalConditions", "H1resonanceFrequency_Hz", 1e-6,
                         &s->imaging_frequency_mhz));

    MR_CHECK(take_number(w, seq, "TR", 1.0, &s->tr_ms));
    MR_CHECK(take_number(w, seq, "TE", 1.0, &s->te_ms));
    MR_CHECK(take_number(w, seq, "TI", 1.0, &s->ti_ms));
    MR_CHECK(take_number(w, seq, "flipAngle_deg", 1.0, &s->flip_angle_deg));
out:
    return st;
}

mr_status mr_dicom_series_from_ismrmrd_xml(struct mr_dicom_series *s, const char *xml,
                                           size_t len, const char *what)
{
    mr_status st = MR_OK;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    struct mr_dicom_series t = *s;

    if (len > INT_MAX)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header of %zu bytes is too large", what,
                       len);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: XML parser", what);
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    const xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL || strcmp((const char *)root->name, "ismrmrdHeader") != 0) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[256] = "no <ismrmrdHeader> root";
        if (e != NULL && e->message != NULL)
            mr_dicom_set_text(msg, sizeof(msg), e->message); /* one line, no trailing \n */
        st = MR_FAIL(MR_ERR_FORMAT, "%s: not an ISMRMRD XML header (%s)", what, msg);
        goto out;
    }
    const struct walk w = { .what = what, .root = root };
    MR_CHECK(walk_header(&w, &t));
    *s = t;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return st;
}
