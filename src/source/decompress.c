/* decompress.c — see decompress.h. zlib inflates gzip, libzstd's streaming API
 * decompresses zstd; both keep their own window, so memory stays small whatever the
 * file's size.
 *
 * A stream (a pipe: `tail -F f | shopstream run --input clicks=-`) may go quiet for
 * any time, so it is polled before each read and nothing here waits for more than
 * the caller allows: the kind is told as soon as the first bytes can tell it (one
 * byte that starts neither magic number is plain text), and decompression hands out
 * what has come out so far when the input runs dry. The caller's thread keeps its
 * own pace (epochs commit, a stop is noticed) whatever the writer does. */
#include "decompress.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../core/alloc.h"

#define IN_CAP (1u << 20)

enum kind { K_UNKNOWN, K_PLAIN, K_GZIP, K_ZSTD };

/* fill's and kind_ahead's answer when a stream has nothing more now (next to SS_OK
 * and the error codes, which are negative) */
#define AGAIN 1

struct ss_decomp {
    int fd;
    char *what;
    enum kind kind;
    unsigned char *in;       /* bytes read from fd and not yet consumed */
    size_t in_pos, in_len;
    bool in_eof;
    bool stream;             /* poll before reading (decompress.h) */
    int wait_ms;             /* how long the next poll may wait, in this read */
    bool open;               /* inside a gzip member or zstd frame */
    bool pending;            /* the decompressor filled the output: it may hold more */
    z_stream z;
    bool z_ready;
    ZSTD_DStream *zs;
    /* an error met after some bytes came out: those go first, the error at the next
     * read (and every one after) */
    bool failed;
    struct ss_err fail;
};

static const unsigned char GZIP_MAGIC[2] = {0x1f, 0x8b}, ZSTD_MAGIC[4] = {0x28, 0xb5, 0x2f, 0xfd};

struct ss_decomp *ss_decomp_new(int fd, const char *what, bool stream) {
    struct ss_decomp *d = ss_calloc(1, sizeof *d);
    d->fd = fd;
    d->stream = stream;
    d->what = ss_strdup(what);
    d->in = ss_malloc(IN_CAP);
    return d;
}

void ss_decomp_free(struct ss_decomp *d) {
    if (!d) return;
    if (d->z_ready) inflateEnd(&d->z);
    ZSTD_freeDStream(d->zs);
    ss_free(d->in);
    ss_free(d->what);
    ss_free(d);
}

const char *ss_decomp_kind(const struct ss_decomp *d) {
    return d->kind == K_GZIP ? "gzip" : d->kind == K_ZSTD ? "zstd" : "plain";
}

/* Reads what fd has, up to n bytes: the count, 0 at its end, -1 on an error (err
 * filled), or SS_DECOMP_AGAIN when a stream has nothing within the read's wait (the
 * first poll of a read may wait, the next ones only look). An fd someone else made
 * non-blocking answers EAGAIN instead of blocking: the same "nothing now". */
static ssize_t read_fd(struct ss_decomp *d, void *buf, size_t n, struct ss_err *err) {
    if (d->stream) {
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        int wait = d->wait_ms;
        d->wait_ms = 0;
        int r = poll(&p, 1, wait);
        if (r == 0 || (r < 0 && errno == EINTR)) return SS_DECOMP_AGAIN; /* EINTR: maybe a stop */
        if (r < 0) {
            ss_err_set(err, SS_EIO, "cannot poll input %s: %s", d->what, strerror(errno));
            return -1;
        }
    }
    for (;;) {
        ssize_t r = read(d->fd, buf, n);
        if (r >= 0) return r;
        if (errno == EAGAIN || errno == EWOULDBLOCK || (errno == EINTR && d->stream)) return SS_DECOMP_AGAIN;
        if (errno != EINTR) {
            ss_err_set(err, SS_EIO, "cannot read input %s: %s", d->what, strerror(errno));
            return -1;
        }
    }
}

static size_t unread(const struct ss_decomp *d) { return d->in_len - d->in_pos; }

/* Appends more of the file after the unconsumed input (moved to the front): SS_OK,
 * AGAIN (a stream has nothing now) or SS_EIO (err filled). */
static int fill(struct ss_decomp *d, struct ss_err *err) {
    if (d->in_pos > 0) {
        memmove(d->in, d->in + d->in_pos, unread(d));
        d->in_len -= d->in_pos;
        d->in_pos = 0;
    }
    if (d->in_eof || d->in_len == IN_CAP) return SS_OK;
    ssize_t r = read_fd(d, d->in + d->in_len, IN_CAP - d->in_len, err);
    if (r == SS_DECOMP_AGAIN) return AGAIN;
    if (r < 0) return SS_EIO;
    if (r == 0) d->in_eof = true;
    d->in_len += (size_t)r;
    return SS_OK;
}

/* Whether the n bytes at p begin the magic number m (of mlen bytes), or are it. */
static bool may_be(const unsigned char *p, size_t n, const unsigned char *m, size_t mlen) {
    return memcmp(p, m, n < mlen ? n : mlen) == 0;
}

bool ss_decomp_is_plain(const unsigned char *head, size_t n) {
    return !(n >= 2 && memcmp(head, GZIP_MAGIC, 2) == 0) && !(n >= 4 && memcmp(head, ZSTD_MAGIC, 4) == 0);
}

/* What starts at the unconsumed input: K_GZIP, K_ZSTD or K_PLAIN (also for fewer
 * than four bytes left at the end). Reads until the bytes tell: a whole magic number,
 * a byte no magic number has there, or the end. SS_OK, AGAIN (a stream has not sent
 * enough yet; nothing consumed) or SS_EIO. */
static int kind_ahead(struct ss_decomp *d, enum kind *kind, struct ss_err *err) {
    for (;;) {
        const unsigned char *p = d->in + d->in_pos;
        size_t n = unread(d);
        if (n >= 2 && memcmp(p, GZIP_MAGIC, 2) == 0) {
            *kind = K_GZIP;
            return SS_OK;
        }
        if (n >= 4 && memcmp(p, ZSTD_MAGIC, 4) == 0) {
            *kind = K_ZSTD;
            return SS_OK;
        }
        if (d->in_eof || (n > 0 && !may_be(p, n, GZIP_MAGIC, 2) && !may_be(p, n, ZSTD_MAGIC, 4))) {
            *kind = K_PLAIN;
            return SS_OK;
        }
        int rc = fill(d, err);
        if (rc) return rc;
    }
}

/* The first bytes tell the kind (SS_OK, AGAIN or SS_EIO). */
static int sniff(struct ss_decomp *d, struct ss_err *err) {
    int rc = kind_ahead(d, &d->kind, err);
    if (rc) return rc;
    if (d->kind == K_GZIP) {
        /* 15 + 16: a gzip wrapper (not zlib, not raw deflate), the largest window */
        if (inflateInit2(&d->z, 15 + 16) != Z_OK)
            return ss_err_set(err, SS_ERROR, "cannot start gzip decompression");
        d->z_ready = true;
    } else if (d->kind == K_ZSTD) {
        d->zs = ZSTD_createDStream();
        if (!d->zs || ZSTD_isError(ZSTD_initDStream(d->zs)))
            return ss_err_set(err, SS_ERROR, "cannot start zstd decompression");
    }
    return SS_OK;
}

/* A member or frame ended with input left: another must start right there (SS_OK,
 * AGAIN or an error). */
static int next_member(struct ss_decomp *d, struct ss_err *err) {
    enum kind next;
    int rc = kind_ahead(d, &next, err);
    if (rc) return rc;
    if (next != d->kind)
        return ss_err_set(err, SS_EIO, "%zu bytes after the end of the %s data are not %s data", unread(d),
                          ss_decomp_kind(d), ss_decomp_kind(d));
    if (d->kind == K_GZIP && inflateReset(&d->z) != Z_OK)
        return ss_err_set(err, SS_ERROR, "cannot restart gzip decompression");
    return SS_OK;
}

/* inflate_some's loop: 0, AGAIN (a stream ran dry) or -1 (err filled); *out counts
 * the bytes that came out, on an error too. Input is read only once the decompressor
 * has given out what it holds: zlib and zstd may keep output back when the buffer
 * fills, and a quiet stream would otherwise keep it until its next bytes. */
static int inflate_into(struct ss_decomp *d, char *buf, size_t cap, size_t *out, struct ss_err *err) {
    while (*out < cap) {
        if (unread(d) == 0 && !d->pending) {
            int rc = fill(d, err);
            if (rc == AGAIN) return AGAIN;
            if (rc) return -1;
            if (unread(d) == 0) { /* the file ended */
                if (d->open) {
                    ss_err_set(err, SS_EIO, "the %s data is cut short (truncated file?)", ss_decomp_kind(d));
                    return -1;
                }
                break;
            }
        }
        if (!d->open) {
            int rc = next_member(d, err);
            if (rc == AGAIN) return AGAIN;
            if (rc) return -1;
            d->open = true;
        }
        if (d->kind == K_GZIP) {
            d->z.next_in = d->in + d->in_pos;
            d->z.avail_in = (uInt)unread(d);
            d->z.next_out = (Bytef *)buf + *out;
            d->z.avail_out = (uInt)(cap - *out);
            int rc = inflate(&d->z, Z_NO_FLUSH);
            d->in_pos = d->in_len - d->z.avail_in;
            *out = cap - d->z.avail_out;
            d->pending = d->z.avail_out == 0 && rc == Z_OK;
            if (rc == Z_STREAM_END) d->open = false;
            else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                ss_err_set(err, SS_EIO, "corrupt gzip data (%s)", d->z.msg ? d->z.msg : zError(rc));
                return -1;
            }
        } else {
            ZSTD_inBuffer ib = {d->in, d->in_len, d->in_pos};
            ZSTD_outBuffer ob = {buf, cap, *out};
            size_t rc = ZSTD_decompressStream(d->zs, &ob, &ib);
            if (ZSTD_isError(rc)) {
                ss_err_set(err, SS_EIO, "corrupt zstd data (%s)", ZSTD_getErrorName(rc));
                return -1;
            }
            d->in_pos = ib.pos;
            *out = ob.pos;
            d->open = rc != 0; /* 0: a frame is complete and flushed */
            d->pending = d->open && ob.pos == ob.size;
        }
    }
    return 0;
}

/* Decompresses into buf until it is full or the input ends. On an error, the bytes
 * that came out before it, if any, and the error is kept for the next call. */
static ssize_t inflate_some(struct ss_decomp *d, char *buf, size_t cap, struct ss_err *err) {
    size_t out = 0;
    int rc = inflate_into(d, buf, cap, &out, err);
    if (rc == 0) return (ssize_t)out;
    if (rc == AGAIN) return out ? (ssize_t)out : SS_DECOMP_AGAIN;
    if (out == 0) return -1;
    d->failed = true;
    if (err) d->fail = *err;
    else d->fail = (struct ss_err){.code = SS_EIO};
    return (ssize_t)out;
}

ssize_t ss_decomp_read(struct ss_decomp *d, char *buf, size_t cap, int wait_ms, struct ss_err *err) {
    if (d->failed) {
        if (err) *err = d->fail;
        return -1;
    }
    d->wait_ms = wait_ms;
    if (d->kind == K_UNKNOWN) {
        int rc = sniff(d, err);
        if (rc == AGAIN) return SS_DECOMP_AGAIN;
        if (rc) return -1;
    }
    if (d->kind != K_PLAIN) return inflate_some(d, buf, cap, err);
    if (unread(d) > 0) { /* what sniffing read */
        size_t n = unread(d) < cap ? unread(d) : cap;
        memcpy(buf, d->in + d->in_pos, n);
        d->in_pos += n;
        return (ssize_t)n;
    }
    if (d->in_eof) return 0;
    return read_fd(d, buf, cap, err);
}
