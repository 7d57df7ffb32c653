/*
 * mrirecon stage: the reconstruction stage as an MRD stream server (specs/ismrmrd.md §2.3,
 * §2.4): messages in on standard input or a TCP connection, images (1022) and a final CLOSE
 * (4) out, so it can run in a pipe (to-stream | stage | from-stream), behind Gadgetron as an
 * external node (<external><connect port=.../>), or for gadgetron_ismrmrd_client.
 *
 * A session: optional CONFIG_FILE (1) / CONFIG_TEXT (2), HEADER (3), then ACQUISITION (1008),
 * WAVEFORM (1026, ignored) and TEXT (5, logged) messages, then CLOSE (4). Anything else — an
 * unknown or unexpected id, a truncated message, an acquisition that does not fit the header,
 * a header that does not parse, data before the header, the peer vanishing mid-slice, a
 * socket idle past the timeout — ends the session with an ERROR (8) message carrying the
 * reason, then CLOSE; the server then serves the next connection. SIGPIPE is ignored, so a
 * vanished peer is an error return, never a crash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include "io/mrd.h"
#include "pipeline/stage.h"

int mr_main_stage(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon stage [options]\n"
    "Reconstruct an MRD / Gadgetron message stream: acquisitions in, images out.\n"
    "\n"
    "  -m, --method M        a method of `mrirecon recon --help` (default cg)\n"
    "  -w, --weights W.h5    reconstruct with this network instead (method model)\n"
    "      --maps SRC        espirit (default) | acs: coil maps from the calibration lines\n"
    "  -n, --iters N         iterations of cg / cs (default 30 / 50)\n"
    "  -l, --lambda L        regularisation weight of cg / cs (default 0.01)\n"
    "      --espirit-crop C  ESPIRiT eigenvalue crop in [0,1) (default 0)\n"
    "  -c, --config TEXT     config text applied before the stream's own (format below)\n"
    "      --input FILE      read the stream from FILE instead of standard input\n"
    "      --output FILE     write images to FILE instead of standard output\n"
    "      --listen PORT     serve TCP connections on PORT instead (0: any free port)\n"
    "      --bind ADDR       address to listen on: 127.0.0.1 (default) or any\n"
    "      --workers N       connections served at once (default 1)\n"
    "      --timeout S       socket read/write timeout in seconds (default 60)\n"
    "      --max-connections N  exit after N connections (default: serve forever)\n"
    "      --port-file FILE  write the listening port to FILE once listening\n"
    "  -q, --quiet           no log lines on standard error\n"
    "  -h, --help            this text\n"
    "\n"
    "Config text (message id 2, or --config): key=value pairs separated by newlines, ';' or\n"
    "blanks ('#' comments), e.g. 'method=cs iterations=50 lambda=0.005 maps=acs', or\n"
    "Gadgetron-style XML whose <property name=\"KEY\" value=\"V\"/> elements are the pairs.\n"
    "Keys: method, maps, iterations, lambda, espirit_crop, weights (a network weight file on\n"
    "the stage's machine), series (image_series_index).\n"
    "A config file name (id 1) that names a method without weights, e.g. 'cs' (optionally\n"
    "with .xml), selects that method; other names keep the defaults.\n"
    "Exit: 0 ok, 1 failure (a stream error on standard input), 2 usage.\n";

struct server_opts {
    struct mr_stage_config cfg;
    const char *config_text;
    const char *input;
    const char *output;
    int port; /* -1: stdin/stdout */
    bool bind_any;
    int workers;
    int timeout_s;
    long max_connections; /* <= 0: forever */
    const char *port_file;
    bool quiet;
};

/* ---- one session -------------------------------------------------------------------------- */

struct session {
    const struct server_opts *o;
    int out_fd;
    const char *what;
};

static mr_status sink_image(void *ctx, const ISMRMRD_Image *im)
{
    const struct session *s = ctx;
    return mr_mrd_write_image(s->out_fd, im);
}

static void config_file_preset(struct mr_stage_config *cfg, const char *name, bool quiet,
                               const char *what)
{
    char base[64];
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, ".xml") == 0)
        n -= 4;
    if (n < sizeof(base)) {
        memcpy(base, name, n);
        base[n] = '\0';
        const struct mr_method_ops *ops = mr_method_lookup(base);
        if (ops != NULL && !ops->takes_weights &&
            mr_stage_config_set(cfg, "method", base) == MR_OK)
            return;
    }
    if (!quiet)
        fprintf(stderr, "mrirecon stage: %s: config file '%s' is not a method; defaults kept\n",
                what, name);
}

/* Serves one stream: in_fd → out_fd. Returns the session's error (already sent to the peer). */
static mr_status serve(const struct server_opts *o, int in_fd, int out_fd, const char *what)
{
    mr_status st = MR_OK;
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    struct mr_stage *stage = NULL;
    struct mr_stage_config cfg = o->cfg;
    struct session sess = { .o = o, .out_fd = out_fd, .what = what };
    const struct mr_stage_sink sink = { .image = sink_image, .ctx = &sess };
    bool closed = false;

    mr_mrd_reader_init(&r, in_fd, what);
    mr_mrd_message_init(&m);
    while (!closed) {
        st = mr_mrd_read(&r, &m);
        if (st != MR_OK) {
            if (mr_mrd_reader_eof(&r) && stage != NULL && mr_stage_open_slices(stage) > 0)
                mr_fail_context(st, "%d slice(s) incomplete", mr_stage_open_slices(stage));
            goto out;
        }
        switch (m.id) {
        case MR_MRD_CONFIG_FILE:
        case MR_MRD_CONFIG_TEXT:
            if (stage != NULL) {
                st = MR_FAIL(MR_ERR_FORMAT, "%s: %s message after the header", what,
                             mr_mrd_id_name(m.id));
                goto out;
            }
            if (m.id == MR_MRD_CONFIG_FILE)
                config_file_preset(&cfg, m.text, o->quiet, what);
            else
                MR_CHECK(mr_stage_config_parse_text(&cfg, m.text, m.text_len));
            break;
        case MR_MRD_HEADER:
            if (stage != NULL) {
                st = MR_FAIL(MR_ERR_FORMAT, "%s: a second HEADER message", what);
                goto out;
            }
            MR_CHECK(mr_stage_create(&cfg, m.text, m.text_len, &sink, &stage));
            break;
        case MR_MRD_ACQUISITION:
            if (stage == NULL) {
                st = MR_FAIL(MR_ERR_FORMAT, "%s: ACQUISITION before the HEADER message", what);
                goto out;
            }
            MR_CHECK(mr_stage_push(stage, &m.acq));
            break;
        case MR_MRD_WAVEFORM:
            break;
        case MR_MRD_TEXT:
            if (!o->quiet)
                fprintf(stderr, "mrirecon stage: %s says: %s\n", what, m.text);
            break;
        case MR_MRD_CLOSE:
            if (stage != NULL)
                MR_CHECK(mr_stage_close(stage));
            closed = true;
            break;
        case MR_MRD_ERROR:
            st = MR_FAIL(MR_ERR_DATA, "%s: the peer sent an error: %s", what, m.text);
            goto out;
        default:
            st = MR_FAIL(MR_ERR_FORMAT, "%s: unexpected %s message (id %u) in an input stream",
                         what, mr_mrd_id_name(m.id), m.id);
            goto out;
        }
    }
    st = mr_mrd_write_close(out_fd);
    if (st == MR_OK && !o->quiet)
        fprintf(stderr, "mrirecon stage: %s: %lld image(s)\n", what,
                (long long)(stage != NULL ? mr_stage_images(stage) : 0));
out:
    if (st != MR_OK) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", mr_last_error());
        if (!o->quiet)
            fprintf(stderr, "mrirecon stage: %s\n", msg);
        /* best effort: the peer may be gone; keep the session's error as the last one */
        if (mr_mrd_write_error(out_fd, msg) != MR_OK || mr_mrd_write_close(out_fd) != MR_OK)
            MR_FAIL(st, "%s", msg);
    }
    mr_mrd_message_cleanup(&m);
    mr_stage_free(stage);
    return st;
}

/* ---- TCP ---------------------------------------------------------------------------------- */

struct worker {
    const struct server_opts *o;
    int fd;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int *active;
};

static void serve_socket(const struct server_opts *o, int fd)
{
    struct timeval tv = { .tv_sec = o->timeout_s, .tv_usec = 0 };
    char what[64];
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        snprintf(what, sizeof(what), "%s:%u", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
    else
        snprintf(what, sizeof(what), "connection");
    (void)serve(o, fd, fd, what);
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    serve_socket(w->o, w->fd);
    pthread_mutex_lock(w->lock);
    (*w->active)--;
    pthread_cond_signal(w->cond);
    pthread_mutex_unlock(w->lock);
    free(w);
    return NULL;
}

static int listen_socket(const struct server_opts *o, int *port_out)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    addr.sin_addr.s_addr = htonl(o->bind_any ? INADDR_ANY : INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *port_out = ntohs(addr.sin_port);
    return fd;
}

static int serve_tcp(const struct server_opts *o)
{
    int port = 0;
    int lfd = listen_socket(o, &port);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    int active = 0;
    long served = 0;
    int rc = 0;

    if (lfd < 0) {
        fprintf(stderr, "mrirecon stage: cannot listen on port %d: %s\n", o->port,
                strerror(errno));
        return 1;
    }
    if (o->port_file != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", o->port_file, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
            rename(tmp, o->port_file) != 0) {
            fprintf(stderr, "mrirecon stage: cannot write the port file '%s'\n", o->port_file);
            close(lfd);
            return 1;
        }
    }
    if (!o->quiet)
        fprintf(stderr, "mrirecon stage: listening on %s:%d (%d worker(s))\n",
                o->bind_any ? "0.0.0.0" : "127.0.0.1", port, o->workers);
    while (o->max_connections <= 0 || served < o->max_connections) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            fprintf(stderr, "mrirecon stage: accept failed: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        served++;
        if (o->workers <= 1) {
            serve_socket(o, fd);
            continue;
        }
        pthread_mutex_lock(&lock);
        while (active >= o->workers)
            pthread_cond_wait(&cond, &lock);
        struct worker *w = malloc(sizeof(*w));
        pthread_t t;
        if (w != NULL) {
            *w = (struct worker){ .o = o, .fd = fd, .lock = &lock, .cond = &cond,
                                  .active = &active };
            active++;
            if (pthread_create(&t, NULL, worker_main, w) == 0) {
                pthread_detach(t);
                w = NULL;
                fd = -1;
            } else {
                active--;
            }
        }
        pthread_mutex_unlock(&lock);
        free(w);
        if (fd >= 0) /* no thread: serve it here */
            serve_socket(o, fd);
    }
    pthread_mutex_lock(&lock); /* let running sessions finish */
    while (active > 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    close(lfd);
    return rc;
}

/* ---- command line ------------------------------------------------------------------------- */

static int serve_files(const struct server_opts *o)
{
    int in_fd = 0;
    int out_fd = 1;
    int rc = 0;

    if (o->input != NULL && (in_fd = open(o->input, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "mrirecon stage: cannot open '%s': %s\n", o->input, strerror(errno));
        return 1;
    }
    if (o->output != NULL &&
        (out_fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
        fprintf(stderr, "mrirecon stage: cannot create '%s': %s\n", o->output, strerror(errno));
        if (in_fd != 0)
            close(in_fd);
        return 1;
    }
    if (serve(o, in_fd, out_fd, o->input != NULL ? o->input : "stdin") != MR_OK)
        rc = 1;
    if (in_fd != 0)
        close(in_fd);
    if (out_fd != 1 && close(out_fd) != 0) {
        fprintf(stderr, "mrirecon stage: cannot write '%s': %s\n", o->output, strerror(errno));
        rc = 1;
    }
    return rc;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int mr_main_stage(int argc, char *argv[])
{
    struct server_opts o = {
        .port = -1,
        .workers = 1,
        .timeout_s = 60,
        .max_connections = 0,
    };
    static const struct option opts[] = {
        { "method", required_argument, NULL, 'm' },
        { "weights", required_argument, NULL, 'w' },
        { "maps", required_argument, NULL, 'M' },
        { "iters", required_argument, NULL, 'n' },
        { "lambda", required_argument, NULL, 'l' },
        { "espirit-crop", required_argument, NULL, 'E' },
        { "config", required_argument, NULL, 'c' },
        { "input", required_argument, NULL, 'I' },
        { "output", required_argument, NULL, 'O' },
        { "listen", required_argument, NULL, 'L' },
        { "bind", required_argument, NULL, 'B' },
        { "workers", required_argument, NULL, 'W' },
        { "timeout", required_argument, NULL, 'T' },
        { "max-connections", required_argument, NULL, 'X' },
        { "port-file", required_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    long v = 0;
    mr_status st = MR_OK;

    mr_stage_config_init(&o.cfg);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:w:n:l:c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': st = mr_stage_config_set(&o.cfg, "method", optarg); break;
        case 'w': st = mr_stage_config_set(&o.cfg, "weights", optarg); break;
        case 'M': st = mr_stage_config_set(&o.cfg, "maps", optarg); break;
        case 'n': st = mr_stage_config_set(&o.cfg, "iterations", optarg); break;
        case 'l': st = mr_stage_config_set(&o.cfg, "lambda", optarg); break;
        case 'E': st = mr_stage_config_set(&o.cfg, "espirit_crop", optarg); break;
        case 'c': o.config_text = optarg; break;
        case 'I': o.input = optarg; break;
        case 'O': o.output = optarg; break;
        case 'L':
            if (!parse_int(optarg, 0, 65535, &v)) {
                fprintf(stderr, "mrirecon stage: --listen needs a port in 0..65535\n");
                return 2;
            }
            o.port = (int)v;
            break;
        case 'B':
            if (strcmp(optarg, "any") == 0 || strcmp(optarg, "0.0.0.0") == 0) {
                o.bind_any = true;
            } else if (strcmp(optarg, "127.0.0.1") == 0 || strcmp(optarg, "localhost") == 0) {
                o.bind_any = false;
            } else {
                fprintf(stderr, "mrirecon stage: --bind must be 127.0.0.1 or any\n");
                return 2;
            }
            break;
        case 'W':
            if (!parse_int(optarg, 1, 1024, &v)) {
                fprintf(stderr, "mrirecon stage: --workers needs 1..1024\n");
                return 2;
            }
            o.workers = (int)v;
            break;
        case 'T':
            if (!parse_int(optarg, 1, 86400, &v)) {
                fprintf(stderr, "mrirecon stage: --timeout needs 1..86400 seconds\n");
                return 2;
            }
            o.timeout_s = (int)v;
            break;
        case 'X':
            if (!parse_int(optarg, 1, 1L << 30, &v)) {
                fprintf(stderr, "mrirecon stage: --max-connections needs a positive count\n");
                return 2;
            }
            o.max_connections = v;
            break;
        case 'P': o.port_file = optarg; break;
        case 'q': o.quiet = true; break;
        case 'h': fputs(help, stdout); return 0;
        default:
            fprintf(stderr, "mrirecon stage: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            fputs(help, stderr);
            return 2;
        }
        if (st != MR_OK) {
            fprintf(stderr, "mrirecon stage: %s\n", mr_last_error());
            return 2;
        }
    }
    if (argc != optind) {
        fputs(help, stderr);
        return 2;
    }
    if (o.config_text != NULL &&
        mr_stage_config_parse_text(&o.cfg, o.config_text, strlen(o.config_text)) != MR_OK) {
        fprintf(stderr, "mrirecon stage: --config: %s\n", mr_last_error());
        return 2;
    }
    if (o.port >= 0 && (o.input != NULL || o.output != NULL)) {
        fprintf(stderr, "mrirecon stage: --listen cannot be combined with --input/--output\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return o.port >= 0 ? serve_tcp(&o) : serve_files(&o);
}
