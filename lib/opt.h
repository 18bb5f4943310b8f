/* opt.h: strict parsing of numbers in options and data fields.
 *
 * strtol/strtod with the checks they leave to the caller: the whole string
 * must be a number (no leading blank, no trailing text), in range, not
 * ERANGE, and for doubles finite. */
#ifndef HWI_OPT_H
#define HWI_OPT_H

#include <stddef.h>

/* Parse S as a base-10 integer in [MIN, MAX].  Returns 0, or -1. */
int hwi_parse_long(const char *s, long min, long max, long *out);

/* Parse S as a finite double in [MIN, MAX].  Returns 0, or -1. */
int hwi_parse_double(const char *s, double min, double max, double *out);

/* Parse a grid of doubles: "v1,v2,..." or "start:stop:step" (stop included
 * within half a step).  Each value must lie in [MIN, MAX].  Stores a malloc'd
 * array in *OUT and its length (at least 1) in *N.  Returns 0, or -1 with a
 * message in ERR (HWI_ERRLEN bytes). */
int hwi_parse_grid(const char *s, double min, double max, double **out, size_t *n, char *err);

/* For programs: parse option OPT's argument ARG or exit 2 with
 * "PROGRAM: invalid value 'ARG' for --OPT: expected ...". */
long hwi_opt_long(const char *opt, const char *arg, long min, long max);
double hwi_opt_double(const char *opt, const char *arg, double min, double max);

#endif /* HWI_OPT_H */
