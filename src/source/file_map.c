/* file_map.c — see file_map.h. The SIGBUS handler runs on whichever thread touched a
 * truncated page (the decoding thread cutting lines, the engine's decoding a record),
 * so the maps it looks at live in a fixed table of atomics, read without a lock; a
 * mutex only orders the threads that add and remove maps. mmap is not on POSIX's list
 * of async-signal-safe functions but is a plain system call on Linux, which is what
 * makes replacing the pages from the handler work (the faulting load then runs again
 * and reads a zero). */
#include "file_map.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/alloc.h"

#define MAX_MAPS 64
#define DONE_STEP ((size_t)16 << 20) /* pages given back 16 MiB at a time */

struct guard {
    _Atomic uintptr_t base; /* 0: a free slot */
    _Atomic size_t len;     /* the file's bytes, page-rounded (the zero page after is not ours to replace) */
    _Atomic size_t cut_at;  /* SIZE_MAX, or where the zeros put over a truncated end begin */
};

static struct guard guards[MAX_MAPS];
static pthread_mutex_t guards_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous;
static bool handler_installed;

struct ss_file_map {
    char *data;
    size_t span;     /* mapped: page-rounded size plus the zero page */
    size_t done;     /* pages before this were given back */
    int slot;
};

static size_t page_size(void) {
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static void pass_on(int sig, siginfo_t *si, void *uctx) {
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) previous.sa_sigaction(sig, si, uctx);
        return;
    }
    if (previous.sa_handler == SIG_IGN) return;
    if (previous.sa_handler != SIG_DFL) {
        previous.sa_handler(sig);
        return;
    }
    /* the default action: the faulting load runs again and the process dies of it */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (si->si_code <= 0) raise(sig);
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx) {
    uintptr_t a = (uintptr_t)si->si_addr;
    if (si->si_code > 0) {
        for (int i = 0; i < MAX_MAPS; i++) {
            uintptr_t base = atomic_load(&guards[i].base);
            size_t len = atomic_load(&guards[i].len);
            if (!base || a - base >= len) continue;
            uintptr_t from = a & ~(uintptr_t)(page_size() - 1);
            void *z = mmap((void *)from, base + len - from, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (z == MAP_FAILED) break;
            atomic_store(&guards[i].cut_at, (size_t)(from - base));
            return;
        }
    }
    pass_on(sig, si, uctx);
}

/* A slot for [base, base + len), the handler installed with the first; -1 when full. */
static int guard_add(char *base, size_t len) {
    pthread_mutex_lock(&guards_lock);
    int slot = -1;
    for (int i = 0; i < MAX_MAPS && slot < 0; i++)
        if (!atomic_load(&guards[i].base)) slot = i;
    if (slot >= 0) {
        if (!handler_installed) {
            struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_ONSTACK};
            sigemptyset(&sa.sa_mask);
            sigaction(SIGBUS, &sa, &previous);
            handler_installed = true;
        }
        atomic_store(&guards[slot].cut_at, SIZE_MAX);
        atomic_store(&guards[slot].len, len);
        atomic_store(&guards[slot].base, (uintptr_t)base);
    }
    pthread_mutex_unlock(&guards_lock);
    return slot;
}

static void guard_remove(int slot) {
    pthread_mutex_lock(&guards_lock);
    atomic_store(&guards[slot].base, (uintptr_t)0);
    pthread_mutex_unlock(&guards_lock);
}

int ss_file_map_open(struct ss_file_map **out, int fd, size_t size, struct ss_err *err) {
    size_t ps = page_size(), len = (size + ps - 1) / ps * ps, span = len + ps;
    if (size == 0 || span < size) return ss_err_set(err, SS_ERROR, "nothing to map");
    /* the zero page first, over the whole span, then the file over all but its last page */
    char *m = mmap(NULL, span, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return ss_err_set(err, SS_ERROR, "cannot reserve %zu bytes of address space", span);
    int slot = guard_add(m, len);
    if (slot < 0) {
        munmap(m, span);
        return ss_err_set(err, SS_ERROR, "more than %d files mapped at once", MAX_MAPS);
    }
    if (mmap(m, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        guard_remove(slot);
        munmap(m, span);
        return ss_err_set(err, SS_ERROR, "cannot map the file");
    }
    madvise(m, len, MADV_SEQUENTIAL);
    struct ss_file_map *fm = ss_calloc(1, sizeof *fm);
    *fm = (struct ss_file_map){m, span, 0, slot};
    *out = fm;
    return SS_OK;
}

const char *ss_file_map_data(const struct ss_file_map *m) { return m->data; }

bool ss_file_map_cut_short(const struct ss_file_map *m, size_t *at) {
    size_t c = atomic_load(&guards[m->slot].cut_at);
    if (c == SIZE_MAX) return false;
    *at = c;
    return true;
}

void ss_file_map_done_before(struct ss_file_map *m, size_t off) {
    size_t to = off / DONE_STEP * DONE_STEP;
    if (to <= m->done) return;
    madvise(m->data + m->done, to - m->done, MADV_DONTNEED);
    m->done = to;
}

void ss_file_map_close(struct ss_file_map *m) {
    if (!m) return;
    guard_remove(m->slot);
    munmap(m->data, m->span);
    ss_free(m);
}
