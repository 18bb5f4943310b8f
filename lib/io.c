/* io.c: inputs, the line reader, all-or-nothing output files and the
 * temporary files the fatal signals remove.  See io.h for the contracts. */
#include <config.h>

#include "io.h"

#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *hwi_fopen_in(const char *path, char *err)
{
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        hwi_seterr(err, "%s: %s", path, strerror(errno));
    return fp;
}

void hwi_fclose_in(FILE *fp)
{
    if (fp && fp != stdin)
        fclose(fp);
}

const char *hwi_file_name(const char *path)
{
    return path && strcmp(path, "-") ? path : "(stdin)";
}

int hwi_read_line(FILE *fp, char **buf, size_t *cap, size_t *len, const char *name, long *line,
                  char *err)
{
    /* getc, not getline: a NUL byte (/dev/zero, a binary file) stops the
     * read at once instead of after the whole "line", and no line grows
     * past HWI_LINE_MAX */
    size_t n = 0;
    int c = EOF;
    errno = 0;
    flockfile(fp);
    while ((c = getc_unlocked(fp)) != EOF) {
        if (c == 0) {
            funlockfile(fp);
            return hwi_seterr(err, "%s:%ld: NUL byte in line", name, *line + 1);
        }
        if (n + 2 > *cap) {
            if (n + 2 > HWI_LINE_MAX) {
                funlockfile(fp);
                return hwi_seterr(err, "%s:%ld: line longer than %d bytes", name, *line + 1,
                                  HWI_LINE_MAX);
            }
            size_t nc = *cap < 256 ? 256 : 2 * *cap;
            char *p = realloc(*buf, nc);
            if (!p) {
                funlockfile(fp);
                return hwi_seterr(err, "%s:%ld: out of memory", name, *line + 1);
            }
            *buf = p;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    funlockfile(fp);
    if (n == 0) {
        if (ferror(fp))
            return hwi_seterr(err, "%s:%ld: read error: %s", name, *line + 1, strerror(errno));
        return 0;
    }
    ++*line;
    (*buf)[n] = 0;
    if ((*buf)[n - 1] == '\n')
        (*buf)[--n] = 0;
    if (n && (*buf)[n - 1] == '\r')
        (*buf)[--n] = 0;
    *len = n;
    return 1;
}

int hwi_copy_file(const char *src, FILE *out, char *err)
{
    FILE *in = hwi_fopen_in(src, err);
    if (!in)
        return -1;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    int bad = ferror(in);
    fclose(in);
    return bad ? hwi_seterr(err, "%s: read error", src) : 0;
}

/* Temporary files to remove if the program dies: by hwi_die, or by one of
 * the signals in caught[], whose handler unlinks them and then re-raises the
 * signal with its default action, so the parent still sees death by that
 * signal (coreutils' sort does the same).  The table holds the names, which
 * their owners keep allocated until they take them out again.
 *
 * A spin lock guards the table.  Threads wait for it (crop workers save
 * images at once); the handler only tries it: a signal that finds it held
 * is left in cs_deferred, and whoever leaves the lock next acts on it.  With
 * sequentially consistent atomics one of the two always sees the other:
 * the handler stores cs_deferred before trying the lock, cs_leave releases
 * the lock before reading cs_deferred.  Every mkstemp, every change to the
 * table and every rename of a registered file happens with the lock held,
 * so a signal never lands between creating a temporary and registering it,
 * nor between the renames of one hwi_outfile_commit_all. */
#define MAX_PENDING 256
static const char *pending[MAX_PENDING];
static atomic_int cs_lock, cs_deferred;
static int handlers_installed;
static const int caught[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE,
                             SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ};

/* Unlink every registered name: async-signal-safe.  Lock held. */
static void unlink_pending(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i])
            unlink(pending[i]);
}

/* Remove the temporaries and die by SIG with its default action.  Lock
 * held.  Called from the handler, the signal is blocked until the handler
 * returns, and then kills the process. */
static void die_by(int sig)
{
    unlink_pending();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
}

static void on_signal(int sig)
{
    int saved = errno;
    atomic_store(&cs_deferred, sig);
    if (atomic_exchange(&cs_lock, 1) == 0)
        die_by(sig); /* else the holder acts on it in cs_leave */
    errno = saved;
}

static void cs_enter(void)
{
    while (atomic_exchange(&cs_lock, 1))
        sched_yield();
}

static void cs_leave(void)
{
    atomic_store(&cs_lock, 0);
    int sig = atomic_load(&cs_deferred);
    if (sig && atomic_exchange(&cs_lock, 1) == 0) {
        die_by(sig);
        /* still alive: SIG is blocked in this thread */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        _exit(128 + sig);
    }
}

/* Catch the signals whose default action is to terminate, unless the
 * program ignores one (nohup's SIGHUP, a parent's SIGPIPE) or handles it
 * itself.  Lock held. */
static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof caught / sizeof *caught; i++)
        sigaddset(&sa.sa_mask, caught[i]);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) {
        struct sigaction old;
        if (sigaction(caught[i], NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL)
            sigaction(caught[i], &sa, NULL);
    }
    handlers_installed = 1;
}

/* Add NAME to the table (ON) or take it out.  Lock held.  Returns -1 when
 * the table is full. */
static int track(const char *name, int on)
{
    if (on && !handlers_installed)
        install_handlers();
    for (int i = 0; i < MAX_PENDING; i++) {
        if (on && !pending[i]) {
            pending[i] = name;
            return 0;
        }
        if (!on && pending[i] == name) {
            pending[i] = NULL;
            return 0;
        }
    }
    return -1;
}

/* Before _exit: unlink the temporaries (their streams die with us). */
void hwi_tmp_remove_all(void)
{
    cs_enter();
    unlink_pending();
    memset(pending, 0, sizeof pending);
    cs_leave();
}

int hwi_tmp_add(const char *name, char *err)
{
    cs_enter();
    int rc = track(name, 1);
    cs_leave();
    return rc ? hwi_seterr(err, "%s: too many temporary files at once", name) : 0;
}

int hwi_tmp_commit(const char *name, const char *path)
{
    cs_enter();
    int rc = rename(name, path);
    int e = errno;
    if (rc)
        unlink(name);
    track(name, 0);
    cs_leave();
    errno = e;
    return rc;
}

void hwi_tmp_remove(const char *name)
{
    cs_enter();
    unlink(name);
    track(name, 0);
    cs_leave();
}

int hwi_outfile_open(struct hwi_outfile *out, const char *path, char *err)
{
    memset(out, 0, sizeof *out);
    if (!path || strcmp(path, "-") == 0) {
        out->fp = stdout;
        return 0;
    }
    /* A device, FIFO or socket (/dev/full, /dev/stdout, a pipe) is written
     * in place: renaming a file over it would replace it. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return hwi_seterr(err, "%s: %s", path, strerror(EISDIR));
        if (!(out->path = strdup(path)))
            return hwi_seterr(err, "out of memory");
        if (!(out->fp = fopen(path, "wb"))) {
            int e = errno;
            free(out->path);
            memset(out, 0, sizeof *out);
            return hwi_seterr(err, "%s: %s", path, strerror(e));
        }
        return 0;
    }
    /* Through a symbolic link: replace its target, not the link. */
    struct stat lst;
    char *real = NULL;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        real = realpath(path, NULL);
    size_t n = strlen(real ? real : path);
    out->path = real ? real : strdup(path);
    out->tmp = malloc(n + 16);
    if (!out->path || !out->tmp) {
        free(out->path);
        free(out->tmp);
        memset(out, 0, sizeof *out);
        return hwi_seterr(err, "out of memory");
    }
    /* same directory as PATH, so rename() is atomic; created and
     * registered with no signal in between */
    snprintf(out->tmp, n + 16, "%s.tmpXXXXXX", out->path);
    cs_enter();
    int fd = mkstemp(out->tmp);
    int e = errno;
    if (fd >= 0 && track(out->tmp, 1)) {
        unlink(out->tmp);
        close(fd);
        fd = -1;
        e = EMFILE;
    }
    cs_leave();
    if (fd < 0 || !(out->fp = fdopen(fd, "wb"))) {
        if (fd >= 0) {
            e = errno;
            close(fd);
            hwi_tmp_remove(out->tmp);
        }
        free(out->path);
        free(out->tmp);
        memset(out, 0, sizeof *out);
        return hwi_seterr(err, "%s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    return 0;
}

/* Flush OUT and close it (fp is NULL after), but leave stdout, or a stream
 * the caller opened on a saved standard output (path NULL), open and as it
 * is.  Returns 0, or -1 with ERR set. */
static int finish(struct hwi_outfile *out, char *err)
{
    int bad = fflush(out->fp) != 0 || ferror(out->fp);
    int e = bad ? errno : 0;
    if (!out->path)
        return bad ? hwi_seterr(err, "write error: %s", e ? strerror(e) : "I/O error") : 0;
    if (fclose(out->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    out->fp = NULL;
    if (!bad)
        return 0;
    return hwi_seterr(err, "%s: write error: %s", out->path, e ? strerror(e) : "I/O error");
}

static void release(struct hwi_outfile *out)
{
    if (!out->path)
        return; /* stdout: nothing to free */
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
}

int hwi_outfile_commit_all(struct hwi_outfile *outs, size_t n, char *err)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (outs[i].fp && finish(&outs[i], err))
            rc = -1;
    if (rc) {
        for (size_t i = 0; i < n; i++)
            hwi_outfile_abort(&outs[i]);
        return -1;
    }
    /* all written: rename them all, no signal between two renames */
    cs_enter();
    for (size_t i = 0; i < n; i++) {
        if (!outs[i].tmp)
            continue;
        if (rc == 0 && rename(outs[i].tmp, outs[i].path) != 0)
            rc = hwi_seterr(err, "%s: cannot rename into place: %s", outs[i].path,
                            strerror(errno));
        if (rc)
            unlink(outs[i].tmp);
        track(outs[i].tmp, 0);
    }
    cs_leave();
    for (size_t i = 0; i < n; i++)
        release(&outs[i]);
    return rc;
}

int hwi_outfile_commit(struct hwi_outfile *out, char *err)
{
    return hwi_outfile_commit_all(out, 1, err);
}

void hwi_outfile_abort(struct hwi_outfile *out)
{
    if (out->fp && out->path)
        fclose(out->fp);
    if (out->tmp)
        hwi_tmp_remove(out->tmp);
    release(out);
}
