/* fuzz_db.c: the store reader (lib/db.c) on a fuzzed database file, as
 * `hwi-store list` and `hwi-store export` and a gallery read it: open
 * read-only, hwi_db_verify, then every whole-store scan (individuals,
 * photos, counts) and, for the first models, the dimension, the column
 * names and every vector of both kinds.  A scan's callback checks what
 * it is given (names present, vectors of the announced dimension). */
#include <config.h>

#include "fuzz.h"

#include "db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int on_individual(void *ctx, const char *label, long photos, const char *first,
                         const char *last)
{
    (void)ctx, (void)first, (void)last;
    HWI_FUZZ_CHECK(label != NULL, "an individual has a label");
    HWI_FUZZ_CHECK(photos >= 0, "a photo count is not negative");
    return 0;
}

static int on_photo(void *ctx, const char *const *field)
{
    (void)ctx;
    HWI_FUZZ_CHECK(field[0] != NULL, "a photo has a name");
    for (int i = 0; i < HWI_DB_CATALOGUE_NCOL; i++)
        if (field[i])
            (void)strlen(field[i]);
    return 0;
}

static int on_count(void *ctx, const char *model, const char *kind, const char *split,
                    long dim, long count)
{
    (void)ctx, (void)dim, (void)count;
    HWI_FUZZ_CHECK(model && kind && split, "a count names its model, kind and split");
    return 0;
}

static int on_vector(void *ctx, const char *image, const char *label, const char *split,
                     const float *vec, uint32_t dim)
{
    long want = *(long *)ctx;
    (void)label, (void)split;
    HWI_FUZZ_CHECK(image != NULL, "a vector has an image name");
    HWI_FUZZ_CHECK(want <= 0 || dim == (uint32_t)want, "vectors of the stored dimension");
    volatile float sum = 0;
    for (uint32_t i = 0; i < dim; i++)
        sum += vec[i];
    return 0;
}

HWI_FUZZ_ENTRY(db)
{
    const char *path = hwi_fuzz_file(0, data, size);
    char err[HWI_ERRLEN] = "";
    struct hwi_db *db = hwi_db_open(path, HWI_DB_READONLY, err);
    if (!db) {
        HWI_FUZZ_CHECK(err[0], "a refused store has a message");
        return 0;
    }
    if (hwi_db_verify(db) == 0) {
        hwi_db_each_individual(db, on_individual, NULL);
        hwi_db_each_photo(db, on_photo, NULL);
        hwi_db_each_count(db, on_count, NULL);
        static const char *const kinds[] = {"features", "logits"};
        for (int64_t mid = 1; mid <= 3; mid++)
            for (int k = 0; k < 2; k++) {
                long dim = hwi_db_dim(db, mid, kinds[k]);
                char **names = NULL;
                long n = hwi_db_columns(db, mid, kinds[k], &names);
                for (long i = 0; i < n; i++) {
                    HWI_FUZZ_CHECK(names[i] != NULL, "a column has a name");
                    free(names[i]);
                }
                free(names);
                if (dim > 0)
                    hwi_db_each_embedding(db, mid, kinds[k], NULL, on_vector, &dim);
            }
        int64_t id;
        hwi_db_model(db, "m", NULL, NULL, 0, &id);
        hwi_db_has_image(db, "a.jpg");
        hwi_db_label_count(db, "w_1");
    } else {
        HWI_FUZZ_CHECK(hwi_db_errmsg(db)[0], "a failed check has a message");
    }
    hwi_db_close(db);
    return 0;
}
