/* hwi-sheet: matches to look at.  From a scores TSV with the matched
 * photo of each candidate (hwi-knn --photo), write per query a PNG
 * contact sheet, the query's crop beside its best candidates' photos, and
 * one offline HTML page where a reviewer says same / not same / new
 * individual and exports the decisions CSV that hwi-store imports.
 *
 * Everything goes to a fresh folder beside the output folder first, and
 * moves into place only when every sheet is made, so an error leaves no
 * partial output.  The work is in lib/sheet.c. */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "image.h"
#include "io.h"
#include "opt.h"
#include "sheet.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_HELP = CHAR_MAX + 1, OPT_VERSION };

static const struct option longopts[] = {
    {"dir", required_argument, NULL, 'd'},
    {"boxes", required_argument, NULL, 'b'},
    {"top", required_argument, NULL, 'k'},
    {"size", required_argument, NULL, 'S'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s --output=DIR [OPTION]... [SCORES]\n", hwi_program_name);
    fputs("Make matches to look at: for each query of the scores TSV SCORES, a PNG\n"
          "contact sheet of the query's crop beside its best candidates, each the\n"
          "catalogue photo that matched, labelled with the individual, the score and\n"
          "the rank; and one HTML page for the whole batch where a reviewer records\n"
          "same / not same / new individual and exports decisions.csv.\n"
          "With no SCORES, or when SCORES is -, read standard input.\n"
          "\n"
          "  -o, --output=DIR   write DIR/index.html and DIR/q0001.png, ... (one per\n"
          "                     query, in input order); DIR is made if needed\n"
          "  -d, --dir=ROOT     the photo root: queries and photos are paths under\n"
          "                     ROOT (default: .)\n"
          "  -b, --boxes=FILE   crop photos to their boxes in FILE, a\n"
          "                     bounding_boxes.csv (Image,x0,y0,x1,y1; Image a path\n"
          "                     under ROOT); photos not in it are shown whole\n"
          "  -k, --top=N        show the N best candidates of each query (default 5)\n"
          "  -S, --size=N       panels of N x N pixels (default 256)\n"
          "  -q, --quiet        no summary line\n"
          "      --help         display this help and exit\n"
          "      --version      output version information and exit\n"
          "\n"
          "SCORES is a scores TSV with the photo column, as hwi-knn --photo, hwi-fuse\n"
          "and hwi-identify write it: 'query<TAB>label<TAB>score<TAB>photo', each\n"
          "query's lines together; photo - is none (a blank panel).  The page needs\n"
          "no server and no network: open DIR/index.html in a browser.  Its export\n"
          "saves decisions.csv: 'photo,decision,id', decision same, new, not_same or\n"
          "skip (hwi-store(1) decisions).  The output appears whole or not at all.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input (a bad line, a missing or\n"
          "unreadable photo) or an I/O error, 2 on a usage error.\n"
          "See hwi-sheet(1), hwi-identify(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* The folder being filled, removed on failure. */
static char *work;
static char **made; /* file names written into it */
static size_t nmade;

static void remove_work(void)
{
    if (!work)
        return;
    for (size_t i = 0; i < nmade; i++) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s", work, made[i]) >= 0) {
            unlink(p);
            free(p);
        }
    }
    rmdir(work);
}

static _Noreturn void fail(const char *msg)
{
    remove_work();
    hwi_die(HWI_EXIT_FAIL, "%s", msg);
}

static char *path_in(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        fail("out of memory");
    return p;
}

static void note_made(const char *name)
{
    char **m = realloc(made, (nmade + 1) * sizeof *m);
    if (!m || !(m[nmade] = strdup(name)))
        fail("out of memory");
    made = m;
    nmade++;
}

/* Move the finished folder's files into OUT. */
static void publish(const char *out)
{
    char err[HWI_ERRLEN];
    struct stat st;
    if (stat(out, &st) != 0) {
        if (rename(work, out) != 0) {
            hwi_seterr(err, "%s: %s", out, strerror(errno));
            fail(err);
        }
        return;
    }
    for (size_t i = 0; i < nmade; i++) {
        char *from = path_in(work, made[i]), *to = path_in(out, made[i]);
        if (rename(from, to) != 0) {
            hwi_seterr(err, "%s: %s", to, strerror(errno));
            fail(err);
        }
        free(from);
        free(to);
    }
    rmdir(work);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);
    const char *root = ".", *boxes = NULL, *out = NULL;
    long top = 5, size = 256;
    int quiet = 0, c;
    while ((c = getopt_long(argc, argv, "d:b:k:S:o:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': root = optarg; break;
        case 'b': boxes = optarg; break;
        case 'k': top = hwi_opt_long("--top", optarg, 1, 100); break;
        case 'S': size = hwi_opt_long("--size", optarg, 32, 2048); break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); exit(HWI_EXIT_OK);
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (!out) {
        hwi_warn("missing --output");
        hwi_try_help();
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        hwi_try_help();
    }
    const char *file = optind < argc ? argv[optind] : "-";
    const char *name = hwi_file_name(file);

    char err[HWI_ERRLEN];
    struct hwi_boxes bx = {0};
    if (boxes && hwi_boxes_load(&bx, boxes, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    FILE *fp = hwi_fopen_in(file, err);
    if (!fp)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_review r;
    if (hwi_review_load(&r, fp, name, (size_t)top, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    hwi_fclose_in(fp);
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", root,
                stat(root, &st) != 0 ? strerror(errno) : "not a folder");
    if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
        hwi_die(HWI_EXIT_FAIL, "%s: not a folder", out);

    if (hwi_image_init(argv[0], 0, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_sheet s;
    if (hwi_sheet_init(&s, (int)size, root, boxes ? &bx : NULL, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    /* a fresh folder beside OUT, so the final renames stay on one file system */
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        n--;
    if (asprintf(&work, "%.*s.tmpXXXXXX", (int)n, out) < 0)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    if (!mkdtemp(work)) {
        int e = errno;
        free(work);
        work = NULL;
        hwi_die(HWI_EXIT_FAIL, "%s: %s", out, strerror(e));
    }
    chmod(work, 0755);

    for (size_t i = 0; i < r.n; i++) {
        char png[32];
        hwi_sheet_name(i, png, sizeof png);
        char *p = path_in(work, png);
        if (hwi_sheet_png(&s, &r.q[i], name, p, err))
            fail(err);
        free(p);
        note_made(png);
    }
    char *page = path_in(work, "index.html");
    struct hwi_outfile of;
    if (hwi_outfile_open(&of, page, err))
        fail(err);
    if (hwi_review_html(of.fp, &r, &s)) {
        hwi_outfile_abort(&of);
        hwi_seterr(err, "%s: write error", page);
        fail(err);
    }
    if (hwi_outfile_commit(&of, err))
        fail(err);
    free(page);
    note_made("index.html");
    publish(out);
    if (!quiet)
        hwi_warn("%zu queries, %zu sheets and index.html in %s", r.n, r.n, out);

    for (size_t i = 0; i < nmade; i++)
        free(made[i]);
    free(made);
    free(work);
    hwi_sheet_free(&s);
    hwi_review_free(&r);
    hwi_boxes_free(&bx);
    return HWI_EXIT_OK;
}
