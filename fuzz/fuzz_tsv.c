/* fuzz_tsv.c: the scores TSV reader (lib/tsv.c) as hwi-fuse, hwi-eval and
 * hwi-thresh use it: whole query groups through hwi_groups_next, each
 * sorted with hwi_group_sort and written back with hwi_tsv_write.  What
 * was read must be written without error and read again as the same
 * groups (same queries, same labels in the same order). */
#include <config.h>

#include "fuzz.h"

#include "tsv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Read all groups of FP, writing each sorted to OUT (when not NULL).
 * Returns the number of groups, or -1 if the reader refused the input;
 * appends "query\tlabel\n" of every candidate to *LOG. */
static long read_all(FILE *fp, FILE *out, FILE *log)
{
    struct hwi_groups g;
    struct hwi_group grp = {0};
    long n = 0;
    int rc;
    hwi_groups_open(&g, fp, "fuzz");
    while ((rc = hwi_groups_next(&g, &grp)) == 1) {
        HWI_FUZZ_CHECK(grp.n >= 1 && grp.query && grp.query[0], "a group has candidates");
        HWI_FUZZ_CHECK(hwi_group_sort(&grp) == 0, "hwi_group_sort");
        for (size_t i = 0; i < grp.n; i++) {
            HWI_FUZZ_CHECK(isfinite(grp.score[i]), "scores are finite");
            HWI_FUZZ_CHECK(i == 0 || grp.score[i - 1] >= grp.score[i], "sorted best first");
            if (out)
                HWI_FUZZ_CHECK(hwi_tsv_write(out, grp.query, grp.label[i], grp.score[i]) == 0,
                               "a candidate read can be written");
            fprintf(log, "%s\t%s\n", grp.query, grp.label[i]);
        }
        n++;
    }
    if (rc < 0)
        HWI_FUZZ_CHECK(g.tsv.err[0], "an error has a message");
    hwi_group_free(&grp);
    hwi_groups_close(&g);
    return rc < 0 ? -1 : n;
}

HWI_FUZZ_ENTRY(tsv)
{
    FILE *in = hwi_fuzz_memfile(data, size);
    char *buf = NULL, *log1 = NULL, *log2 = NULL;
    size_t len = 0, len1 = 0, len2 = 0;
    FILE *out = open_memstream(&buf, &len), *l1 = open_memstream(&log1, &len1);
    if (!out || !l1)
        abort();
    hwi_tsv_write_header(out);
    long n = read_all(in, out, l1);
    fclose(in);
    fclose(out);
    fclose(l1);
    if (n >= 0) {
        FILE *again = hwi_fuzz_memfile((const uint8_t *)buf, len);
        FILE *l2 = open_memstream(&log2, &len2);
        if (!l2)
            abort();
        long m = read_all(again, NULL, l2);
        fclose(again);
        fclose(l2);
        HWI_FUZZ_CHECK(m == n, "the written scores read again as as many groups");
        HWI_FUZZ_CHECK(len1 == len2 && !memcmp(log1, log2, len1),
                       "the written scores read again as the same candidates");
    }
    free(buf);
    free(log1);
    free(log2);
    return 0;
}
