/* progress.h: the one progress line of every hwi program.
 *
 * Like err.c, this is the program side of libhwi: it writes to stderr, and
 * only when stderr is a terminal (never into a pipe or a log file) and the
 * program was not asked to be quiet.  The line is redrawn in place at most
 * five times a second:
 *
 *     hwi-crop: 1200 of 4000 images (30%)  elapsed 0:12  ETA 0:28  extra
 *
 * With an unknown total (0) it shows the count, the rate and the elapsed
 * time, and no ETA.  The ETA assumes the rate so far in this process.
 *
 * Typical use:
 *     struct hwi_progress p;
 *     hwi_progress_start(&p, "images", total, quiet);
 *     for (...) { ...; hwi_progress_show(&p, done, NULL); }
 *     hwi_progress_end(&p);
 */
#ifndef HWI_PROGRESS_H
#define HWI_PROGRESS_H

#include <stdint.h>

struct hwi_progress {
    int on;           /* drawing at all */
    int drawn;        /* a line is on the screen */
    const char *what; /* the unit counted ("images") */
    uint64_t total;   /* 0: unknown */
    uint64_t first;   /* count at the first call (a resumed run's start) */
    int have_first;
    double t0, last; /* start, last redraw (monotonic seconds) */
};

/* Monotonic seconds. */
double hwi_progress_now(void);

/* CPU seconds (user + system) of the calling thread (THREAD nonzero) or of
 * the whole process (all its threads). */
double hwi_progress_cpu(int thread);

/* Format SECONDS as H:MM:SS or M:SS into BUF (at least 32 bytes). */
char *hwi_progress_duration(double seconds, char *buf);

/* Start counting WHAT toward TOTAL (0: unknown).  QUIET or a stderr that
 * is not a terminal turns the line off. */
void hwi_progress_start(struct hwi_progress *p, const char *what, uint64_t total, int quiet);

/* DONE of the total are done; EXTRA (may be NULL) is appended.  Redraws at
 * most every 0.2 s, and always when DONE reaches the total. */
void hwi_progress_show(struct hwi_progress *p, uint64_t done, const char *extra);

/* Finish the line (a newline after the last drawing). */
void hwi_progress_end(struct hwi_progress *p);

/* Print a message on its own line (hwi_warn's format) without breaking the
 * progress line: the line is cleared first and redrawn at the next show. */
void hwi_progress_clear(struct hwi_progress *p);

#endif /* HWI_PROGRESS_H */
