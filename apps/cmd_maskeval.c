/*
 * mrirecon maskeval: which mask, at which acceleration, with which reconstruction, gives the
 * best images over a dataset? Options in, one call to mr_maskeval_run (runs/maskeval.h), the
 * error out; `--merge OUT` parses the options the run kept in OUT/maskeval.args and calls
 * mr_maskeval_merge.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_common.h"
#include "apps/commands.h"
#include "apps/cli_settings.h"
#include "runs/maskeval.h"

int mr_main_maskeval(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon maskeval --data DIR|FILE [--data ...] --mask SPEC|FILE.npy [--mask ...]\n"
    "                         --method M [--method ...] -o OUTDIR [options] [FILE ...]\n"
    "       mrirecon maskeval --merge OUTDIR [-q]\n"
    "Evaluate sampling masks on fully sampled multi-coil data: for every file x slice x mask x\n"
    "method, undersample, reconstruct, and score against the fully sampled RSS (fastMRI NMSE,\n"
    "PSNR, SSIM per slice, cropped as fastMRI's evaluate.py).\n"
    "\n"
    "  -d, --data PATH      a fully sampled fastMRI-layout file, or a folder of them (*.h5);\n"
    "                       repeatable; extra arguments are inputs too\n"
    "  -m, --mask M         a mask spec (e.g. 'equispaced:accel=4,center=0.08', see\n"
    "                       'mrirecon mask --help'; seeded per file from its name unless the\n"
    "                       spec has seed=) or a .npy mask (length W or H x W); repeatable\n"
    "  -M, --method M       zf | sense | cg | cs, with options as cs:iters=50,lambda=0.005;\n"
    "                       WEIGHTS.h5 (a network; an LPN file runs PnP-LPN, also as\n"
    "                       pnp-lpn:WEIGHTS.h5);\n"
    "                       repeatable\n"
    "  -o, --output DIR     output folder: results.csv, summary.json, report.html, masks/,\n"
    "                       gallery/\n"
    "  -s, --slices A:B     slices A..B-1 of every volume (clamped), or 'mid' for the middle\n"
    "                       slice only (default: all)\n"
    "  -j, --jobs N         threads over slices (default: OpenMP's default)\n"
    "  -g, --gallery N      volumes whose middle slice is shown in the gallery (default 3)\n"
    "      --espirit-crop C ESPIRiT eigenvalue crop in [0, 1) for sense/cg/cs maps (default 0)\n"
    "      --shard I/N      do only tasks t (file x mask x method, sorted) with t mod N == I;\n"
    "                       shards share OUTDIR and leave per-task results in OUTDIR/tasks\n"
    "      --merge OUTDIR   (alone) write results.csv, summary.json and report.html of every\n"
    "                       task result in OUTDIR, with the options kept in maskeval.args\n"
    "      --mpi            use MPI even when not started by mpirun/srun (-DMR_MPI=ON builds;\n"
    "                       under a launcher MPI is used automatically); rank 0 writes the files\n"
    "      --schedule S     MPI: dynamic (default) or static (task t to rank t mod P)\n"
    "  -q, --quiet          no progress bar\n"
    "  -h, --help           this text\n"
    "\n"
    "Failures of single rows (a mask that does not fit, a slice that cannot be read or\n"
    "reconstructed) are written to results.csv with their error and the run goes on. A rerun\n"
    "into the same folder skips rows already computed (status ok) and retries failed ones.\n"
    "Exit: 0 ok (also with failed rows; see the summary line), 1 failure, 2 usage.\n";

static bool parse_slices(const char *s, int64_t *a, int64_t *b, bool *mid)
{
    if (strcmp(s, "mid") == 0) {
        *mid = true;
        return true;
    }
    if (!mr_cli_parse_slices(s, a, b))
        return false;
    *mid = false;
    return true;
}

/* Appends "opt\nvalue\n" to the kept options (NULL value: just opt). */
static bool keep(char **text, size_t *len, const char *opt, const char *value)
{
    size_t add = strlen(opt) + (value != NULL ? strlen(value) + 1 : 0) + 2;
    char *t = realloc(*text, *len + add);
    if (t == NULL)
        return false;
    *len += (size_t)snprintf(t + *len, add, "%s\n%s%s", opt, value != NULL ? value : "",
                             value != NULL ? "\n" : "");
    *text = t;
    return true;
}

/* The run (merge == NULL) or the merge into merge (argv: the kept options). */
static int run(int argc, char *argv[], const char *merge)
{
    struct mr_maskeval_config cfg = mr_maskeval_config_default;
    struct mr_maskeval_counts counts = { 0 };
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "mask", required_argument, NULL, 'm' },
        { "method", required_argument, NULL, 'M' },
        { "output", required_argument, NULL, 'o' },
        { "slices", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' },
        { "gallery", required_argument, NULL, 'g' },
        { "espirit-crop", required_argument, NULL, 'E' },
        { "quiet", no_argument, NULL, 'q' },
        { "shard", required_argument, NULL, 'S' },
        { "mpi", no_argument, NULL, 'P' },
        { "schedule", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char **inputs = calloc((size_t)argc + 1, sizeof(*inputs));
    const char **specs = calloc((size_t)argc + 1, sizeof(*specs));
    const char *crop = NULL;
    struct mr_maskeval_mask *masks = calloc((size_t)argc + 1, sizeof(*masks));
    struct mr_maskeval_method *methods = calloc((size_t)argc + 1, sizeof(*methods));
    int ret = 2;
    int c;
    char *end = NULL;
    char *kept = calloc(1, 1);
    size_t kl = 0;
    bool want_mpi = false;
    bool ok = kept != NULL;

    if (inputs == NULL || specs == NULL || masks == NULL || methods == NULL || kept == NULL) {
        fprintf(stderr, "mrirecon maskeval: out of memory\n");
        ret = 1;
        goto out;
    }
    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "d:m:M:o:s:j:g:qh", opts, NULL)) != -1) {
        if (strchr("dmMsgE", c) != NULL) { /* the options that define the run: kept */
            const struct option *o = opts;
            while (o->val != c)
                o++;
            char name[32];
            snprintf(name, sizeof(name), "--%s", o->name);
            ok = ok && keep(&kept, &kl, name, optarg);
        }
        switch (c) {
        case 'd': inputs[cfg.ninputs++] = optarg; break;
        case 'm':
            if (mr_maskeval_mask_parse(optarg, &masks[cfg.nmasks]) != MR_OK) {
                fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
                goto out;
            }
            cfg.nmasks++;
            break;
        case 'M': specs[cfg.nmethods++] = optarg; break;
        case 'o': cfg.outdir = optarg; break;
        case 's':
            if (!parse_slices(optarg, &cfg.slice0, &cfg.slice1, &cfg.middle_slice)) {
                fprintf(stderr, "mrirecon maskeval: --slices needs A:B with 0 <= A < B, or "
                        "mid\n");
                goto out;
            }
            break;
        case 'j':
            cfg.jobs = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || cfg.jobs < 1 || cfg.jobs > 4096) {
                fprintf(stderr, "mrirecon maskeval: --jobs needs a positive integer\n");
                goto out;
            }
            break;
        case 'g':
            cfg.gallery = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || cfg.gallery < 0 || cfg.gallery > 1000) {
                fprintf(stderr, "mrirecon maskeval: --gallery needs an integer >= 0\n");
                goto out;
            }
            break;
        case 'E': crop = optarg; break;
        case 'q': cfg.quiet = true; break;
        case 'S':
            if (mr_tasks_parse_shard(optarg, &cfg.tasks.shard_index, &cfg.tasks.shard_count) !=
                MR_OK) {
                fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
                goto out;
            }
            break;
        case 'P': want_mpi = true; break;
        case 'D':
            if (!mr_cli_schedule("maskeval", optarg, &cfg.tasks.dynamic))
                goto out;
            break;
        case 'h':
            fputs(help, stdout);
            ret = 0;
            goto out;
        default:
            ret = mr_cli_unknown_option("maskeval", argv[optind - 1], help);
            goto out;
        }
    }
    for (int i = optind; i < argc; i++) {
        inputs[cfg.ninputs++] = argv[i];
        ok = ok && keep(&kept, &kl, "--data", argv[i]);
    }
    if (merge != NULL)
        cfg.outdir = merge;
    if (!ok) {
        fprintf(stderr, "mrirecon maskeval: out of memory\n");
        ret = 1;
        goto out;
    }
    if (cfg.ninputs == 0 || cfg.nmasks == 0 || cfg.nmethods == 0 || cfg.outdir == NULL) {
        fprintf(stderr, "mrirecon maskeval: needs --data, --mask, --method and -o\n");
        fputs(help, stderr);
        goto out;
    }
    for (int j = 0; j < cfg.nmethods; j++) { /* after the options: --espirit-crop for all */
        if (mr_maskeval_method_parse(specs[j], &methods[j]) != MR_OK ||
            (crop != NULL &&
             mr_method_config_set(&methods[j].cfg, "espirit_crop", crop) != MR_OK)) {
            fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
            goto out;
        }
    }
    cfg.inputs = inputs;
    cfg.masks = masks;
    cfg.methods = methods;
    cfg.args = kept;
    if (merge != NULL) {
        if (mr_maskeval_merge(&cfg, &counts) != MR_OK) {
            fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
            ret = 1;
            goto out;
        }
        fprintf(stderr, "mrirecon maskeval: merged %lld rows (%lld failed) into '%s'\n",
                (long long)counts.rows, (long long)counts.failed, merge);
        ret = 0;
        goto out;
    }
    const struct mr_cli_plan plan = { NULL, NULL }; /* the environment's settings, MR_WISDOM */
    if (!mr_cli_settings_begin("maskeval", &plan))
        goto out;
    ret = mr_cli_mpi_setup("maskeval", want_mpi, cfg.tasks.shard_count > 1, &cfg.tasks.mpi);
    if (ret != 0)
        goto out;
    ret = 2;
    if (mr_maskeval_run(&cfg, &counts) != MR_OK) {
        fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
        if (mr_mpi_size() > 1)
            mr_mpi_abort(1); /* a rank that fails ends the job; a rerun resumes */
        mr_mpi_finalize();
        ret = 1;
        goto out;
    }
    mr_mpi_finalize();
    if (cfg.tasks.shard_count > 1 && !cfg.quiet)
        fprintf(stderr, "mrirecon maskeval: shard %d/%d: %lld rows computed, %lld already "
                "done; when every shard is done: mrirecon maskeval --merge %s\n",
                cfg.tasks.shard_index, cfg.tasks.shard_count, (long long)counts.computed,
                (long long)counts.skipped, cfg.outdir);
    else if (!cfg.quiet && mr_mpi_rank() == 0)
        fprintf(stderr, "mrirecon maskeval: %lld rows (%lld computed, %lld already done, %lld "
                "failed) in '%s/report.html'\n", (long long)counts.rows,
                (long long)counts.computed, (long long)counts.skipped,
                (long long)counts.failed, cfg.outdir);
    ret = 0;
out:
    free(inputs);
    free(specs);
    free(masks);
    free(methods);
    free(kept);
    return ret;
}

/* `maskeval --merge OUTDIR [-q]`: the kept options as an argument vector, then run(). */
static int merge_main(int argc, char *argv[])
{
    const char *dir = argv[2];
    char *text = NULL;
    if (argc > 4 || (argc == 4 && strcmp(argv[3], "-q") != 0 && strcmp(argv[3], "--quiet") != 0)) {
        fprintf(stderr, "mrirecon maskeval: --merge OUTDIR takes no other options (they come "
                "from OUTDIR/maskeval.args)\n");
        return 2;
    }
    if (mr_maskeval_read_args(dir, &text) != MR_OK) {
        fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
        return 1;
    }
    int n = 1;
    for (const char *p = text; *p != '\0'; p++)
        n += *p == '\n';
    char **av = calloc((size_t)n + 2, sizeof(*av));
    if (av == NULL) {
        free(text);
        fprintf(stderr, "mrirecon maskeval: out of memory\n");
        return 1;
    }
    int ac = 0;
    av[ac++] = argv[0];
    for (char *p = text; *p != '\0';) {
        char *e = strchr(p, '\n');
        if (e != NULL)
            *e = '\0';
        av[ac++] = p;
        if (e == NULL)
            break;
        p = e + 1;
    }
    int ret = run(ac, av, dir);
    free(av);
    free(text);
    return ret;
}

int mr_main_maskeval(int argc, char *argv[])
{
    if (argc >= 3 && strcmp(argv[1], "--merge") == 0)
        return merge_main(argc, argv);
    return run(argc, argv, NULL);
}
