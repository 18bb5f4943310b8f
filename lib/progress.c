/* progress.c: the progress line (see progress.h). */
#include <config.h>

#include "progress.h"

#include "err.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double hwi_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double hwi_progress_cpu(int thread)
{
    struct timespec ts;
    if (clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts))
        return 0;
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *hwi_progress_duration(double seconds, char *buf)
{
    if (!(seconds >= 0) || seconds > 1e8)
        seconds = 0;
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, 32, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, 32, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

void hwi_progress_start(struct hwi_progress *p, const char *what, uint64_t total, int quiet)
{
    p->on = !quiet && isatty(STDERR_FILENO);
    p->drawn = 0;
    p->what = what;
    p->total = total;
    p->first = 0;
    p->have_first = 0;
    p->t0 = hwi_progress_now();
    p->last = 0;
}

void hwi_progress_show(struct hwi_progress *p, uint64_t done, const char *extra)
{
    if (!p->have_first) {
        p->first = done;
        p->have_first = 1;
    }
    if (!p->on)
        return;
    double t = hwi_progress_now();
    if (t - p->last < 0.2 && !(p->total && done >= p->total))
        return;
    p->last = t;
    double el = t - p->t0, rate = el > 0 ? (double)(done - p->first) / el : 0;
    char e[32], eta[32];
    fprintf(stderr, "\r%s: %llu", hwi_program_name, (unsigned long long)done);
    if (p->total)
        fprintf(stderr, " of %llu %s (%d%%)", (unsigned long long)p->total, p->what,
                (int)(100.0 * (double)done / (double)p->total));
    else
        fprintf(stderr, " %s, %.1f/s", p->what, rate);
    fprintf(stderr, "  elapsed %s", hwi_progress_duration(el, e));
    if (p->total && rate > 0 && done < p->total)
        fprintf(stderr, "  ETA %s",
                hwi_progress_duration((double)(p->total - done) / rate, eta));
    if (extra)
        fprintf(stderr, "  %s", extra);
    fputs("\033[K", stderr); /* clear what a longer line left */
    p->drawn = 1;
}

void hwi_progress_clear(struct hwi_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        p->drawn = 0;
        p->last = 0;
    }
}

void hwi_progress_end(struct hwi_progress *p)
{
    if (p->on && p->drawn)
        fputc('\n', stderr);
    p->drawn = 0;
}
