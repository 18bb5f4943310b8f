/* stream.c: vector stream reader and writer (see stream.h, hwi-formats(5)).
 * Byte order is explicit: values are assembled from bytes, so the code is
 * right on any host. */
#include <config.h>

#include "stream.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get_u16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

/* Read exactly N bytes.  Returns N, or the number read before EOF, or -1
 * on a read error. */
static long read_full(FILE *fp, void *buf, size_t n)
{
    size_t got = fread(buf, 1, n, fp);
    if (got < n && ferror(fp))
        return -1;
    return (long)got;
}

/* 1 if the LEN bytes at P are a valid key or name. */
static int text_ok(const char *p, size_t len)
{
    if (len == 0 || len > HWI_STREAM_MAXKEY)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == 0 || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')
            return 0;
    return 1;
}

/* Read a (u32 len, bytes) string into *BUF (capacity *CAP).  WHAT and N
 * ("record 3", "column name 2") name it in messages.  Returns 1, 0 on EOF
 * before the length, -1. */
static int read_text(struct hwi_stream *s, char **buf, size_t *cap, const char *what,
                     unsigned long long n)
{
    unsigned char lenb[4];
    long got = read_full(s->fp, lenb, 4);
    if (got == 0)
        return 0;
    if (got < 0)
        return hwi_seterr(s->err, "%s: read error: %s", s->name, strerror(errno));
    if (got < 4)
        return hwi_seterr(s->err, "%s: %s %llu: truncated length", s->name, what, n);
    uint32_t len = get_u32(lenb);
    if (len == 0 || len > HWI_STREAM_MAXKEY)
        return hwi_seterr(s->err, "%s: %s %llu: bad length %u (1 to %d allowed)", s->name,
                          what, n, len, HWI_STREAM_MAXKEY);
    if (len + 1 > *cap) {
        char *p = realloc(*buf, len + 1);
        if (!p)
            return hwi_seterr(s->err, "%s: out of memory", s->name);
        *buf = p;
        *cap = len + 1;
    }
    got = read_full(s->fp, *buf, len);
    if (got < 0)
        return hwi_seterr(s->err, "%s: read error: %s", s->name, strerror(errno));
    if (got < (long)len)
        return hwi_seterr(s->err, "%s: %s %llu: truncated (%ld of %u bytes)", s->name, what, n,
                          got, len);
    (*buf)[len] = 0;
    if (!text_ok(*buf, len))
        return hwi_seterr(s->err, "%s: %s %llu: contains NUL, TAB or a line break", s->name,
                          what, n);
    return 1;
}

static int alloc_buffers(struct hwi_stream *s)
{
    s->vec = malloc((size_t)s->dim * sizeof *s->vec);
    s->raw = malloc((size_t)s->dim * 4);
    s->key = calloc(1, 1);
    s->keycap = 1;
    if (!s->vec || !s->raw || !s->key)
        return hwi_seterr(s->err, "%s: out of memory for dimension %u", s->name, s->dim);
    return 0;
}

int hwi_stream_open_read(struct hwi_stream *s, FILE *fp, const char *name)
{
    memset(s, 0, sizeof *s);
    s->fp = fp;
    s->name = name;
    unsigned char h[HWI_STREAM_HEADER_SIZE];
    long got = read_full(fp, h, sizeof h);
    if (got < 0)
        return hwi_seterr(s->err, "%s: read error: %s", name, strerror(errno));
    if (got >= 4 && memcmp(h, HWI_STREAM_MAGIC, 4) != 0)
        return hwi_seterr(s->err, "%s: not a vector stream (bad magic)", name);
    if (got < (long)sizeof h)
        return hwi_seterr(s->err, "%s: truncated header (%ld of %d bytes)", name, got,
                          HWI_STREAM_HEADER_SIZE);
    uint32_t version = get_u16(h + 4), hsize = get_u16(h + 6);
    s->dim = get_u32(h + 8);
    s->flags = get_u32(h + 12);
    s->count = get_u64(h + 16);
    if (version != HWI_STREAM_VERSION)
        return hwi_seterr(s->err, "%s: stream version %u, this hwi reads version %d", name,
                          version, HWI_STREAM_VERSION);
    if (hsize != HWI_STREAM_HEADER_SIZE)
        return hwi_seterr(s->err, "%s: bad header size %u", name, hsize);
    if (s->dim == 0 || s->dim > HWI_STREAM_MAXDIM)
        return hwi_seterr(s->err, "%s: bad dimension %u", name, s->dim);
    if (s->flags & ~(HWI_STREAM_KEYED | HWI_STREAM_NAMED))
        return hwi_seterr(s->err, "%s: unknown flags 0x%x", name, s->flags);
    if (get_u64(h + 24) != 0)
        return hwi_seterr(s->err, "%s: reserved header field is not zero", name);
    if (alloc_buffers(s))
        return -1;
    if (s->flags & HWI_STREAM_NAMED) {
        if (!(s->names = calloc(s->dim, sizeof *s->names)))
            return hwi_seterr(s->err, "%s: out of memory", name);
        for (uint32_t i = 0; i < s->dim; i++) {
            size_t cap = 0;
            int rc = read_text(s, &s->names[i], &cap, "column name", i + 1ull);
            if (rc == 0)
                return hwi_seterr(s->err, "%s: truncated column names (%u of %u)", name, i,
                                  s->dim);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

int hwi_stream_open_path(struct hwi_stream *s, const char *path, int need_keys)
{
    int stdin_ = !path || strcmp(path, "-") == 0;
    const char *name = stdin_ ? "(stdin)" : path;
    FILE *fp = stdin_ ? stdin : fopen(path, "rb");
    if (!fp) {
        int e = errno;
        memset(s, 0, sizeof *s);
        return hwi_seterr(s->err, "%s: %s", path, strerror(e));
    }
    int rc = hwi_stream_open_read(s, fp, name);
    s->own_fp = !stdin_;
    if (rc == 0 && need_keys && !(s->flags & HWI_STREAM_KEYED))
        rc = hwi_seterr(s->err, "%s: records have no keys (image names)", name);
    return rc;
}

int hwi_stream_read(struct hwi_stream *s)
{
    unsigned long long rec = (unsigned long long)s->nrec + 1;
    int at_start = 1; /* nothing of this record read yet */
    if (s->flags & HWI_STREAM_KEYED) {
        int rc = read_text(s, &s->key, &s->keycap, "record", rec);
        if (rc < 0)
            return -1;
        at_start = rc == 0;
    }
    size_t nbytes = (size_t)s->dim * 4;
    long got = read_full(s->fp, s->raw, nbytes);
    if (got < 0)
        return hwi_seterr(s->err, "%s: read error: %s", s->name, strerror(errno));
    if (got == 0 && at_start) {
        if (s->count && s->nrec != s->count)
            return hwi_seterr(s->err, "%s: header announces %llu records, stream has %llu",
                              s->name, (unsigned long long)s->count,
                              (unsigned long long)s->nrec);
        return 0;
    }
    if ((size_t)got < nbytes)
        return hwi_seterr(
            s->err, "%s: record %llu%s%s%s: truncated (%ld of %zu bytes of values)", s->name,
            rec, *s->key ? " (key '" : "", s->key, *s->key ? "')" : "", got, nbytes);
    for (uint32_t i = 0; i < s->dim; i++) {
        uint32_t bits = get_u32(s->raw + 4 * (size_t)i);
        float v;
        memcpy(&v, &bits, 4);
        /* test the exponent bits: isfinite may be folded away by fast-math */
        if ((bits & 0x7f800000u) == 0x7f800000u)
            return hwi_seterr(s->err, "%s: record %llu%s%s%s: value %u is %s", s->name, rec,
                              *s->key ? " (key '" : "", s->key, *s->key ? "')" : "", i + 1,
                              bits & 0x007fffffu ? "NaN" : "infinite");
        s->vec[i] = v;
    }
    if (s->count && s->nrec == s->count)
        return hwi_seterr(s->err, "%s: record %llu: more records than the %llu announced",
                          s->name, rec, (unsigned long long)s->count);
    s->nrec++;
    return 1;
}

static int write_text(struct hwi_stream *s, const char *p)
{
    unsigned char lenb[4];
    size_t len = strlen(p);
    put_u32(lenb, (uint32_t)len);
    if (fwrite(lenb, 1, 4, s->fp) != 4 || fwrite(p, 1, len, s->fp) != len)
        return hwi_seterr(s->err, "%s: write error: %s", s->name, strerror(errno));
    return 0;
}

int hwi_stream_open_write(struct hwi_stream *s, FILE *fp, const char *name, uint32_t dim,
                          uint32_t flags, char *const *names, uint64_t count)
{
    memset(s, 0, sizeof *s);
    s->fp = fp;
    s->name = name;
    s->dim = dim;
    s->flags = (flags & HWI_STREAM_KEYED) | (names ? HWI_STREAM_NAMED : 0);
    s->count = count;
    if (dim == 0 || dim > HWI_STREAM_MAXDIM)
        return hwi_seterr(s->err, "%s: bad dimension %u", name, dim);
    if (names)
        for (uint32_t i = 0; i < dim; i++)
            if (!names[i] || !text_ok(names[i], strlen(names[i])))
                return hwi_seterr(s->err, "%s: bad column name %u", name, i + 1);
    unsigned char h[HWI_STREAM_HEADER_SIZE] = {0};
    memcpy(h, HWI_STREAM_MAGIC, 4);
    put_u16(h + 4, HWI_STREAM_VERSION);
    put_u16(h + 6, HWI_STREAM_HEADER_SIZE);
    put_u32(h + 8, dim);
    put_u32(h + 12, s->flags);
    put_u64(h + 16, count);
    if (fwrite(h, 1, sizeof h, fp) != sizeof h)
        return hwi_seterr(s->err, "%s: write error: %s", name, strerror(errno));
    if (names)
        for (uint32_t i = 0; i < dim; i++)
            if (write_text(s, names[i]))
                return -1;
    if (!(s->raw = malloc((size_t)dim * 4)))
        return hwi_seterr(s->err, "%s: out of memory", name);
    return 0;
}

int hwi_stream_write(struct hwi_stream *s, const char *key, const float *vec)
{
    unsigned long long rec = (unsigned long long)s->nrec + 1;
    if ((s->flags & HWI_STREAM_KEYED) && (!key || !text_ok(key, strlen(key))))
        return hwi_seterr(
            s->err, "%s: record %llu: bad key (empty, too long, or holds TAB or a line break)",
            s->name, rec);
    if (s->count && s->nrec == s->count)
        return hwi_seterr(s->err, "%s: record %llu: more records than the %llu announced",
                          s->name, rec, (unsigned long long)s->count);
    for (uint32_t i = 0; i < s->dim; i++) {
        uint32_t bits;
        memcpy(&bits, &vec[i], 4);
        if ((bits & 0x7f800000u) == 0x7f800000u)
            return hwi_seterr(s->err, "%s: record %llu%s%s%s: value %u is not finite", s->name,
                              rec, key ? " (key '" : "", key ? key : "", key ? "')" : "",
                              i + 1);
        put_u32(s->raw + 4 * (size_t)i, bits);
    }
    if ((s->flags & HWI_STREAM_KEYED) && write_text(s, key))
        return -1;
    size_t nbytes = (size_t)s->dim * 4;
    if (fwrite(s->raw, 1, nbytes, s->fp) != nbytes)
        return hwi_seterr(s->err, "%s: write error: %s", s->name, strerror(errno));
    s->nrec++;
    return 0;
}

int hwi_stream_finish(struct hwi_stream *s)
{
    if (fflush(s->fp) != 0 || ferror(s->fp))
        return hwi_seterr(s->err, "%s: write error: %s", s->name, strerror(errno));
    if (s->count && s->nrec != s->count)
        return hwi_seterr(s->err, "%s: header announced %llu records, %llu written", s->name,
                          (unsigned long long)s->count, (unsigned long long)s->nrec);
    return 0;
}

void hwi_stream_close(struct hwi_stream *s)
{
    if (s->names)
        for (uint32_t i = 0; i < s->dim; i++)
            free(s->names[i]);
    free(s->names);
    free(s->key);
    free(s->vec);
    free(s->raw);
    if (s->own_fp && s->fp)
        fclose(s->fp);
    s->fp = NULL;
    s->own_fp = 0;
    s->names = NULL;
    s->key = NULL;
    s->vec = NULL;
    s->raw = NULL;
}
