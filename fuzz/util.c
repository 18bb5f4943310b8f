/* util.c: scratch files and memory FILEs for the fuzz targets (fuzz.h). */
#include <config.h>

#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSLOT 4

static char *slot_path[NSLOT];

static void remove_slots(void)
{
    for (int i = 0; i < NSLOT; i++)
        if (slot_path[i]) {
            unlink(slot_path[i]);
            free(slot_path[i]);
            slot_path[i] = NULL;
        }
}

const char *hwi_fuzz_file(int slot, const uint8_t *data, size_t size)
{
    if (slot < 0 || slot >= NSLOT)
        abort();
    if (!slot_path[slot]) {
        const char *tmp = getenv("TMPDIR");
        size_t n = strlen(tmp && *tmp ? tmp : "/tmp") + 32;
        char *p = malloc(n);
        if (!p)
            abort();
        snprintf(p, n, "%s/hwi-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(p);
        if (fd < 0)
            abort();
        close(fd);
        if (!slot_path[0] && !slot_path[1] && !slot_path[2] && !slot_path[3])
            atexit(remove_slots);
        slot_path[slot] = p;
    }
    FILE *fp = fopen(slot_path[slot], "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp))
        abort();
    return slot_path[slot];
}

FILE *hwi_fuzz_memfile(const uint8_t *data, size_t size)
{
    /* fmemopen refuses a zero size: an empty file reads /dev/null */
    FILE *fp = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
    if (!fp)
        abort();
    return fp;
}

FILE *hwi_fuzz_sink(void)
{
    FILE *fp = fopen("/dev/null", "wb");
    if (!fp)
        abort();
    return fp;
}
