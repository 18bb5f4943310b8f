/* image.c: libvips behind hwi's image API (see image.h).
 *
 * hwi_image_crop builds one lazy libvips pipeline per photo and runs it
 * once, into memory.  Speed comes from doing as little as possible: the
 * photo is decoded sequentially and only down to the crop's last row,
 * JPEG decodes at reduced scale when the crop is much larger than the
 * output, the EXIF rotation is applied to the crop instead of the photo,
 * and the colour-to-gray step runs on 8-bit values before the resize. */
#include <config.h>

#include "image.h"

#include "io.h"

#include <errno.h>
#include <jpeglib.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>
#include <vips/vector.h>

/* libvips' warnings (g_warning) would print past our diagnostics; every
 * failure that matters reaches us as an error instead. */
static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                      gpointer data)
{
}

int hwi_image_init(const char *argv0, int threads, char *err)
{
    if (VIPS_INIT(argv0 ? argv0 : "hwi"))
        return hwi_seterr(err, "libvips: %s", vips_error_buffer());
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    if (threads > 0)
        vips_concurrency_set(threads);
    /* No ORC vector code.  libvips 8.14 compiles an ORC program each time it
     * builds a reduce operation (every crop's resize), and liborc 0.4.33
     * allocates the code memory without a lock: two threads building at
     * once corrupt the heap (hwi-crop -j2 on many small photos aborted in
     * orc_code_allocate_codemem, 1 run in 6).  The C paths give the same
     * bytes at the same speed for crops (bench/crop). */
    vips_vector_set_enabled(FALSE);
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
    char *buf = vips_error_buffer_copy(); /* copies and clears, locked */
    snprintf(msg, sizeof msg, "%s", buf ? buf : "");
    g_free(buf);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return hwi_seterr(err, "%s: %s", path, *msg ? msg : "libvips failed");
}

int hwi_image_write(const uint8_t *pix, int w, int h, int bands, int quality, const char *path,
                    char *err)
{
    return hwi_image_save(pix, w, h, bands, quality, -1, path, err);
}

int hwi_image_save(const uint8_t *pix, int w, int h, int bands, int quality, int compression,
                   const char *path, char *err)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return hwi_seterr(err, "%s: no file name suffix to choose the format", path);
    VipsImage *im =
        vips_image_new_from_memory(pix, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
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
    if (hwi_tmp_add(tmp, err)) { /* removed if the program dies */
        free(tmp);
        g_object_unref(im);
        return -1;
    }
    int rc = 0;
    int lossy = !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg");
    int png = !strcasecmp(dot, ".png");
    int bad = lossy ? vips_image_write_to_file(im, tmp, "Q", quality, "strip", TRUE, NULL)
              : png && compression >= 0
                  ? vips_image_write_to_file(im, tmp, "compression", compression, "strip",
                                             TRUE, NULL)
                  : vips_image_write_to_file(im, tmp, "strip", TRUE, NULL);
    if (bad) {
        rc = vips_fail(err, path);
        hwi_tmp_remove(tmp);
    } else if (hwi_tmp_commit(tmp, path) != 0) {
        rc = hwi_seterr(err, "%s: cannot rename into place", path);
    }
    free(tmp);
    g_object_unref(im);
    return rc;
}

static const char *const kernel_names[] = {
    [HWI_KERNEL_NEAREST] = "nearest",   [HWI_KERNEL_LINEAR] = "linear",
    [HWI_KERNEL_CUBIC] = "cubic",       [HWI_KERNEL_MITCHELL] = "mitchell",
    [HWI_KERNEL_LANCZOS2] = "lanczos2", [HWI_KERNEL_LANCZOS3] = "lanczos3",
};

static const VipsKernel vips_kernels[] = {
    [HWI_KERNEL_NEAREST] = VIPS_KERNEL_NEAREST,   [HWI_KERNEL_LINEAR] = VIPS_KERNEL_LINEAR,
    [HWI_KERNEL_CUBIC] = VIPS_KERNEL_CUBIC,       [HWI_KERNEL_MITCHELL] = VIPS_KERNEL_MITCHELL,
    [HWI_KERNEL_LANCZOS2] = VIPS_KERNEL_LANCZOS2, [HWI_KERNEL_LANCZOS3] = VIPS_KERNEL_LANCZOS3,
};

int hwi_image_kernel(const char *name)
{
    for (int i = 0; i < (int)(sizeof kernel_names / sizeof *kernel_names); i++)
        if (!strcmp(name, kernel_names[i]))
            return i;
    return -1;
}

/* A half-open pixel rectangle [l, r) x [t, b). */
struct span {
    long l, t, r, b;
};

/* The crop of BOX (NULL: everything) in a W x H image, as apply_bboxes.py
 * computes it.  Returns 0, or -1 when the box lies outside the image. */
static int crop_span(const struct hwi_rect *box, double margin, long w, long h, struct span *s)
{
    if (!box) {
        *s = (struct span){0, 0, w, h};
        return 0;
    }
    double bw = (double)(box->x1 - box->x0), bh = (double)(box->y1 - box->y0);
    /* Python's int() truncates toward zero; after max(0, .) that is floor */
    double l = floor(box->x0 - margin * bw), t = floor(box->y0 - margin * bh);
    double r = floor(box->x1 + margin * bw), b = floor(box->y1 + margin * bh);
    s->l = l < 0 ? 0 : (long)l;
    s->t = t < 0 ? 0 : (long)t;
    s->r = r > w ? w : (long)r;
    s->b = b > h ? h : (long)b;
    if (box->x0 >= w || box->y0 >= h)
        return -1; /* then l <= x0 < w, t <= y0 < h: the crop is not empty */
    if (s->r <= s->l)
        s->r = s->l + 1;
    if (s->b <= s->t)
        s->b = s->t + 1;
    return 0;
}

/* Map span S of the upright image to the stored pixels of a W x H image
 * (stored size) with EXIF orientation O; vips_autorot turns the stored
 * crop into the upright one. */
static struct span unrotate(struct span s, int o, long w, long h)
{
    switch (o) {
    case 2: return (struct span){w - s.r, s.t, w - s.l, s.b};         /* mirror x */
    case 3: return (struct span){w - s.r, h - s.b, w - s.l, h - s.t}; /* 180 */
    case 4: return (struct span){s.l, h - s.b, s.r, h - s.t};         /* mirror y */
    case 5: return (struct span){s.t, s.l, s.b, s.r};                 /* transpose */
    case 6: return (struct span){s.t, h - s.r, s.b, h - s.l};         /* 90 cw */
    case 7: return (struct span){w - s.b, h - s.r, w - s.t, h - s.l}; /* transverse */
    case 8: return (struct span){w - s.b, s.l, w - s.t, s.r};         /* 270 cw */
    default: return s;
    }
}

/* The JPEG shrink-on-load factor for a CW x CH crop resized to S x S:
 * leave at least a factor of two for the resize proper, as vips_thumbnail
 * does, so that the block-average of the DCT scaling does not alias. */
static int jpeg_shrink(long cw, long ch, int s)
{
    double f = fmin((double)cw / s, (double)ch / s);
    return f >= 16 ? 8 : f >= 8 ? 4 : f >= 4 ? 2 : 1;
}

/* IN (any bands, format, interpretation) as one band of 8-bit gray; the
 * intermediate images belong to T (6 slots). */
static int to_gray8(VipsImage *in, VipsImage **t, VipsImage **out)
{
    VipsInterpretation in_type = vips_image_guess_interpretation(in);
    switch (in_type) {
    case VIPS_INTERPRETATION_B_W:
    case VIPS_INTERPRETATION_GREY16:
    case VIPS_INTERPRETATION_sRGB:
    case VIPS_INTERPRETATION_RGB16:
    case VIPS_INTERPRETATION_MULTIBAND:
    case VIPS_INTERPRETATION_RGB: break;
    default:
        /* CMYK, LAB, XYZ, scRGB, ...: to 8-bit sRGB, extra bands kept */
        if (!vips_colourspace_issupported(in))
            break;
        if (vips_colourspace(in, &t[0], VIPS_INTERPRETATION_sRGB, NULL))
            return -1;
        in = t[0];
    }
    if (in->BandFmt == VIPS_FORMAT_USHORT) {
        if (vips_rshift_const1(in, &t[1], 8, NULL))
            return -1;
        in = t[1];
    }
    if (in->BandFmt != VIPS_FORMAT_UCHAR) {
        if (vips_cast(in, &t[2], VIPS_FORMAT_UCHAR, NULL))
            return -1;
        in = t[2];
    }
    if (in->Bands < 3) {
        /* gray, or gray + alpha */
        if (vips_extract_band(in, &t[3], 0, NULL))
            return -1;
    } else {
        /* Pillow's luma, in Pillow's integer arithmetic, on the first three
         * bands.  libvips would do it in double precision (vips_recomb,
         * then vips_linear to round), which costs a quarter of the whole
         * crop; the crop is small, so compute it here. */
        size_t n;
        uint8_t *rgb = vips_image_write_to_memory(in, &n);
        if (!rgb)
            return -1;
        size_t np = (size_t)in->Xsize * in->Ysize, nb = (size_t)in->Bands;
        uint8_t *gray = g_try_malloc(np);
        if (!gray) {
            g_free(rgb);
            vips_error("hwi", "out of memory");
            return -1;
        }
        for (size_t i = 0; i < np; i++) {
            const uint8_t *q = rgb + i * nb;
            gray[i] =
                (uint8_t)((19595u * q[0] + 38470u * q[1] + 7471u * q[2] + 0x8000u) >> 16);
        }
        g_free(rgb);
        t[3] = vips_image_new_from_memory_copy(gray, np, in->Xsize, in->Ysize, 1,
                                               VIPS_FORMAT_UCHAR);
        g_free(gray);
        if (!t[3])
            return -1;
        t[3]->Type = VIPS_INTERPRETATION_B_W;
    }
    *out = t[3];
    return 0;
}

/* hwi_image_crop's pipeline.  Returns 0, -1 with ERR set, or -2 with ERR
 * set from libvips' error buffer. */
static int crop_run(const char *path, const struct hwi_rect *box,
                    const struct hwi_crop_params *p, uint8_t *pix, long *upright, char *err)
{
    int size = p->size;
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    /* a FIFO, /dev/zero or a tty would be read forever or block */
    if (!S_ISREG(st.st_mode))
        return hwi_seterr(err, "%s: not a regular file", path);
    VipsImage *base = vips_image_new();
    VipsImage **t = (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 16);
    int rc = -1;
    void *mem = NULL;

    /* the header only: pixels are decoded when the pipeline runs */
    t[0] = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                    VIPS_FAIL_ON_ERROR, NULL);
    if (!t[0]) {
        rc = vips_fail(err, path) - 1;
        goto out;
    }
    VipsImage *im = t[0];
    long w = im->Xsize, h = im->Ysize;
    int o = p->autorotate ? vips_image_get_orientation(im) : 1;
    if (o < 1 || o > 8)
        o = 1;
    long uw = o >= 5 ? h : w, uh = o >= 5 ? w : h; /* upright size */
    if (upright) {
        upright[0] = uw;
        upright[1] = uh;
    }
    struct span s;
    if (crop_span(box, p->margin, uw, uh, &s)) {
        rc = hwi_seterr(err, "%s: box (%ld,%ld)-(%ld,%ld) lies outside the %ldx%ld image",
                        path, box->x0, box->y0, box->x1, box->y1, uw, uh);
        goto out;
    }
    /* from here on, s is in stored pixels */
    s = unrotate(s, o, w, h);

    const char *loader = NULL;
    int shrink = 1;
    if (p->shrink_on_load && !vips_image_get_string(im, "vips-loader", &loader) &&
        !strcmp(loader, "jpegload"))
        shrink = jpeg_shrink(s.r - s.l, s.b - s.t, size);
    if (shrink > 1) {
        if (vips_jpegload(path, &t[1], "shrink", shrink, "access", VIPS_ACCESS_SEQUENTIAL,
                          "fail_on", VIPS_FAIL_ON_ERROR, NULL)) {
            rc = vips_fail(err, path) - 1;
            goto out;
        }
        im = t[1];
        /* the span on the shrunk grid, widened to whole pixels */
        s.l /= shrink;
        s.t /= shrink;
        s.r = (s.r + shrink - 1) / shrink;
        s.b = (s.b + shrink - 1) / shrink;
        if (s.r > im->Xsize)
            s.r = im->Xsize;
        if (s.b > im->Ysize)
            s.b = im->Ysize;
        if (s.r <= s.l)
            s.l = s.r - 1;
        if (s.b <= s.t)
            s.t = s.b - 1;
    }
    if (vips_extract_area(im, &t[2], (int)s.l, (int)s.t, (int)(s.r - s.l), (int)(s.b - s.t),
                          NULL))
        goto fail;
    im = t[2];
    if (o != 1) {
        /* rotating needs random access: the crop is small, keep it */
        if (!(t[3] = vips_image_copy_memory(im)))
            goto fail;
        if (vips_autorot(t[3], &t[4], NULL))
            goto fail;
        im = t[4];
    }
    if (to_gray8(im, t + 5, &im))
        goto fail;
    double hs = (double)size / im->Xsize, vs = (double)size / im->Ysize;
    if (vips_resize(im, &t[11], hs, "vscale", vs, "kernel", vips_kernels[p->kernel], NULL))
        goto fail;
    im = t[11];
    if (im->Xsize != size || im->Ysize != size) {
        /* rounding in vips_resize: trim or repeat the last row or column */
        if (vips_embed(im, &t[12], 0, 0, size, size, "extend", VIPS_EXTEND_COPY, NULL))
            goto fail;
        im = t[12];
    }
    size_t n;
    if (!(mem = vips_image_write_to_memory(im, &n)))
        goto fail;
    if (n != (size_t)size * size) {
        rc = hwi_seterr(err, "%s: libvips made %zu bytes, not %d x %d", path, n, size, size);
        goto out;
    }
    memcpy(pix, mem, n);
    rc = 0;
    goto out;
fail:
    rc = vips_fail(err, path) - 1;
out:
    g_free(mem);
    g_object_unref(base);
    return rc;
}

/* Croppers take this lock shared; a cropper whose photo failed inside
 * libvips takes it alone and runs again.  libvips keeps one error buffer
 * for the whole process, so the message of one photo could otherwise
 * carry another's, or be taken by another thread.  A POSIX lock, not
 * GRWLock: its lazy initialisation through GLib's atomics is invisible to
 * ThreadSanitizer. */
static pthread_rwlock_t crop_lock = PTHREAD_RWLOCK_INITIALIZER;

static int crop_locked(const char *path, const struct hwi_rect *box,
                       const struct hwi_crop_params *p, uint8_t *pix, long *upright, char *err)
{
    pthread_rwlock_rdlock(&crop_lock);
    int rc = crop_run(path, box, p, pix, upright, err);
    pthread_rwlock_unlock(&crop_lock);
    if (rc != -2)
        return rc;
    pthread_rwlock_wrlock(&crop_lock);
    vips_error_clear();
    rc = crop_run(path, box, p, pix, upright, err);
    pthread_rwlock_unlock(&crop_lock);
    return rc < 0 ? -1 : 0;
}

int hwi_image_crop(const char *path, const struct hwi_rect *box,
                   const struct hwi_crop_params *p, uint8_t *pix, char *err)
{
    return crop_locked(path, box, p, pix, NULL, err);
}

/* ---------------------------------------------------------------------- */
/* A detector's thumbnail of a JPEG through libjpeg alone: its luma (the Y
 * plane: no chroma decoded, no colour conversion) at the smallest DCT scale
 * M/8 that keeps both sides at least S, averaged over areas to S x S, and
 * turned upright by its EXIF orientation.  For the small photos a detector
 * sees, the libvips pipeline costs ten times the decoding itself. */

/* libjpeg's error manager: any error or warning ends the attempt, and the
 * photo goes the libvips way, which decides whether it is bad. */
struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
};

static void jpeg_fail_exit(j_common_ptr c)
{
    longjmp(((struct jpeg_fail *)c->err)->back, 1);
}

static void jpeg_fail_message(j_common_ptr c, int level)
{
    if (level < 0) /* a warning: corrupt data */
        longjmp(((struct jpeg_fail *)c->err)->back, 1);
}

static unsigned exif_get(const uint8_t *q, int le, int n)
{
    unsigned a = q[0], b = q[1];
    if (n == 2)
        return le ? a | b << 8 : a << 8 | b;
    unsigned c = q[2], d = q[3];
    return le ? a | b << 8 | c << 16 | d << 24 : a << 24 | b << 16 | c << 8 | d;
}

/* The Orientation (1..8) of the EXIF APP1 payload D of N bytes, or 1. */
static int exif_orientation(const uint8_t *d, size_t n)
{
    if (n < 14 || memcmp(d, "Exif\0\0", 6))
        return 1;
    const uint8_t *t = d + 6; /* the TIFF header */
    size_t tn = n - 6;
    int le = t[0] == 'I' && t[1] == 'I';
    if (!le && !(t[0] == 'M' && t[1] == 'M'))
        return 1;
    unsigned ifd = exif_get(t + 4, le, 4);
    if (ifd > tn - 2)
        return 1;
    unsigned count = exif_get(t + ifd, le, 2);
    for (unsigned i = 0; i < count; i++) {
        size_t e = ifd + 2 + (size_t)12 * i;
        if (e + 12 > tn)
            return 1;
        if (exif_get(t + e, le, 2) == 0x0112 && exif_get(t + e + 2, le, 2) == 3) {
            unsigned o = exif_get(t + e + 8, le, 2);
            return o >= 1 && o <= 8 ? (int)o : 1;
        }
    }
    return 1;
}

/* The taps of an area average from N source pixels to S (N >= S): output
 * pixel x covers [x N / S, (x + 1) N / S), partly at its ends; its taps are
 * sources FIRST[x] .. FIRST[x] + COUNT[x] - 1 with weights W[x * STRIDE + t]
 * (summing to 1).  STRIDE = ceil(N / S) + 1. */
struct area_taps {
    int stride;
    long *first;
    int *count;
    float *w;
};

static int area_taps(long n, int s, struct area_taps *t)
{
    double f = (double)n / s;
    t->stride = (int)ceil(f) + 1;
    t->first = malloc((size_t)s * sizeof *t->first);
    t->count = malloc((size_t)s * sizeof *t->count);
    t->w = malloc((size_t)s * t->stride * sizeof *t->w);
    if (!t->first || !t->count || !t->w)
        return -1;
    for (int x = 0; x < s; x++) {
        double a = x * f, b = (x + 1) * f;
        int k = 0;
        t->first[x] = (long)a;
        for (long i = (long)a; i < n && i < b && k < t->stride; i++, k++)
            t->w[(size_t)x * t->stride + k] = (float)((fmin(b, i + 1) - fmax(a, i)) / f);
        t->count[x] = k;
    }
    return 0;
}

static void area_taps_free(struct area_taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

/* Average the W x H bytes SRC over areas into the S x S bytes DST (W, H >=
 * S); TMP holds H x S floats.  Returns 0, or -1 out of memory. */
static int area_squish(const uint8_t *src, long w, long h, uint8_t *dst, int s, float *tmp)
{
    struct area_taps tx = {0}, ty = {0};
    int rc = -1;
    if (area_taps(w, s, &tx) || area_taps(h, s, &ty))
        goto out;
    for (long y = 0; y < h; y++) { /* columns: H rows of S */
        const uint8_t *row = src + (size_t)y * w;
        for (int x = 0; x < s; x++) {
            const uint8_t *q = row + tx.first[x];
            const float *wt = tx.w + (size_t)x * tx.stride;
            float sum = 0;
            for (int k = 0; k < tx.count[x]; k++)
                sum += q[k] * wt[k];
            tmp[(size_t)y * s + x] = sum;
        }
    }
    for (int y = 0; y < s; y++) { /* rows */
        uint8_t *out = dst + (size_t)y * s;
        const float *wt = ty.w + (size_t)y * ty.stride;
        for (int x = 0; x < s; x++) {
            const float *q = tmp + (size_t)ty.first[y] * s + x;
            float sum = 0.5f;
            for (int k = 0; k < ty.count[y]; k++)
                sum += q[(size_t)k * s] * wt[k];
            out[x] = (uint8_t)(sum < 0 ? 0 : sum > 255 ? 255 : sum);
        }
    }
    rc = 0;
out:
    area_taps_free(&tx);
    area_taps_free(&ty);
    return rc;
}

/* Turn the S x S plane SRC upright by EXIF orientation O into DST: upright
 * pixel (x, y) is the stored pixel that unrotate maps it to. */
static void orient_square(const uint8_t *src, uint8_t *dst, int s, int o)
{
    for (long y = 0; y < s; y++)
        for (long x = 0; x < s; x++) {
            struct span q = unrotate((struct span){x, y, x + 1, y + 1}, o, s, s);
            dst[(size_t)y * s + x] = src[(size_t)q.t * s + q.l];
        }
}

/* 0 with PIX, *W and *H set; 1 when libjpeg does not take the file (not a
 * baseline or progressive YCbCr, gray or RGB JPEG, or any libjpeg error or
 * warning).  Never sets an error: the libvips way follows. */
static int thumb_jpeg(const char *path, const struct hwi_crop_params *p, uint8_t *pix, long *w,
                      long *h)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 1;
    uint8_t magic[3];
    if (fread(magic, 1, 3, fp) != 3 || magic[0] != 0xff || magic[1] != 0xd8 ||
        magic[2] != 0xff || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return 1;
    }
    struct jpeg_decompress_struct c;
    struct jpeg_fail e;
    /* volatile: set after setjmp, read after a longjmp */
    uint8_t *volatile plane = NULL;
    float *volatile tmp = NULL;
    c.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jpeg_fail_exit;
    e.mgr.emit_message = jpeg_fail_message;
    jpeg_create_decompress(&c);
    if (setjmp(e.back)) {
        jpeg_destroy_decompress(&c);
        fclose(fp);
        free(plane);
        free(tmp);
        return 1;
    }
    jpeg_stdio_src(&c, fp);
    if (p->autorotate)
        jpeg_save_markers(&c, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&c, TRUE);
    if (c.jpeg_color_space != JCS_YCbCr && c.jpeg_color_space != JCS_GRAYSCALE &&
        c.jpeg_color_space != JCS_RGB)
        longjmp(e.back, 1); /* CMYK, YCCK: libvips converts those */
    int o = 1;
    for (jpeg_saved_marker_ptr m = c.marker_list; m && o == 1; m = m->next)
        if (m->marker == JPEG_APP0 + 1)
            o = exif_orientation(m->data, m->data_length);
    int s = p->size, k = 8;
    while (k > 1 && ((long)c.image_width * (k - 1) + 7) / 8 >= s &&
           ((long)c.image_height * (k - 1) + 7) / 8 >= s)
        k--;
    c.scale_num = (unsigned)k;
    c.scale_denom = 8;
    c.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&c);
    long ow = c.output_width, oh = c.output_height;
    if (ow < s || oh < s || !(plane = malloc((size_t)ow * oh)) ||
        !(tmp = malloc((size_t)oh * s * sizeof *tmp)))
        longjmp(e.back, 1); /* smaller than S: the libvips way enlarges */
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = plane + (size_t)c.output_scanline * ow;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    /* the plane is read only before the squish writes: it takes the
     * S x S result when that still has to turn */
    if (area_squish(plane, ow, oh, o == 1 ? pix : plane, s, tmp))
        longjmp(e.back, 1);
    if (o != 1)
        orient_square(plane, pix, s, o);
    long sw = c.image_width, sh = c.image_height;
    *w = o >= 5 ? sh : sw;
    *h = o >= 5 ? sw : sh;
    jpeg_destroy_decompress(&c);
    fclose(fp);
    free(plane);
    free(tmp);
    return 0;
}

int hwi_image_thumb(const char *path, const struct hwi_crop_params *p, uint8_t *pix, long *w,
                    long *h, char *err)
{
    struct stat st;
    if (p->shrink_on_load && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        thumb_jpeg(path, p, pix, w, h) == 0)
        return 0;
    long upright[2] = {0, 0};
    int rc = crop_locked(path, NULL, p, pix, upright, err);
    *w = upright[0];
    *h = upright[1];
    return rc;
}

int hwi_image_text(const char *text, const char *font, uint8_t *pix, int w, int h,
                   size_t stride, char *err)
{
    if (!*text || w <= 0 || h <= 0)
        return 0;
    /* vips_text reads Pango markup: escape it to plain text */
    gchar *plain = g_markup_escape_text(text, -1);
    VipsImage *im = NULL;
    int bad = vips_text(&im, plain, "font", font, NULL);
    g_free(plain);
    if (bad)
        return vips_fail(err, "text");
    size_t n;
    uint8_t *ink = NULL;
    if (im->Bands != 1 || im->BandFmt != VIPS_FORMAT_UCHAR ||
        !(ink = vips_image_write_to_memory(im, &n))) {
        g_object_unref(im);
        return ink ? hwi_seterr(err, "text: libvips made no 8-bit gray image")
                   : vips_fail(err, "text");
    }
    int tw = im->Xsize, th = im->Ysize;
    g_object_unref(im);
    int x0 = tw > w ? tw - w : 0; /* first column of the text drawn */
    int cw = tw - x0, ch = th < h ? th : h;
    for (int y = 0; y < ch; y++) {
        uint8_t *row = pix + (size_t)y * stride;
        const uint8_t *src = ink + (size_t)y * tw + x0;
        for (int x = 0; x < cw; x++) {
            uint8_t v = (uint8_t)(255 - src[x]);
            if (v < row[x])
                row[x] = v;
        }
    }
    g_free(ink);
    return 0;
}
