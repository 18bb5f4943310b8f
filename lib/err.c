/* err.c: diagnostics, error buffers, stdout closing and all-or-nothing
 * output files.  See err.h for the contracts. */
#include <config.h>

#include "err.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *hwi_program_name = "hwi";

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
static const int caught[] = {SIGHUP, SIGINT,  SIGQUIT, SIGPIPE,
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

void hwi_set_program_name(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    hwi_program_name = slash ? slash + 1 : (argv0 ? argv0 : "hwi");
    /* libtool wrappers run the real binary as lt-NAME */
    if (strncmp(hwi_program_name, "lt-", 3) == 0)
        hwi_program_name += 3;
}

void hwi_program_init(const char *argv0)
{
    hwi_set_program_name(argv0);
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    atexit(hwi_close_stdout);
}

static void vwarn(const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", hwi_program_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void hwi_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

/* Before _exit: unlink the temporaries (their streams die with us). */
static void remove_pending(void)
{
    cs_enter();
    unlink_pending();
    memset(pending, 0, sizeof pending);
    cs_leave();
}

_Noreturn void hwi_die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    remove_pending();
    /* _exit: skip atexit handlers, and so LeakSanitizer's report of what a
     * dying program still holds; stdout's data are moot after an error. */
    fflush(stdout);
    _exit(status);
}

int hwi_seterr(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, HWI_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void hwi_close_stdout(void)
{
    int bad = ferror(stdout) != 0;
    int saved = 0;
    if (fclose(stdout) != 0) {
        bad = 1;
        saved = errno;
    }
    /* EBADF: stdout was already closed; not this program's write error. */
    if (bad && saved != EBADF) {
        if (saved)
            fprintf(stderr, "%s: write error: %s\n", hwi_program_name, strerror(saved));
        else
            fprintf(stderr, "%s: write error\n", hwi_program_name);
        remove_pending();
        _exit(HWI_EXIT_FAIL);
    }
}

void hwi_print_version(void)
{
    printf("%s (%s) %s\n", hwi_program_name, PACKAGE_NAME, PACKAGE_VERSION);
    fputs("Copyright (C) 2026 the hwi authors.\n"
          "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
          "This is free software: you are free to change and redistribute it.\n"
          "There is NO WARRANTY, to the extent permitted by law.\n",
          stdout);
}

_Noreturn void hwi_try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", hwi_program_name);
    exit(HWI_EXIT_USAGE);
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

void *hwi_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return p;
}

void *hwi_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return p;
}

char *hwi_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return d;
}

char *hwi_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return s;
}
