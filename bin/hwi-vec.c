/* hwi-vec: convert vector streams to text and back, and describe them.
 *
 * The vector stream (hwi-formats(5)) is what hwi-crop and hwi-embed write
 * and hwi-knn reads; this program makes it visible to sort, awk and eyes,
 * and lets tests and scripts write one from text. */
#include <config.h>

#include "err.h"
#include "io.h"
#include "opt.h"
#include "stream.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

enum { OPT_HELP = CHAR_MAX + 1, OPT_PACK, OPT_INFO, OPT_NAMES, OPT_VERSION };

/* FLT_MAX plus half its last place: larger magnitudes round to infinity. */
#define FLOAT_LIMIT 0x1.fffffefffffffp127

static const struct option longopts[] = {
    {"pack", no_argument, NULL, OPT_PACK},       {"info", no_argument, NULL, OPT_INFO},
    {"names", no_argument, NULL, OPT_NAMES},     {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},           {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... [FILE]\n", hwi_program_name);
    fputs("Print a vector stream as text, or with --pack write one from text.\n"
          "With no FILE, or when FILE is -, read standard input.\n"
          "\n"
          "      --pack         read text lines 'KEY<TAB>V1<TAB>V2...' and write a\n"
          "                     keyed vector stream; a first line '# key NAME...'\n"
          "                     gives the column names\n"
          "      --info         print the header (dimension, flags, count) and the\n"
          "                     number of records, and check every record\n"
          "      --names        when printing text, start with a '# key NAME...' line\n"
          "                     (the column names, or c1, c2, ...)\n"
          "  -o, --output=FILE  write to FILE (whole or not at all) instead of stdout;\n"
          "                     stdout too gets nothing unless the whole input is good\n"
          "  -f, --force        write a binary stream even to a terminal\n"
          "      --help         display this help and exit\n"
          "      --version      output version information and exit\n"
          "\n"
          "Values print with %.9g, so text -> --pack -> text is exact.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-vec(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* Print the stream as text. */
static void unpack(struct hwi_stream *in, FILE *out, int names)
{
    if (names) {
        fputs("# key", out);
        for (uint32_t i = 0; i < in->dim; i++)
            in->names ? fprintf(out, "\t%s", in->names[i]) : fprintf(out, "\tc%u", i + 1);
        fputc('\n', out);
    }
    int rc;
    while ((rc = hwi_stream_read(in)) == 1) {
        fputs(in->flags & HWI_STREAM_KEYED ? in->key : "-", out);
        for (uint32_t i = 0; i < in->dim; i++)
            fprintf(out, "\t%.9g", in->vec[i]);
        fputc('\n', out);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", in->err);
}

static void info(struct hwi_stream *in, FILE *out)
{
    int rc;
    while ((rc = hwi_stream_read(in)) == 1)
        ;
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", in->err);
    fprintf(out, "dim\t%u\nkeyed\t%s\nnamed\t%s\ncount\t%llu\nrecords\t%llu\n", in->dim,
            in->flags & HWI_STREAM_KEYED ? "yes" : "no",
            in->flags & HWI_STREAM_NAMED ? "yes" : "no", (unsigned long long)in->count,
            (unsigned long long)in->nrec);
}

/* Split LINE at tabs into a malloc'd array; returns the count. */
static size_t split_tabs(char *line, char ***fields)
{
    size_t n = 1;
    for (char *p = line; *p; p++)
        n += *p == '\t';
    char **f = malloc(n * sizeof *f);
    if (!f)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    n = 0;
    for (char *tok; (tok = strsep(&line, "\t"));)
        f[n++] = tok;
    *fields = f;
    return n;
}

static void pack(FILE *in, const char *name, FILE *out, const char *outname)
{
    char *line = NULL, **f = NULL, **names = NULL;
    size_t cap = 0, dim = 0, nnames = 0;
    long lineno = 0;
    float *vec = NULL;
    struct hwi_stream s = {0};
    int open = 0;
    size_t len;
    char err[HWI_ERRLEN];
    int rc;
    while ((rc = hwi_read_line(in, &line, &cap, &len, name, &lineno, err)) == 1) {
        if (!*line)
            continue;
        free(f);
        if (line[0] == '#') {
            if (open || names)
                continue; /* a comment */
            char *p = line + 1;
            p += strspn(p, " ");
            if (strncmp(p, "key\t", 4) != 0)
                continue;
            nnames = split_tabs(p + 4, &f);
            names = malloc(nnames * sizeof *names);
            if (!names)
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            for (size_t i = 0; i < nnames; i++)
                if (!(names[i] = strdup(f[i])))
                    hwi_die(HWI_EXIT_FAIL, "out of memory");
            free(f);
            f = NULL;
            continue;
        }
        size_t n = split_tabs(line, &f);
        if (n < 2)
            hwi_die(HWI_EXIT_FAIL, "%s:%ld: expected a key and at least one value", name,
                    lineno);
        if (!open) {
            dim = n - 1;
            if (names && nnames != dim)
                hwi_die(HWI_EXIT_FAIL, "%s:%ld: %zu values but %zu column names", name, lineno,
                        dim, nnames);
            if (hwi_stream_open_write(&s, out, outname, (uint32_t)dim, HWI_STREAM_KEYED, names,
                                      0))
                hwi_die(HWI_EXIT_FAIL, "%s", s.err);
            if (!(vec = malloc(dim * sizeof *vec)))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            open = 1;
        }
        if (n - 1 != dim)
            hwi_die(HWI_EXIT_FAIL, "%s:%ld: %zu values where earlier lines have %zu", name,
                    lineno, n - 1, dim);
        for (size_t i = 0; i < dim; i++) {
            double v;
            /* every double that rounds to a finite float, so that the
             * %.9g text of FLT_MAX (3.40282347e+38) reads back */
            if (hwi_parse_double(f[i + 1], -FLOAT_LIMIT, FLOAT_LIMIT, &v))
                hwi_die(HWI_EXIT_FAIL, "%s:%ld: value %zu '%s' is not a finite float", name,
                        lineno, i + 1, f[i + 1]);
            vec[i] = (float)v;
        }
        if (hwi_stream_write(&s, f[0], vec))
            hwi_die(HWI_EXIT_FAIL, "%s:%ld: %s", name, lineno, s.err);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (!open)
        hwi_die(HWI_EXIT_FAIL, "%s: no vectors: the dimension is unknown", name);
    if (hwi_stream_finish(&s))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    hwi_stream_close(&s);
    if (names)
        for (size_t i = 0; i < nnames; i++)
            free(names[i]);
    free(names);
    free(f);
    free(vec);
    free(line);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    int do_pack = 0, do_info = 0, names = 0, force = 0;
    const char *output = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:f", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PACK: do_pack = 1; break;
        case OPT_INFO: do_info = 1; break;
        case OPT_NAMES: names = 1; break;
        case 'o': output = optarg; break;
        case 'f': force = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    if (do_pack && do_info) {
        hwi_warn("--pack and --info cannot be used together");
        usage(HWI_EXIT_USAGE);
    }
    const char *path = optind < argc ? argv[optind] : "-";
    const char *name = hwi_file_name(path);
    char err[HWI_ERRLEN];
    FILE *in = hwi_fopen_in(path, err);
    if (!in)
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    struct hwi_outfile out;
    if (do_pack && !force && (!output || !strcmp(output, "-")) && isatty(STDOUT_FILENO))
        hwi_die(HWI_EXIT_USAGE,
                "refusing to write a binary stream to a terminal (use --force)");
    if (hwi_outfile_open(&out, output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    /* standard output gets nothing until the whole input has been read and
     * checked: a bad line or record halfway must not leave a cut stream or
     * half a table for the next program to take as the whole */
    FILE *spool = NULL;
    if (out.fp == stdout) {
        if (!(spool = tmpfile()))
            hwi_die(HWI_EXIT_FAIL, "cannot make a temporary file: %s", strerror(errno));
        out.fp = spool;
    }

    if (do_pack) {
        pack(in, name, out.fp, output && strcmp(output, "-") ? output : "(stdout)");
    } else {
        struct hwi_stream s;
        if (hwi_stream_open_read(&s, in, name))
            hwi_die(HWI_EXIT_FAIL, "%s", s.err);
        if (do_info)
            info(&s, out.fp);
        else
            unpack(&s, out.fp, names);
        hwi_stream_close(&s);
    }
    hwi_fclose_in(in);
    if (spool) {
        if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
            hwi_die(HWI_EXIT_FAIL, "temporary file: %s", strerror(errno));
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, spool)) > 0)
            if (fwrite(buf, 1, n, stdout) != n)
                break; /* hwi_outfile_commit and hwi_close_stdout report it */
        if (ferror(spool))
            hwi_die(HWI_EXIT_FAIL, "temporary file: read error");
        fclose(spool);
        out.fp = stdout;
    }
    if (hwi_outfile_commit(&out, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    return HWI_EXIT_OK;
}
