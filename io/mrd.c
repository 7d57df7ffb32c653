/*
 * MRD stream framing (see mrd.h): robust full reads/writes over a file descriptor, with every
 * length checked against what the header promises before anything is allocated.
 */
#include "io/mrd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/ismrmrd.h"

_Static_assert(sizeof(ISMRMRD_AcquisitionHeader) == 340, "AcquisitionHeader wire size");
_Static_assert(sizeof(ISMRMRD_ImageHeader) == 198, "ImageHeader wire size");
_Static_assert(sizeof(ISMRMRD_WaveformHeader) == 40, "WaveformHeader wire size");

void mr_mrd_message_init(struct mr_mrd_message *m)
{
    memset(m, 0, sizeof(*m));
    ismrmrd_init_acquisition(&m->acq);
    ismrmrd_init_image(&m->image);
}

void mr_mrd_message_cleanup(struct mr_mrd_message *m)
{
    if (m == NULL)
        return;
    free(m->text);
    ismrmrd_cleanup_acquisition(&m->acq);
    ismrmrd_cleanup_image(&m->image);
    free(m->waveform_data);
    mr_mrd_message_init(m);
}

void mr_mrd_reader_init(struct mr_mrd_reader *r, int fd, const char *what)
{
    r->fd = fd;
    r->what = what;
    r->eof = false;
    r->bytes = 0;
    r->start = 0;
    r->messages = 0;
    r->mem = NULL;
    r->mem_len = 0;
}

void mr_mrd_reader_init_memory(struct mr_mrd_reader *r, const void *buf, size_t len,
                               const char *what)
{
    mr_mrd_reader_init(r, -1, what);
    r->mem = buf;
    r->mem_len = len;
}

bool mr_mrd_reader_eof(const struct mr_mrd_reader *r)
{
    return r->eof;
}

const char *mr_mrd_id_name(uint16_t id)
{
    switch (id) {
    case MR_MRD_CONFIG_FILE: return "CONFIG_FILE";
    case MR_MRD_CONFIG_TEXT: return "CONFIG_TEXT";
    case MR_MRD_HEADER: return "HEADER";
    case MR_MRD_CLOSE: return "CLOSE";
    case MR_MRD_TEXT: return "TEXT";
    case MR_MRD_ERROR: return "ERROR";
    case MR_MRD_ACQUISITION: return "ACQUISITION";
    case MR_MRD_IMAGE: return "IMAGE";
    case MR_MRD_WAVEFORM: return "WAVEFORM";
    }
    return "unknown";
}

/* strerror, except that a socket's receive/send timeout (EAGAIN) says what it means */
static const char *io_error_text(int e)
{
    if (e == EAGAIN || e == EWOULDBLOCK)
        return "timed out (the peer sent or took nothing within the socket timeout)";
    return strerror(e);
}

/* Reads exactly n bytes; returns the number read (< n only at end of stream) or -1 on error. */
static ssize_t read_full(struct mr_mrd_reader *r, void *buf, size_t n)
{
    size_t got = 0;
    if (r->mem != NULL) { /* a message in memory: r->bytes is the read position */
        size_t left = r->mem_len - (size_t)r->bytes;
        got = n < left ? n : left;
        memcpy(buf, (const char *)r->mem + r->bytes, got);
        return (ssize_t)got;
    }
    while (got < n) {
        ssize_t k = read(r->fd, (char *)buf + got, n - got);
        if (k == 0)
            break;
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* "<stream>: ACQUISITION message 7 (byte 1234)": names the message in every reader error */
static const char *msg_name(const struct mr_mrd_reader *r, uint16_t id)
{
    static _Thread_local char buf[600];
    snprintf(buf, sizeof(buf), "%s: %s message %llu (byte %llu)", r->what, mr_mrd_id_name(id),
             (unsigned long long)r->messages, (unsigned long long)r->start);
    return buf;
}

static mr_status read_part(struct mr_mrd_reader *r, void *buf, size_t n, uint16_t id,
                           const char *part)
{
    ssize_t k = read_full(r, buf, n);
    if (k < 0)
        return MR_FAIL(MR_ERR_IO, "%s: read error in its %s: %s", msg_name(r, id), part,
                       io_error_text(errno));
    r->bytes += (uint64_t)k;
    if ((size_t)k < n) {
        r->eof = true;
        return MR_FAIL(MR_ERR_FORMAT, "%s: truncated %s message %llu (byte %llu): its %s "
                       "needs %zu bytes, the stream ended after %zd", r->what,
                       mr_mrd_id_name(id), (unsigned long long)r->messages,
                       (unsigned long long)r->start, part, n, k);
    }
    return MR_OK;
}

static mr_status read_text(struct mr_mrd_reader *r, struct mr_mrd_message *m, uint64_t len)
{
    if (len > MR_MRD_MAX_TEXT)
        return MR_FAIL(MR_ERR_FORMAT, "%s claims %llu bytes of text (limit %llu)",
                       msg_name(r, m->id), (unsigned long long)len,
                       (unsigned long long)MR_MRD_MAX_TEXT);
    m->text = malloc((size_t)len + 1);
    if (m->text == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: %llu bytes of text", msg_name(r, m->id),
                       (unsigned long long)len);
    mr_status st = read_part(r, m->text, (size_t)len, m->id, "text");
    m->text[len] = '\0';
    m->text_len = (size_t)len;
    return st;
}

static mr_status read_acquisition(struct mr_mrd_reader *r, struct mr_mrd_message *m)
{
    mr_status st = read_part(r, &m->acq.head, sizeof(m->acq.head), m->id, "header");
    if (st != MR_OK)
        return st;
    /* bound the sizes before the library computes them in int and allocates */
    char what[700];
    snprintf(what, sizeof(what), "%s", msg_name(r, m->id));
    if ((st = mr_ismrmrd_check_acquisition_header(&m->acq.head, what)) != MR_OK)
        return st;
    if (ismrmrd_make_consistent_acquisition(&m->acq) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_NOMEM, "%s: %u samples x %u channels", what,
                       m->acq.head.number_of_samples, m->acq.head.active_channels);
    size_t ntraj = ismrmrd_size_of_acquisition_traj(&m->acq);
    size_t ndata = ismrmrd_size_of_acquisition_data(&m->acq);
    if (ntraj > 0 && (st = read_part(r, m->acq.traj, ntraj, m->id, "trajectory")) != MR_OK)
        return st;
    if (ndata > 0 && (st = read_part(r, m->acq.data, ndata, m->id, "data")) != MR_OK)
        return st;
    return mr_ismrmrd_check_acquisition_data(&m->acq, what);
}

static mr_status read_image(struct mr_mrd_reader *r, struct mr_mrd_message *m)
{
    uint64_t alen = 0;
    char what[700];
    mr_status st = read_part(r, &m->image.head, sizeof(m->image.head), m->id, "header");
    if (st != MR_OK)
        return st;
    if ((st = read_part(r, &alen, sizeof(alen), m->id, "attribute length")) != MR_OK)
        return st;
    snprintf(what, sizeof(what), "%s", msg_name(r, m->id));
    if (alen > MR_ISMRMRD_MAX_ATTRIBUTES)
        return MR_FAIL(MR_ERR_FORMAT, "%s: attribute text of %llu bytes (limit %llu)", what,
                       (unsigned long long)alen, (unsigned long long)MR_ISMRMRD_MAX_ATTRIBUTES);
    /* the wire's length is the one that counts */
    m->image.head.attribute_string_len = (uint32_t)alen;
    if ((st = mr_ismrmrd_check_image_header(&m->image.head, what, NULL)) != MR_OK)
        return st;
    if (ismrmrd_make_consistent_image(&m->image) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_NOMEM, "%s: image buffers", what);
    /* one more byte so that the attributes are a C string, as the ISMRMRD writer needs */
    char *attr = realloc(m->image.attribute_string, (size_t)alen + 1);
    if (attr == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: image attributes", what);
    m->image.attribute_string = attr;
    attr[alen] = '\0';
    if (alen > 0 &&
        (st = read_part(r, m->image.attribute_string, (size_t)alen, m->id, "attributes")) !=
            MR_OK)
        return st;
    size_t nd = ismrmrd_size_of_image_data(&m->image);
    if (nd > 0 && (st = read_part(r, m->image.data, nd, m->id, "data")) != MR_OK)
        return st;
    return MR_OK;
}

static mr_status read_waveform(struct mr_mrd_reader *r, struct mr_mrd_message *m)
{
    char what[700];
    mr_status st = read_part(r, &m->waveform, sizeof(m->waveform), m->id, "header");
    if (st != MR_OK)
        return st;
    snprintf(what, sizeof(what), "%s", msg_name(r, m->id));
    if ((st = mr_ismrmrd_check_waveform_header(&m->waveform, what)) != MR_OK)
        return st;
    size_t n = (size_t)m->waveform.channels * m->waveform.number_of_samples;
    m->waveform_data = malloc(n > 0 ? n * sizeof(uint32_t) : 1);
    if (m->waveform_data == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: %zu samples", what, n);
    if (n > 0)
        st = read_part(r, m->waveform_data, n * sizeof(uint32_t), m->id, "data");
    return st;
}

mr_status mr_mrd_read(struct mr_mrd_reader *r, struct mr_mrd_message *m)
{
    uint16_t id = 0;
    mr_mrd_message_cleanup(m);
    r->start = r->bytes;
    ssize_t k = read_full(r, &id, sizeof(id));
    if (k < 0)
        return MR_FAIL(MR_ERR_IO, "%s: read error at byte %llu: %s", r->what,
                       (unsigned long long)r->bytes, io_error_text(errno));
    if (k == 0) {
        r->eof = true;
        return MR_FAIL(MR_ERR_IO, "%s: the stream ended without a CLOSE message (after %llu "
                       "messages)", r->what, (unsigned long long)r->messages);
    }
    r->bytes += (uint64_t)k;
    r->messages++;
    if (k < (ssize_t)sizeof(id)) {
        r->eof = true;
        return MR_FAIL(MR_ERR_FORMAT, "%s: message %llu is truncated inside its id (byte %llu)",
                       r->what, (unsigned long long)r->messages, (unsigned long long)r->start);
    }
    m->id = id;
    switch (id) {
    case MR_MRD_CONFIG_FILE: {
        m->text = malloc(MR_MRD_CONFIG_FILE_LEN + 1);
        if (m->text == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "%s: config name", msg_name(r, id));
        mr_status st = read_part(r, m->text, MR_MRD_CONFIG_FILE_LEN, id, "config name");
        m->text[MR_MRD_CONFIG_FILE_LEN] = '\0';
        m->text_len = strlen(m->text);
        return st;
    }
    case MR_MRD_CONFIG_TEXT:
    case MR_MRD_HEADER:
    case MR_MRD_TEXT: {
        uint32_t len = 0;
        mr_status st = read_part(r, &len, sizeof(len), id, "length");
        return st != MR_OK ? st : read_text(r, m, len);
    }
    case MR_MRD_ERROR: {
        uint64_t len = 0;
        mr_status st = read_part(r, &len, sizeof(len), id, "length");
        return st != MR_OK ? st : read_text(r, m, len);
    }
    case MR_MRD_CLOSE:
        return MR_OK;
    case MR_MRD_ACQUISITION:
        return read_acquisition(r, m);
    case MR_MRD_IMAGE:
        return read_image(r, m);
    case MR_MRD_WAVEFORM:
        return read_waveform(r, m);
    }
    return MR_FAIL(MR_ERR_FORMAT, "%s: unknown message id %u (message %llu, byte %llu)",
                   r->what, id, (unsigned long long)r->messages, (unsigned long long)r->start);
}

/* ---- writing ---------------------------------------------------------------------------- */

static mr_status write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, (const char *)buf + done, n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return MR_FAIL(MR_ERR_IO, "cannot write to the output stream: %s",
                           io_error_text(errno));
        }
        done += (size_t)k;
    }
    return MR_OK;
}

static mr_status write_id(int fd, uint16_t id)
{
    return write_full(fd, &id, sizeof(id));
}

mr_status mr_mrd_write_text_message(int fd, uint16_t id, const char *text, size_t len)
{
    mr_status st;
    if (len > MR_MRD_MAX_TEXT)
        return MR_FAIL(MR_ERR_ARG, "a %s message of %zu bytes is over the limit",
                       mr_mrd_id_name(id), len);
    if ((st = write_id(fd, id)) != MR_OK)
        return st;
    if (id == MR_MRD_ERROR) {
        uint64_t l64 = len;
        st = write_full(fd, &l64, sizeof(l64));
    } else {
        uint32_t l32 = (uint32_t)len;
        st = write_full(fd, &l32, sizeof(l32));
    }
    return st != MR_OK ? st : write_full(fd, text, len);
}

mr_status mr_mrd_write_config_file(int fd, const char *name)
{
    char buf[MR_MRD_CONFIG_FILE_LEN] = { 0 };
    mr_status st;
    strncpy(buf, name, sizeof(buf) - 1);
    if ((st = write_id(fd, MR_MRD_CONFIG_FILE)) != MR_OK)
        return st;
    return write_full(fd, buf, sizeof(buf));
}

mr_status mr_mrd_write_error(int fd, const char *text)
{
    return mr_mrd_write_text_message(fd, MR_MRD_ERROR, text, strlen(text));
}

mr_status mr_mrd_write_close(int fd)
{
    return write_id(fd, MR_MRD_CLOSE);
}

mr_status mr_mrd_write_acquisition(int fd, const ISMRMRD_Acquisition *acq)
{
    mr_status st;
    if ((st = write_id(fd, MR_MRD_ACQUISITION)) != MR_OK ||
        (st = write_full(fd, &acq->head, sizeof(acq->head))) != MR_OK)
        return st;
    size_t ntraj = ismrmrd_size_of_acquisition_traj(acq);
    size_t ndata = ismrmrd_size_of_acquisition_data(acq);
    if (ntraj > 0 && (st = write_full(fd, acq->traj, ntraj)) != MR_OK)
        return st;
    return ndata > 0 ? write_full(fd, acq->data, ndata) : MR_OK;
}

mr_status mr_mrd_write_image(int fd, const ISMRMRD_Image *im)
{
    mr_status st;
    uint64_t alen = im->head.attribute_string_len;
    if ((st = write_id(fd, MR_MRD_IMAGE)) != MR_OK ||
        (st = write_full(fd, &im->head, sizeof(im->head))) != MR_OK ||
        (st = write_full(fd, &alen, sizeof(alen))) != MR_OK)
        return st;
    if (alen > 0 && (st = write_full(fd, im->attribute_string, (size_t)alen)) != MR_OK)
        return st;
    size_t nd = ismrmrd_size_of_image_data(im);
    return nd > 0 ? write_full(fd, im->data, nd) : MR_OK;
}

mr_status mr_mrd_write_waveform(int fd, const ISMRMRD_WaveformHeader *wh, const uint32_t *data)
{
    mr_status st;
    size_t n = (size_t)wh->channels * wh->number_of_samples;
    if ((st = write_id(fd, MR_MRD_WAVEFORM)) != MR_OK ||
        (st = write_full(fd, wh, sizeof(*wh))) != MR_OK)
        return st;
    return n > 0 ? write_full(fd, data, n * sizeof(uint32_t)) : MR_OK;
}
