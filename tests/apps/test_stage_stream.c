/* The MRD stream commands in-process: the stage config text (key=value and Gadgetron XML);
 * to-stream | stage | from-stream equals the file recon; every malformed stream (unknown id,
 * truncated message, acquisition not matching the header, oversized sizes, a header that does
 * not parse, acquisitions before the header, a peer that vanishes mid-slice) gets an ERROR
 * message and a clean CLOSE; TCP on 127.0.0.1 with one and with two workers, where the server
 * keeps serving after bad connections. Sockets have timeouts and every loop is bounded. */
#include "mr_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "io/mrd.h"
#include "pipeline/stage.h"
#include "pipeline/volume.h"
#include "io/ismrmrd.h"
#include "ismrmrd_synth.h"

int mr_main_stage(int argc, char *argv[]);
int mr_main_to_stream(int argc, char *argv[]);
int mr_main_from_stream(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A two-slice synthetic file, its stream (with an optional config text), and its zf recon. */
struct fixture {
    char *raw;
    char *stream;
    struct mr_array zf; /* (2, ny, w) */
};

/* The ISMRMRD file path of pipeline/volume.h with the stage's method and series. */
static mr_status mr_ismrmrd_recon_file(const struct mr_stage_config *cfg, const char *in,
                                       const char *out)
{
    struct mr_volume_config v;
    synth_volume_config(cfg, &v);
    return mr_volume_reconstruct(&v, in, out, NULL);
}

static struct mr_stage_config zf_config(void)
{
    struct mr_stage_config cfg;
    mr_stage_config_init(&cfg);
    assert_int_equal(mr_stage_config_set(&cfg, "method", "zf"), MR_OK);
    return cfg;
}

static void fixture_make(struct fixture *fx, const char *config)
{
    struct synth s = synth_default;
    struct mr_stage_config cfg = zf_config();
    char *out = mr_test_tmp_dup("fixture_zf.h5");

    s.slices = 2;
    s.waveforms = 3; /* streamed between the acquisitions, ignored by the stage */
    fx->raw = mr_test_tmp_dup("fixture_raw.h5");
    fx->stream = mr_test_tmp_dup("fixture.mrd");
    assert_int_equal(synth_write(&s, fx->raw), 0);
    assert_int_equal(mr_ismrmrd_recon_file(&cfg, fx->raw, out), MR_OK);
    synth_read_images(out, "image_0", &fx->zf, NULL, 0);
    if (config != NULL) {
        char *argv[] = { "to-stream", "-c", (char *)config, "-o", fx->stream, fx->raw };
        assert_int_equal(mr_main_to_stream(ARGC(argv), argv), 0);
    } else {
        char *argv[] = { "to-stream", "-o", fx->stream, fx->raw };
        assert_int_equal(mr_main_to_stream(ARGC(argv), argv), 0);
    }
    free(out);
}

static void fixture_free(struct fixture *fx)
{
    free(fx->raw);
    free(fx->stream);
    mr_array_cleanup(&fx->zf);
}

/* ---- config text -------------------------------------------------------------------------- */

static void test_config_default_follows_classic_default(void **state)
{
    struct mr_classic_config base = mr_classic_config_default;
    struct mr_stage_config cfg;
    (void)state;

    /* defaults: CG with everything else from mr_classic_config_default */
    mr_stage_config_init(&cfg);
    const struct mr_classic_config *cc = &cfg.method.classic;
    assert_string_equal(cfg.method.name, "cg");
    assert_int_equal(cc->method, MR_CLASSIC_CG);
    assert_int_equal(cc->fft.centered, base.fft.centered);
    assert_int_equal(cc->fft.norm, base.fft.norm);
    assert_int_equal(cc->cg_iters, base.cg_iters);
    assert_true(cc->cg_lambda == base.cg_lambda && cc->cg_tol == base.cg_tol);
    assert_int_equal(cc->cs.iters, base.cs.iters);
    assert_true(cc->cs.lambda == base.cs.lambda);
    assert_int_equal(cc->cs.wavelet.kind, base.cs.wavelet.kind);
    assert_true(cc->coils.window == base.coils.window);
    /* the stage's overrides on top */
    assert_int_equal(mr_stage_config_set(&cfg, "method", "cs"), MR_OK);
    assert_int_equal(mr_stage_config_set(&cfg, "iterations", "3"), MR_OK);
    assert_true(cc->cg_tol == base.cg_tol);
    assert_int_equal(cc->method, MR_CLASSIC_CS);
    assert_int_equal(cc->cs.iters, 3);
    assert_true(cc->cs.lambda == base.cs.lambda);
}

static void test_config_text_formats(void **state)
{
    struct mr_stage_config cfg;
    const char *kv = "# stage settings\nmethod=cs; iterations=7\n  lambda=0.5 maps=acs\n"
                     "espirit_crop=0.25 series=3";
    const char *xml = "<?xml version=\"1.0\"?><configuration>"
                      "<property name=\"method\" value=\"sense\"/>"
                      "<other><property><name>iterations</name><value>9</value></property>"
                      "</other></configuration>";
    (void)state;

    mr_stage_config_init(&cfg);
    assert_int_equal(mr_stage_config_parse_text(&cfg, kv, strlen(kv)), MR_OK);
    assert_string_equal(cfg.method.name, "cs");
    assert_int_equal(cfg.method.iterations, 7);
    const struct mr_classic_config *cc = &cfg.method.classic;
    assert_int_equal(cc->method, MR_CLASSIC_CS);
    assert_int_equal(cc->cs.iters, 7);
    assert_int_equal(cc->cg_iters, 7);
    assert_true(cc->cs.lambda == 0.5f && cc->cg_lambda == 0.5f);
    assert_int_equal(cfg.method.maps, MR_MAPS_ACS);
    assert_true(cfg.method.espirit.crop == 0.25f);
    assert_int_equal(cfg.image_series_index, 3);

    assert_int_equal(mr_stage_config_parse_text(&cfg, xml, strlen(xml)), MR_OK);
    assert_string_equal(cfg.method.name, "sense");
    assert_int_equal(cc->method, MR_CLASSIC_SENSE);
    assert_int_equal(cfg.method.iterations, 9);
    assert_int_equal(mr_stage_config_parse_text(&cfg, "<configuration/>", 16), MR_OK);

    assert_int_equal(mr_stage_config_parse_text(&cfg, "methd=zf", 8), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "methd"));
    assert_int_equal(mr_stage_config_parse_text(&cfg, "iterations=0", 12), MR_ERR_ARG);
    assert_int_equal(mr_stage_config_parse_text(&cfg, "lambda=-1", 9), MR_ERR_ARG);
    assert_int_equal(mr_stage_config_parse_text(&cfg, "method", 6), MR_ERR_ARG);
    assert_int_equal(mr_stage_config_parse_text(&cfg, "<configuration>", 15), MR_ERR_FORMAT);
    const char *bad = "<c><property name=\"method\" value=\"fast\"/></c>";
    assert_int_equal(mr_stage_config_parse_text(&cfg, bad, strlen(bad)), MR_ERR_ARG);
}

/* ---- pipes -------------------------------------------------------------------------------- */

static void test_pipe_to_stream_stage_from_stream_equals_recon(void **state)
{
    struct fixture fx;
    struct mr_array vol = { 0 };
    char *resp = mr_test_tmp_dup("pipe_resp.mrd");
    char *out = mr_test_tmp_dup("pipe_out.h5");
    (void)state;

    fixture_make(&fx, NULL);
    char *stage[] = { "stage", "-q", "-m", "zf", "--input", fx.stream, "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(stage), stage), 0);
    char *from[] = { "from-stream", "-q", "-i", resp, out };
    assert_int_equal(mr_main_from_stream(ARGC(from), from), 0);
    synth_read_images(out, "image_0", &vol, NULL, 0);
    assert_true(mr_array_same_shape(&vol, &fx.zf));
    assert_nrmse_below(&vol, &fx.zf, 1e-6);
    mr_array_cleanup(&vol);

    /* the raw data survive the round trip too: stream → file → same recon */
    char *raw2 = mr_test_tmp_dup("pipe_raw2.h5");
    char *from2[] = { "from-stream", "-q", "-i", fx.stream, raw2 };
    assert_int_equal(mr_main_from_stream(ARGC(from2), from2), 0);
    struct mr_stage_config cfg = zf_config();
    assert_int_equal(mr_ismrmrd_recon_file(&cfg, raw2, out), MR_OK);
    synth_read_images(out, "image_0", &vol, NULL, 0);
    assert_nrmse_below(&vol, &fx.zf, 1e-6);
    mr_array_cleanup(&vol);
    struct mr_ismrmrd_file *f = NULL;
    struct mr_ismrmrd_file *g = NULL;
    assert_int_equal(mr_ismrmrd_open(fx.raw, &f), MR_OK);
    assert_int_equal(mr_ismrmrd_open(raw2, &g), MR_OK);
    assert_int_equal(mr_ismrmrd_waveform_count(g), 3);
    assert_int_equal(mr_ismrmrd_acquisition_count(g), mr_ismrmrd_acquisition_count(f));
    size_t la = 0;
    size_t lb = 0;
    assert_string_equal(mr_ismrmrd_xml(f, &la), mr_ismrmrd_xml(g, &lb));
    ISMRMRD_Waveform wav;
    ismrmrd_init_waveform(&wav);
    assert_int_equal(mr_ismrmrd_read_waveform(g, 2, &wav), MR_OK);
    assert_int_equal(wav.head.channels, 2);
    assert_int_equal(wav.data[15], 215);
    free(wav.data);
    mr_ismrmrd_close(f);
    mr_ismrmrd_close(g);

    fixture_free(&fx);
    free(resp);
    free(out);
    free(raw2);
}

static void test_stream_config_text_selects_the_method(void **state)
{
    struct fixture fx;
    struct mr_array vol = { 0 };
    char *resp = mr_test_tmp_dup("cfg_resp.mrd");
    char *out = mr_test_tmp_dup("cfg_out.h5");
    (void)state;

    /* the stage's default is CG; the stream's config text asks for zf */
    fixture_make(&fx, "method=zf");
    char *stage[] = { "stage", "-q", "--input", fx.stream, "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(stage), stage), 0);
    char *from[] = { "from-stream", "-q", "-i", resp, out };
    assert_int_equal(mr_main_from_stream(ARGC(from), from), 0);
    synth_read_images(out, "image_0", &vol, NULL, 0);
    assert_nrmse_below(&vol, &fx.zf, 1e-6);
    mr_array_cleanup(&vol);
    fixture_free(&fx);

    /* a config file name (id 1) that names a method selects it too */
    char *stream = mr_test_tmp_dup("cfgfile.mrd");
    fixture_make(&fx, NULL);
    char *to[] = { "to-stream", "-C", "zf.xml", "-o", stream, fx.raw };
    assert_int_equal(mr_main_to_stream(ARGC(to), to), 0);
    char *stage2[] = { "stage", "-q", "--input", stream, "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(stage2), stage2), 0);
    assert_int_equal(mr_main_from_stream(ARGC(from), from), 0);
    synth_read_images(out, "image_0", &vol, NULL, 0);
    assert_nrmse_below(&vol, &fx.zf, 1e-6);
    mr_array_cleanup(&vol);
    fixture_free(&fx);
    free(stream);
    free(resp);
    free(out);
}

/* ---- malformed streams -------------------------------------------------------------------- */


static void write_acq(int fd, uint16_t ky, uint16_t nc, uint64_t flags)
{
    ISMRMRD_Acquisition a;
    ismrmrd_init_acquisition(&a);
    a.head.number_of_samples = 16;
    a.head.active_channels = nc;
    a.head.center_sample = 8;
    a.head.idx.kspace_encode_step_1 = ky;
    a.head.flags = flags;
    assert_int_equal(ismrmrd_make_consistent_acquisition(&a), ISMRMRD_NOERROR);
    for (int i = 0; i < 16 * nc; i++)
        a.data[i] = (float)(i % 7) - 3.0f;
    assert_int_equal(mr_mrd_write_acquisition(fd, &a), MR_OK);
    ismrmrd_cleanup_acquisition(&a);
}

static void write_header(int fd, const char *xml)
{
    assert_int_equal(mr_mrd_write_text_message(fd, MR_MRD_HEADER, xml, strlen(xml)), MR_OK);
}

/* Reads a response; returns the number of images, sets *error_text (malloc'd or NULL) and
 * whether it ended with CLOSE. Bounded: at most 10000 messages. */
static int read_response(int fd, char **error_text, bool *closed)
{
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    int images = 0;

    *error_text = NULL;
    *closed = false;
    mr_mrd_reader_init(&r, fd, "response");
    mr_mrd_message_init(&m);
    for (int i = 0; i < 10000; i++) {
        if (mr_mrd_read(&r, &m) != MR_OK)
            break;
        if (m.id == MR_MRD_IMAGE)
            images++;
        if (m.id == MR_MRD_ERROR && *error_text == NULL) {
            *error_text = malloc(m.text_len + 1);
            assert_non_null(*error_text);
            memcpy(*error_text, m.text, m.text_len + 1);
        }
        if (m.id == MR_MRD_CLOSE) {
            *closed = true;
            /* nothing may follow the close */
            assert_int_not_equal(mr_mrd_read(&r, &m), MR_OK);
            assert_true(mr_mrd_reader_eof(&r));
            break;
        }
    }
    mr_mrd_message_cleanup(&m);
    return images;
}

enum bad_kind {
    BAD_UNKNOWN_ID,
    BAD_TRUNCATED,
    BAD_CHANNELS,
    BAD_ROW,
    BAD_OVERSIZE,
    BAD_HEADER_XML,
    BAD_ACQ_BEFORE_HEADER,
    BAD_DISCONNECT_MID_SLICE,
    BAD_SECOND_HEADER,
    BAD_CONFIG,
};

/* Writes the bad stream of one kind to fd. */
static void write_bad_stream(int fd, enum bad_kind kind)
{
    uint16_t id = 999;
    switch (kind) {
    case BAD_UNKNOWN_ID:
        write_header(fd, synth_xml_2d);
        write_acq(fd, 1, 2, 0);
        assert_int_equal(write(fd, &id, sizeof(id)), (ssize_t)sizeof(id));
        break;
    case BAD_TRUNCATED: {
        char *path = mr_test_tmp_dup("trunc_part.mrd");
        int t = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
        assert_true(t >= 0);
        write_acq(t, 1, 2, 0);
        off_t n = lseek(t, 0, SEEK_CUR);
        char buf[4096];
        assert_true(n > 0 && n < (off_t)sizeof(buf));
        assert_int_equal(pread(t, buf, (size_t)n, 0), n);
        close(t);
        free(path);
        write_header(fd, synth_xml_2d);
        assert_int_equal(write(fd, buf, (size_t)n - 40), n - 40); /* cut inside the data */
        break;
    }
    case BAD_CHANNELS:
        write_header(fd, synth_xml_2d);
        write_acq(fd, 1, 2, 0);
        write_acq(fd, 2, 3, 0);
        assert_int_equal(mr_mrd_write_close(fd), MR_OK);
        break;
    case BAD_ROW:
        write_header(fd, synth_xml_2d);
        write_acq(fd, 9, 2, 0); /* row 9 of 8 */
        assert_int_equal(mr_mrd_write_close(fd), MR_OK);
        break;
    case BAD_OVERSIZE: {
        ISMRMRD_AcquisitionHeader h;
        ismrmrd_init_acquisition_header(&h);
        h.number_of_samples = 65535;
        h.active_channels = 65535;
        id = MR_MRD_ACQUISITION;
        write_header(fd, synth_xml_2d);
        assert_int_equal(write(fd, &id, sizeof(id)), (ssize_t)sizeof(id));
        assert_int_equal(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
        break;
    }
    case BAD_HEADER_XML:
        write_header(fd, "<ismrmrdHeader><encoding>");
        write_acq(fd, 1, 2, 0);
        assert_int_equal(mr_mrd_write_close(fd), MR_OK);
        break;
    case BAD_ACQ_BEFORE_HEADER:
        write_acq(fd, 1, 2, 0);
        write_header(fd, synth_xml_2d);
        assert_int_equal(mr_mrd_write_close(fd), MR_OK);
        break;
    case BAD_DISCONNECT_MID_SLICE:
        write_header(fd, synth_xml_2d);
        write_acq(fd, 1, 2, 0);
        write_acq(fd, 2, 2, 0);
        break; /* no LAST_IN_SLICE, no CLOSE */
    case BAD_SECOND_HEADER:
        write_header(fd, synth_xml_2d);
        write_header(fd, synth_xml_2d);
        break;
    case BAD_CONFIG:
        assert_int_equal(mr_mrd_write_text_message(fd, MR_MRD_CONFIG_TEXT, "method=fast", 11),
                         MR_OK);
        write_header(fd, synth_xml_2d);
        break;
    }
}

static void check_bad_stream(enum bad_kind kind, const char *mention)
{
    char *in = mr_test_tmp_dup("bad.mrd");
    char *resp = mr_test_tmp_dup("bad_resp.mrd");
    char *err = NULL;
    bool closed = false;

    int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(fd >= 0);
    write_bad_stream(fd, kind);
    close(fd);
    /* into a file: the error is reported and the output never appears (an old one is kept) */
    unlink(resp);
    char *argv[] = { "stage", "-q", "-m", "zf", "--input", in, "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(argv), argv), 1);
    if (strstr(mr_last_error(), mention) == NULL)
        fail_msg("bad stream %d: error '%s' does not mention '%s'", (int)kind, mr_last_error(),
                 mention);
    assert_int_equal(access(resp, F_OK), -1);
    /* into a stream (stdout): ERROR then CLOSE */
    fd = open(in, O_RDONLY);
    int out = open(resp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(fd >= 0 && out >= 0);
    int saved_in = dup(0);
    int saved_out = dup(1);
    dup2(fd, 0);
    dup2(out, 1);
    char *argv2[] = { "stage", "-q", "-m", "zf" };
    int rc = mr_main_stage(ARGC(argv2), argv2);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    close(saved_in);
    close(saved_out);
    close(fd);
    close(out);
    assert_int_equal(rc, 1);
    fd = open(resp, O_RDONLY);
    assert_true(fd >= 0);
    int images = read_response(fd, &err, &closed);
    close(fd);
    assert_int_equal(images, 0);
    assert_true(closed);
    if (err == NULL)
        fail_msg("bad stream %d: no ERROR message", (int)kind);
    if (strstr(err, mention) == NULL)
        fail_msg("bad stream %d: error '%s' does not mention '%s'", (int)kind, err, mention);
    free(err);
    free(in);
    free(resp);
}

static void test_malformed_streams_get_error_and_close(void **state)
{
    (void)state;
    check_bad_stream(BAD_UNKNOWN_ID, "unknown message id 999");
    check_bad_stream(BAD_TRUNCATED, "truncated ACQUISITION");
    check_bad_stream(BAD_CHANNELS, "channels");
    check_bad_stream(BAD_ROW, "outside");
    check_bad_stream(BAD_OVERSIZE, "over the limit");
    check_bad_stream(BAD_HEADER_XML, "not well-formed");
    check_bad_stream(BAD_ACQ_BEFORE_HEADER, "before the HEADER");
    check_bad_stream(BAD_DISCONNECT_MID_SLICE, "incomplete");
    check_bad_stream(BAD_SECOND_HEADER, "second HEADER");
    check_bad_stream(BAD_CONFIG, "method");
}

static void test_from_stream_refuses_error_streams(void **state)
{
    char *in = mr_test_tmp_dup("err_stream.mrd");
    char *out = mr_test_tmp_dup("err_stream.h5");
    struct stat sb;
    (void)state;

    int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(fd >= 0);
    write_header(fd, synth_xml_2d);
    assert_int_equal(mr_mrd_write_error(fd, "reconstruction failed"), MR_OK);
    assert_int_equal(mr_mrd_write_close(fd), MR_OK);
    close(fd);
    char *argv[] = { "from-stream", "-q", "-i", in, out };
    assert_int_equal(mr_main_from_stream(ARGC(argv), argv), 1);
    assert_int_not_equal(stat(out, &sb), 0);
    free(in);
    free(out);
}

/* ---- TCP ---------------------------------------------------------------------------------- */

struct server {
    pthread_t thread;
    char *argv[16];
    int argc;
    int rc;
    char *port_file;
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    s->rc = mr_main_stage(s->argc, s->argv);
    return NULL;
}

static int server_start(struct server *s, const char *connections, const char *workers)
{
    char *a[] = { "stage", "-q", "-m", "zf", "--listen", "0", "--timeout", "1",
                  "--max-connections", (char *)connections, "--workers", (char *)workers,
                  "--port-file", s->port_file };
    s->argc = ARGC(a);
    memcpy(s->argv, a, sizeof(a));
    unlink(s->port_file);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    /* wait (bounded, 5 s) for the port */
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(s->port_file, "r");
        int port = 0;
        if (f != NULL) {
            int k = fscanf(f, "%d", &port);
            fclose(f);
            if (k == 1 && port > 0)
                return port;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    fail_msg("the stage did not start listening");
    return -1;
}

static int client_connect(int port)
{
    struct sockaddr_in addr;
    struct timeval tv = { .tv_sec = 10, .tv_usec = 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

/* Sends `len` bytes of the file at path to fd. */
static void send_file(int fd, const char *path, size_t len)
{
    char buf[65536];
    int in = open(path, O_RDONLY);
    size_t done = 0;
    assert_true(in >= 0);
    while (done < len) {
        size_t want = len - done < sizeof(buf) ? len - done : sizeof(buf);
        ssize_t k = read(in, buf, want);
        assert_true(k > 0);
        ssize_t off = 0;
        while (off < k) {
            ssize_t w = send(fd, buf + off, (size_t)(k - off), MSG_NOSIGNAL);
            assert_true(w > 0);
            off += w;
        }
        done += (size_t)k;
    }
    close(in);
}

static size_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (size_t)sb.st_size;
}

static void test_tcp_serves_good_bad_and_vanishing_clients(void **state)
{
    struct fixture fx;
    struct server srv = { .port_file = mr_test_tmp_dup("port1.txt") };
    char *err = NULL;
    bool closed = false;
    (void)state;

    fixture_make(&fx, NULL);
    const size_t n = file_size(fx.stream);
    int port = server_start(&srv, "4", "1");

    /* 1: a good client gets one image per slice and a CLOSE */
    int fd = client_connect(port);
    send_file(fd, fx.stream, n);
    assert_int_equal(read_response(fd, &err, &closed), 2);
    assert_null(err);
    assert_true(closed);
    close(fd);

    /* 2: garbage gets an ERROR and a CLOSE */
    fd = client_connect(port);
    uint16_t id = 4711;
    assert_int_equal(send(fd, &id, sizeof(id), MSG_NOSIGNAL), (ssize_t)sizeof(id));
    assert_int_equal(read_response(fd, &err, &closed), 0);
    assert_non_null(err);
    assert_non_null(strstr(err, "unknown message id 4711"));
    assert_true(closed);
    free(err);
    close(fd);

    /* 3: a client that stops sending mid-slice (half the stream, then end of stream) */
    fd = client_connect(port);
    send_file(fd, fx.stream, n / 2);
    shutdown(fd, SHUT_WR);
    read_response(fd, &err, &closed);
    assert_non_null(err);
    assert_true(closed);
    free(err);
    close(fd);

    /* 4: a client that connects and sends nothing is timed out (1 s), not waited for */
    fd = client_connect(port);
    read_response(fd, &err, &closed);
    assert_non_null(err);
    assert_non_null(strstr(err, "timed out"));
    assert_true(closed);
    free(err);
    close(fd);

    assert_int_equal(pthread_join(srv.thread, NULL), 0);
    assert_int_equal(srv.rc, 0);
    fixture_free(&fx);
    free(srv.port_file);
}

static void test_tcp_two_workers_serve_concurrent_clients(void **state)
{
    struct fixture fx;
    struct server srv = { .port_file = mr_test_tmp_dup("port2.txt") };
    char *err = NULL;
    bool closed = false;
    (void)state;

    fixture_make(&fx, NULL);
    const size_t n = file_size(fx.stream);
    int port = server_start(&srv, "2", "2");
    /* both connected before either sends: with one worker the second would wait for the
     * first (which times out after 1 s with nothing sent); two serve them at once */
    int a = client_connect(port);
    int b = client_connect(port);
    send_file(b, fx.stream, n);
    assert_int_equal(read_response(b, &err, &closed), 2);
    assert_true(closed && err == NULL);
    send_file(a, fx.stream, n);
    assert_int_equal(read_response(a, &err, &closed), 2);
    assert_true(closed && err == NULL);
    close(a);
    close(b);
    assert_int_equal(pthread_join(srv.thread, NULL), 0);
    assert_int_equal(srv.rc, 0);
    fixture_free(&fx);
    free(srv.port_file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_default_follows_classic_default),
        cmocka_unit_test(test_config_text_formats),
        cmocka_unit_test(test_pipe_to_stream_stage_from_stream_equals_recon),
        cmocka_unit_test(test_stream_config_text_selects_the_method),
        cmocka_unit_test(test_malformed_streams_get_error_and_close),
        cmocka_unit_test(test_from_stream_refuses_error_streams),
        cmocka_unit_test(test_tcp_serves_good_bad_and_vanishing_clients),
        cmocka_unit_test(test_tcp_two_workers_serve_concurrent_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
