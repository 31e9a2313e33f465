/* fdio.h — whole writes to a file descriptor. write(2) may write less than asked (a
 * signal, a pipe, a full disk part way) and fail with EINTR: every writer of files and
 * pipes here wants all of its bytes written or an errno to report. */
#ifndef SS_FDIO_H
#define SS_FDIO_H

#include <stddef.h>

/* Writes all n bytes of p to fd, again after a short write or EINTR. 0, or -1 with errno
 * set by the write that failed (ENOSPC, EPIPE, ...; 0 bytes written counts as EIO). */
int ss_write_all(int fd, const void *p, size_t n);

#endif
