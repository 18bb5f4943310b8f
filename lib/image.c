/* image.c: libvips behind hwi's image API (see image.h). */
#include <config.h>

#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <vips/vips.h>

int hwi_image_init(const char *argv0, int threads, char *err)
{
    if (VIPS_INIT(argv0 ? argv0 : "hwi"))
        return hwi_seterr(err, "libvips: %s", vips_error_buffer());
    if (threads > 0)
        vips_concurrency_set(threads);
    /* operation cache: useless for one pass over many files, costs memory */
    vips_cache_set_max(0);
    return 0;
}

void hwi_image_shutdown(void)
{
    vips_shutdown();
}

/* The last libvips error, one line, and clear the buffer. */
static int vips_fail(char *err, const char *path)
{
    char msg[HWI_ERRLEN];
    snprintf(msg, sizeof msg, "%s", vips_error_buffer());
    vips_error_clear();
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return hwi_seterr(err, "%s: %s", path, *msg ? msg : "libvips failed");
}

int hwi_image_write(const uint8_t *pix, int w, int h, int bands, int quality,
                    const char *path, char *err)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return hwi_seterr(err, "%s: no file name suffix to choose the format", path);
    VipsImage *im = vips_image_new_from_memory(pix, (size_t)w * h * bands, w, h, bands,
                                               VIPS_FORMAT_UCHAR);
    if (!im)
        return vips_fail(err, path);
    if (bands == 1)
        im->Type = VIPS_INTERPRETATION_B_W;
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) {
        g_object_unref(im);
        return hwi_seterr(err, "out of memory");
    }
    /* keep the suffix: libvips picks the saver from it */
    snprintf(tmp, n, "%.*s.tmp%ld%s", (int)(dot - path), path, (long)getpid(), dot);
    int rc = 0;
    int lossy = !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg");
    if (lossy ? vips_image_write_to_file(im, tmp, "Q", quality, "strip", TRUE, NULL)
              : vips_image_write_to_file(im, tmp, "strip", TRUE, NULL)) {
        rc = vips_fail(err, path);
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = hwi_seterr(err, "%s: cannot rename into place", path);
        unlink(tmp);
    }
    free(tmp);
    g_object_unref(im);
    return rc;
}
