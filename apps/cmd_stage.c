/*
 * mrirecon stage: the reconstruction stage on an MRD stream (runs/stage_session.h) read from
 * standard input or a file, or served over TCP (runs/stage_server.h), so it can run in a pipe
 * (to-stream | stage | from-stream), behind Gadgetron as an external node
 * (<external><connect port=.../>), or for gadgetron_ismrmrd_client.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cli_settings.h"
#include "apps/commands.h"
#include "io/atomic_file.h"
#include "io/dicom.h"
#include "runs/stage_server.h"

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
    "      --output FILE     write images to FILE instead of standard output (atomically:\n"
    "                        it appears only when the stream ended cleanly)\n"
    "      --listen PORT     serve TCP connections on PORT instead (0: any free port)\n"
    "      --bind ADDR       address to listen on: 127.0.0.1 (default) or any\n"
    "      --workers N       connections reconstructing at once (default 1)\n"
    "      --max-open N      connections open at once; one more gets an ERROR (default 64)\n"
    "      --timeout S       drop a connection that begins no message for S s (default 60)\n"
    "      --message-timeout S  a message must arrive whole within S s of its first byte,\n"
    "                        plus 1 s per MiB above 1 MiB (default 30)\n"
    "      --write-timeout S drop a client that takes no image data for S s (default 60)\n"
    "      --max-text MIB    largest config / header / text message (default 16 MiB)\n"
    "      --max-connections N  exit after N connections (default: serve forever)\n"
    "      --port-file FILE  write the listening port to FILE once listening\n"
    "      --dicom-dir DIR   also write each stream's images as a DICOM series folder\n"
    "                        DIR/<Series Instance UID> at its CLOSE (README \"DICOM\")\n"
    "      --send H:P:AET    with --dicom-dir: then store each series on the PACS AET at host\n"
    "                        H, port P (C-STORE)\n"
    "      --calling-aet A   our AE title towards the PACS (default MRIRECON)\n"
    "  -q, --quiet           no log lines on standard error (errors are still shown)\n"
    MR_CLI_MAX_MEMORY_HELP
    MR_CLI_PLAN_HELP
    "  -h, --help            this text\n"
    "\n"
    "Config text (message id 2, or --config): key=value pairs separated by newlines, ';' or\n"
    "blanks ('#' comments), e.g. 'method=cs iterations=50 lambda=0.005 maps=acs', or\n"
    "Gadgetron-style XML whose <property name=\"KEY\" value=\"V\"/> elements are the pairs.\n"
    "Keys: method, maps, iterations, lambda, espirit_crop, weights (a network weight file on\n"
    "the stage's machine), series (image_series_index).\n"
    "A config file name (id 1) that names a method without weights, e.g. 'cs' (optionally\n"
    "with .xml), selects that method; other names keep the defaults.\n"
    "Over TCP, a slow, stalled or idle client never delays another: messages are read without\n"
    "blocking and only whole messages reach a reconstruction worker (README \"Pipeline stage\").\n"
    "Exit: 0 ok, 1 failure (a stream error on standard input, or the server could not start),\n"
    "2 usage.\n";

/* Pipe / file mode: one session from in to out (out written atomically when it is a file). */
static int serve_files(const struct mr_stage_session_config *cfg, const char *input,
                       const char *output)
{
    struct mr_atomic_file af = { 0 };
    int in_fd = 0;
    int out_fd = 1;
    mr_status st = MR_OK;

    if (input != NULL && (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "mrirecon stage: cannot open '%s': %s\n", input, strerror(errno));
        return 1;
    }
    if (output != NULL && input != NULL && mr_same_file(output, input)) {
        fprintf(stderr, "mrirecon stage: --output '%s' is the input stream\n", output);
        return 2;
    }
    if (output != NULL) {
        st = mr_atomic_file_open(&af, output);
        if (st != MR_OK) {
            fprintf(stderr, "mrirecon stage: %s\n", mr_last_error());
            if (in_fd != 0)
                close(in_fd);
            return 1;
        }
        out_fd = af.fd;
    }
    st = mr_stage_session_serve_fd(cfg, in_fd, out_fd, input != NULL ? input : "stdin");
    if (output != NULL) {
        if (st == MR_OK)
            st = mr_atomic_file_commit(&af);
        else
            mr_atomic_file_abort(&af);
    }
    if (in_fd != 0)
        close(in_fd);
    if (st == MR_OK && output == NULL && fsync(1) != 0 && errno != EINVAL && errno != EROFS)
        st = MR_FAIL(MR_ERR_IO, "cannot write the image stream: %s", strerror(errno));
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon stage: %s\n", mr_last_error());
        return 1;
    }
    return 0;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static void listening(void *arg, int port)
{
    const struct mr_stage_server_config *cfg = arg;
    if (!cfg->session.quiet)
        fprintf(stderr, "mrirecon stage: listening on %s:%d (%d worker(s))\n",
                cfg->bind_any ? "0.0.0.0" : "127.0.0.1", port, cfg->workers);
}

int mr_main_stage(int argc, char *argv[])
{
    struct mr_stage_server_config srv = mr_stage_server_config_default;
    struct mr_stage_session_config *cfg = &srv.session;
    const char *input = NULL;
    const char *output = NULL;
    struct mr_dicom_peer peer;
    bool tcp = false;
    struct mr_cli_plan plan = { NULL, NULL };
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
        { "max-open", required_argument, NULL, 'o' },
        { "timeout", required_argument, NULL, 'T' },
        { "message-timeout", required_argument, NULL, 'U' },
        { "write-timeout", required_argument, NULL, 'V' },
        { "max-text", required_argument, NULL, 'x' },
        { "max-connections", required_argument, NULL, 'X' },
        { "port-file", required_argument, NULL, 'P' },
        { "dicom-dir", required_argument, NULL, 'D' },
        { "send", required_argument, NULL, 'S' },
        { "calling-aet", required_argument, NULL, 'A' },
        { "quiet", no_argument, NULL, 'q' },
        MR_CLI_MAX_MEMORY_OPTION,
        MR_CLI_PLAN_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    long v = 0;

    mr_stage_config_init(&cfg->stage);
    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "m:w:n:l:c:qh", opts, NULL)) != -1) {
        mr_status st = MR_OK;
        const char *bad = NULL;
        switch (c) {
        case 'm': st = mr_stage_config_set(&cfg->stage, "method", optarg); break;
        case 'w': st = mr_stage_config_set(&cfg->stage, "weights", optarg); break;
        case 'M': st = mr_stage_config_set(&cfg->stage, "maps", optarg); break;
        case 'n': st = mr_stage_config_set(&cfg->stage, "iterations", optarg); break;
        case 'l': st = mr_stage_config_set(&cfg->stage, "lambda", optarg); break;
        case 'E': st = mr_stage_config_set(&cfg->stage, "espirit_crop", optarg); break;
        case 'c': cfg->config_text = optarg; break;
        case 'I': input = optarg; break;
        case 'O': output = optarg; break;
        case 'L':
            tcp = true;
            if (!parse_long(optarg, 0, 65535, &v))
                bad = "--listen needs a port in 0..65535";
            srv.port = (int)v;
            break;
        case 'B':
            if (strcmp(optarg, "any") == 0 || strcmp(optarg, "0.0.0.0") == 0)
                srv.bind_any = true;
            else if (strcmp(optarg, "127.0.0.1") == 0 || strcmp(optarg, "localhost") == 0)
                srv.bind_any = false;
            else
                bad = "--bind must be 127.0.0.1 or any";
            break;
        case 'W':
            if (!parse_long(optarg, 1, 1024, &v))
                bad = "--workers needs 1..1024";
            srv.workers = (int)v;
            break;
        case 'o':
            if (!parse_long(optarg, 1, 4096, &v))
                bad = "--max-open needs 1..4096";
            srv.max_open = (int)v;
            break;
        case 'T':
        case 'U':
        case 'V':
            if (!parse_long(optarg, 1, 86400, &v))
                bad = "timeouts need 1..86400 seconds";
            *(c == 'T' ? &srv.idle_timeout_s : c == 'U' ? &srv.message_timeout_s
                                                          : &srv.write_timeout_s) = (double)v;
            break;
        case 'x':
            if (!parse_long(optarg, 1, 64, &v))
                bad = "--max-text needs 1..64 MiB";
            srv.max_text_bytes = (size_t)v << 20;
            break;
        case 'X':
            if (!parse_long(optarg, 1, 1L << 30, &v))
                bad = "--max-connections needs a positive count";
            srv.max_connections = v;
            break;
        case 'P': srv.port_file = optarg; break;
        case 'D': cfg->dicom_dir = optarg; break;
        case 'S':
            st = mr_dicom_peer_parse(optarg, &peer);
            cfg->dicom.send = &peer;
            break;
        case 'A':
            if (!mr_dicom_aet_valid(optarg))
                bad = "--calling-aet needs 1 to 16 characters, no backslash";
            cfg->dicom.calling_aet = optarg;
            break;
        case 'q': cfg->quiet = true; break;
        case MR_CLI_OPT_MAX_MEMORY:
            if (!mr_cli_max_memory("stage", optarg))
                return 2;
            break;
        case MR_CLI_OPT_PLAN: plan.plan = optarg; break;
        case MR_CLI_OPT_WISDOM: plan.wisdom = optarg; break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("stage", argv[optind - 1], help);
        }
        if (st != MR_OK || bad != NULL) {
            fprintf(stderr, "mrirecon stage: %s\n", bad != NULL ? bad : mr_last_error());
            return 2;
        }
    }
    if (argc != optind) {
        fputs(help, stderr);
        return 2;
    }
    if (cfg->config_text != NULL) { /* check it once here; every session applies it */
        struct mr_stage_config probe = cfg->stage;
        if (mr_stage_config_parse_text(&probe, cfg->config_text, strlen(cfg->config_text)) !=
            MR_OK) {
            fprintf(stderr, "mrirecon stage: --config: %s\n", mr_last_error());
            return 2;
        }
    }
    if (cfg->dicom.send != NULL && cfg->dicom_dir == NULL) {
        fprintf(stderr, "mrirecon stage: --send needs --dicom-dir (the series is written first)\n");
        return 2;
    }
    if (tcp && (input != NULL || output != NULL)) {
        fprintf(stderr, "mrirecon stage: --listen cannot be combined with --input/--output\n");
        return 2;
    }
    if (!mr_cli_settings_begin("stage", &plan))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    int rc = 0;
    if (!tcp) {
        rc = serve_files(cfg, input, output);
    } else {
        srv.listening = listening;
        srv.listening_arg = &srv;
        if (mr_stage_server_run(&srv) != MR_OK) {
            fprintf(stderr, "mrirecon stage: %s\n", mr_last_error());
            rc = 1;
        }
    }
    return rc == 0 && !mr_cli_settings_end("stage", &plan) ? 1 : rc;
}
