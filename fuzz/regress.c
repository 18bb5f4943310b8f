/* regress.c: the fuzz targets' regression test, run by `make check`.
 * Feeds every file of fuzz/corpus/TARGET (the seeds) and
 * fuzz/regress/TARGET (inputs that once crashed, leaked or hung a
 * reader, named after what they found) to the target's entry point,
 * built without libFuzzer; an ASan+UBSan build (CI) checks them as the
 * fuzzer did.  Usage: regress [TARGET...] (default: all); the tree is
 * $srcdir/fuzz.  Exits 0, or 1 if a target has no inputs or a directory
 * cannot be read; a finding aborts (or a sanitizer stops the run). */
#include <config.h>

#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} targets[] = {
    {"csv", hwi_fuzz_csv}, {"tsv", hwi_fuzz_tsv}, {"stream", hwi_fuzz_stream},
    {"db", hwi_fuzz_db},   {"cfg", hwi_fuzz_cfg}, {"weights", hwi_fuzz_weights},
};

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run FN on every file of DIR (missing: none).  Returns the count, -1. */
static long run_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "regress: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        if (!names || !(names[n++] = strdup(e->d_name)))
            abort();
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
            abort();
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            fprintf(stderr, "regress: %s: %s\n", path, strerror(errno));
            return -1;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? 2 * cap : 65536;
                if (!(buf = realloc(buf, cap)))
                    abort();
            }
            size_t got = fread(buf + len, 1, cap - len, fp);
            if (got == 0)
                break;
            len += got;
        }
        fclose(fp);
        /* a copy of exactly LEN bytes, so that ASan sees a read past the end */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact)
            abort();
        memcpy(exact, buf, len);
        free(buf);
        fn(exact, len);
        free(exact);
        free(names[i]);
    }
    free(names);
    return (long)n;
}

int main(int argc, char **argv)
{
    const char *srcdir = getenv("srcdir");
    int bad = 0;
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        int want = argc < 2;
        for (int i = 1; i < argc; i++)
            want |= strcmp(argv[i], targets[t].name) == 0;
        if (!want)
            continue;
        long total = 0;
        static const char *const kinds[] = {"corpus", "regress"};
        for (int k = 0; k < 2; k++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/fuzz/%s/%s", srcdir ? srcdir : ".", kinds[k],
                     targets[t].name);
            long n = run_dir(dir, targets[t].fn);
            if (n < 0)
                bad = 1;
            else
                total += n;
        }
        printf("fuzz %s: %ld inputs\n", targets[t].name, total);
        if (total == 0) {
            fprintf(stderr, "regress: no inputs for %s under %s/fuzz\n", targets[t].name,
                    srcdir ? srcdir : ".");
            bad = 1;
        }
    }
    return bad;
}
