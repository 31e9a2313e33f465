/* test_file_map.c — a mapped input file (src/source/file_map.c): its bytes, the page
 * of zeros after them, pages given back and read again, and a file truncated under
 * the mapping, which reads as zeros from the cut page on instead of killing the
 * process with SIGBUS, while a SIGBUS anywhere else still reaches the handler that
 * was there before. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "source/file_map.h"

static size_t ps;
static char path[64];

/* A file of n bytes, byte i = (i * 7 + i / 251) & 0xFF (no zero run to mistake for
 * the zeros after it); its descriptor, open for reading and writing. */
static int make_file(size_t n) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (char)((i * 7 + i / 251) | 1);
    CHECK_EQ_INT(write(fd, b, n), (long long)n);
    free(b);
    return fd;
}

static bool byte_ok(const char *d, size_t i) { return d[i] == (char)((i * 7 + i / 251) | 1); }

static sigjmp_buf escape;
static volatile sig_atomic_t earlier_handler_ran;
static void earlier_handler(int sig) {
    (void)sig;
    earlier_handler_ran = 1;
    siglongjmp(escape, 1);
}

/* First, while the handler installed before any map is this test's: a SIGBUS in a
 * mapping file_map did not make goes on to it. */
TEST(other_sigbus_passes_on) {
    struct sigaction sa = {.sa_handler = earlier_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    int fd = make_file(3 * ps);
    struct ss_file_map *m = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_file_map_open(&m, fd, 3 * ps, &err), SS_OK); /* installs file_map's handler */
    char *plain = mmap(NULL, 3 * ps, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(plain != MAP_FAILED);
    CHECK(ftruncate(fd, ps) == 0);
    volatile char c = 0;
    if (sigsetjmp(escape, 1) == 0) c = plain[2 * ps];
    (void)c;
    CHECK_EQ_INT(earlier_handler_ran, 1);
    size_t at = 0;
    CHECK(!ss_file_map_cut_short(m, &at)); /* nothing of it was read past the new end */
    CHECK_EQ_INT(ss_file_map_data(m)[2 * ps + 1], 0);
    CHECK(ss_file_map_cut_short(m, &at));
    CHECK_EQ_INT(at, 2 * ps);
    CHECK_EQ_INT(earlier_handler_ran, 1); /* and not again */
    munmap(plain, 3 * ps);
    ss_file_map_close(m);
    close(fd);
}

TEST(bytes_then_zeros) {
    size_t n = 5 * ps + 123;
    int fd = make_file(n);
    struct ss_file_map *m = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_file_map_open(&m, fd, n, &err), SS_OK);
    close(fd); /* the mapping outlives the descriptor */
    const char *d = ss_file_map_data(m);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !byte_ok(d, i);
    for (size_t i = n; i < 7 * ps; i++) bad += d[i] != 0; /* the last page's rest and the page after */
    CHECK_EQ_INT(bad, 0);
    size_t at;
    CHECK(!ss_file_map_cut_short(m, &at));
    ss_file_map_close(m);
}

/* Pages given back are read again from the file, unchanged. */
TEST(done_pages_read_again) {
    size_t n = (40u << 20) + 5;
    int fd = make_file(n);
    struct ss_file_map *m = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_file_map_open(&m, fd, n, &err), SS_OK);
    close(fd);
    const char *d = ss_file_map_data(m);
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 4093) bad += !byte_ok(d, i);
    ss_file_map_done_before(m, (33u << 20) + 17);
    for (size_t i = 0; i < n; i += 4093) bad += !byte_ok(d, i);
    CHECK_EQ_INT(bad, 0);
    ss_file_map_close(m);
}

/* Truncated to a page and 10 bytes: the rest of that page reads as zeros (the kernel's
 * doing), the next page raises SIGBUS, which puts zeros from there on and marks the
 * map cut short at that page. */
TEST(truncated_reads_zeros) {
    int fd = make_file(4 * ps);
    struct ss_file_map *m = NULL;
    struct ss_err err = {0};
    CHECK_EQ_INT(ss_file_map_open(&m, fd, 4 * ps, &err), SS_OK);
    const char *d = ss_file_map_data(m);
    CHECK(byte_ok(d, 3 * ps)); /* mapped in before the cut */
    CHECK(ftruncate(fd, ps + 10) == 0);
    size_t at = 0;
    CHECK(!ss_file_map_cut_short(m, &at));
    CHECK(byte_ok(d, ps + 9));
    CHECK_EQ_INT(d[ps + 10], 0);
    CHECK_EQ_INT(d[2 * ps + 7], 0);
    CHECK_EQ_INT(d[4 * ps - 1], 0);
    CHECK(ss_file_map_cut_short(m, &at));
    CHECK_EQ_INT(at, 2 * ps);
    CHECK(byte_ok(d, 0) && byte_ok(d, ps - 1));
    ss_file_map_close(m);
    close(fd);
}

int main(void) {
    ps = (size_t)sysconf(_SC_PAGESIZE);
    snprintf(path, sizeof path, "/tmp/ss_test_file_map_%d", (int)getpid());
    RUN(other_sigbus_passes_on);
    RUN(bytes_then_zeros);
    RUN(done_pages_read_again);
    RUN(truncated_reads_zeros);
    unlink(path);
    return ss_t_report("file_map");
}
