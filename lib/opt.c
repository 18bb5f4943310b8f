/* opt.c: strict number parsing for options and data fields (see opt.h). */
#include <config.h>

#include "opt.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hwi_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int hwi_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) > 1.0) /* overflow; underflow to ~0 is fine */
        return -1;
    if (*end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int hwi_parse_grid(const char *s, double min, double max, double **out, size_t *n, char *err)
{
    *out = NULL;
    *n = 0;
    if (!s || !*s)
        return hwi_seterr(err, "empty grid");
    char *copy = strdup(s);
    if (!copy)
        return hwi_seterr(err, "out of memory");
    double *v = NULL;
    size_t nv = 0;
    int rc = -1;

    if (strchr(copy, ':')) {
        char *f[3];
        int nf = 0;
        for (char *p = copy, *tok; nf < 4 && (tok = strsep(&p, ":")); nf++)
            if (nf < 3)
                f[nf] = tok;
        double a, b, step;
        if (nf != 3 || hwi_parse_double(f[0], -INFINITY, INFINITY, &a) ||
            hwi_parse_double(f[1], -INFINITY, INFINITY, &b) ||
            hwi_parse_double(f[2], 0, INFINITY, &step) || step <= 0) {
            hwi_seterr(err, "bad grid '%s': expected START:STOP:STEP with STEP > 0", s);
            goto out;
        }
        if (a < min || a > max || b < min || b > max) {
            hwi_seterr(err, "bad grid '%s': START and STOP must lie in %g to %g", s, min, max);
            goto out;
        }
        if (b < a) {
            hwi_seterr(err, "empty grid '%s': STOP is below START", s);
            goto out;
        }
        double count = floor((b - a) / step + 0.5) + 1;
        if (count > 1e6) {
            hwi_seterr(err, "grid '%s' has more than a million values", s);
            goto out;
        }
        nv = (size_t)count;
        if (!(v = malloc(nv * sizeof *v))) {
            hwi_seterr(err, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < nv; i++)
            v[i] = fmin(a + (double)i * step, b);
    } else {
        size_t cap = 1;
        for (const char *p = copy; *p; p++)
            cap += *p == ',';
        if (!(v = malloc(cap * sizeof *v))) {
            hwi_seterr(err, "out of memory");
            goto out;
        }
        for (char *p = copy, *tok; (tok = strsep(&p, ","));) {
            if (hwi_parse_double(tok, min, max, &v[nv])) {
                hwi_seterr(err, "bad grid value '%s' in '%s' (range %g to %g)", tok, s, min,
                           max);
                goto out;
            }
            nv++;
        }
    }
    *out = v;
    *n = nv;
    v = NULL;
    rc = 0;
out:
    free(v);
    free(copy);
    return rc;
}

long hwi_opt_long(const char *opt, const char *arg, long min, long max)
{
    long v;
    if (hwi_parse_long(arg, min, max, &v)) {
        hwi_warn("invalid value '%s' for --%s: expected an integer from %ld to %ld", arg, opt,
                 min, max);
        hwi_try_help();
    }
    return v;
}

double hwi_opt_double(const char *opt, const char *arg, double min, double max)
{
    double v;
    if (hwi_parse_double(arg, min, max, &v)) {
        hwi_warn("invalid value '%s' for --%s: expected a number from %g to %g", arg, opt, min,
                 max);
        hwi_try_help();
    }
    return v;
}
