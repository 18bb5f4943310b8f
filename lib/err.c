/* err.c: diagnostics, error buffers, stdout closing and all-or-nothing
 * output files.  See err.h for the contracts. */
#include <config.h>

#include "err.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *hwi_program_name = "hwi";

/* Temporary files to remove if the program dies; few are open at once. */
#define MAX_PENDING 64
static struct hwi_outfile *pending[MAX_PENDING];

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

static void remove_pending(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i])
            hwi_outfile_abort(pending[i]);
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
}

_Noreturn void hwi_try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", hwi_program_name);
    exit(HWI_EXIT_USAGE);
}

static void track(struct hwi_outfile *out, int on)
{
    for (int i = 0; i < MAX_PENDING; i++) {
        if (on && !pending[i]) {
            pending[i] = out;
            return;
        }
        if (!on && pending[i] == out) {
            pending[i] = NULL;
            return;
        }
    }
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
        return hwi_seterr(err, "out of memory");
    }
    /* same directory as PATH, so rename() is atomic */
    snprintf(out->tmp, n + 16, "%s.tmpXXXXXX", out->path);
    int fd = mkstemp(out->tmp);
    if (fd < 0 || !(out->fp = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(out->tmp);
        }
        free(out->path);
        free(out->tmp);
        memset(out, 0, sizeof *out);
        return hwi_seterr(err, "%s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    track(out, 1);
    return 0;
}

int hwi_outfile_commit(struct hwi_outfile *out, char *err)
{
    if (!out->tmp) { /* stdout, or a file written in place */
        int bad = fflush(out->fp) != 0 || ferror(out->fp);
        int e = errno;
        if (out->path && fclose(out->fp) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad && out->path)
            hwi_seterr(err, "%s: write error: %s", out->path, strerror(e));
        else if (bad)
            hwi_seterr(err, "write error: %s", strerror(e));
        if (out->path) {
            free(out->path);
            memset(out, 0, sizeof *out);
        }
        return bad ? -1 : 0;
    }
    int bad = ferror(out->fp) != 0;
    int e = 0;
    if (fclose(out->fp) != 0 || bad) {
        e = errno;
        bad = 1;
    }
    out->fp = NULL;
    if (!bad && rename(out->tmp, out->path) != 0) {
        e = errno;
        bad = 1;
    }
    if (bad) {
        hwi_seterr(err, "%s: write error: %s", out->path, e ? strerror(e) : "I/O error");
        hwi_outfile_abort(out);
        return -1;
    }
    track(out, 0);
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
    return 0;
}

void hwi_outfile_abort(struct hwi_outfile *out)
{
    if (!out->tmp) {
        if (out->path) { /* written in place: nothing to remove */
            fclose(out->fp);
            free(out->path);
            memset(out, 0, sizeof *out);
        }
        return;
    }
    if (out->fp)
        fclose(out->fp);
    unlink(out->tmp);
    track(out, 0);
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
}
