/* decompress.c — see decompress.h. zlib inflates gzip, libzstd's streaming API
 * decompresses zstd; both keep their own window, so memory stays small whatever the
 * file's size. */
#include "decompress.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../core/alloc.h"

#define IN_CAP (1u << 20)

enum kind { K_UNKNOWN, K_PLAIN, K_GZIP, K_ZSTD };

struct ss_decomp {
    int fd;
    char *what;
    enum kind kind;
    unsigned char *in;       /* bytes read from fd and not yet consumed */
    size_t in_pos, in_len;
    bool in_eof;
    bool open;               /* inside a gzip member or zstd frame */
    z_stream z;
    bool z_ready;
    ZSTD_DStream *zs;
    /* an error met after some bytes came out: those go first, the error at the next
     * read (and every one after) */
    bool failed;
    struct ss_err fail;
};

static const unsigned char GZIP_MAGIC[2] = {0x1f, 0x8b}, ZSTD_MAGIC[4] = {0x28, 0xb5, 0x2f, 0xfd};

struct ss_decomp *ss_decomp_new(int fd, const char *what) {
    struct ss_decomp *d = ss_calloc(1, sizeof *d);
    d->fd = fd;
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

static ssize_t read_fd(int fd, void *buf, size_t n) {
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

static size_t unread(const struct ss_decomp *d) { return d->in_len - d->in_pos; }

/* Appends more of the file after the unconsumed input (moved to the front). */
static int fill(struct ss_decomp *d, struct ss_err *err) {
    if (d->in_pos > 0) {
        memmove(d->in, d->in + d->in_pos, unread(d));
        d->in_len -= d->in_pos;
        d->in_pos = 0;
    }
    if (d->in_eof || d->in_len == IN_CAP) return SS_OK;
    ssize_t r = read_fd(d->fd, d->in + d->in_len, IN_CAP - d->in_len);
    if (r < 0) return ss_err_set(err, SS_EIO, "cannot read input %s: %s", d->what, strerror(errno));
    if (r == 0) d->in_eof = true;
    d->in_len += (size_t)r;
    return SS_OK;
}

/* What starts at the unconsumed input: K_GZIP, K_ZSTD or K_PLAIN (also for fewer
 * than four bytes left at the end). Reads enough of the file to tell. */
static int kind_ahead(struct ss_decomp *d, enum kind *kind, struct ss_err *err) {
    while (unread(d) < sizeof ZSTD_MAGIC && !d->in_eof)
        if (fill(d, err)) return SS_EIO;
    const unsigned char *p = d->in + d->in_pos;
    size_t n = unread(d);
    *kind = n >= 2 && memcmp(p, GZIP_MAGIC, 2) == 0   ? K_GZIP
            : n >= 4 && memcmp(p, ZSTD_MAGIC, 4) == 0 ? K_ZSTD
                                                      : K_PLAIN;
    return SS_OK;
}

/* The first bytes tell the kind. */
static int sniff(struct ss_decomp *d, struct ss_err *err) {
    if (kind_ahead(d, &d->kind, err)) return SS_EIO;
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

/* A member or frame ended with input left: another must start right there. */
static int next_member(struct ss_decomp *d, struct ss_err *err) {
    enum kind next;
    if (kind_ahead(d, &next, err)) return SS_EIO;
    if (next != d->kind)
        return ss_err_set(err, SS_EIO, "%zu bytes after the end of the %s data are not %s data", unread(d),
                          ss_decomp_kind(d), ss_decomp_kind(d));
    if (d->kind == K_GZIP && inflateReset(&d->z) != Z_OK)
        return ss_err_set(err, SS_ERROR, "cannot restart gzip decompression");
    return SS_OK;
}

/* inflate_some's loop: 0 or -1 (err filled); *out counts the bytes that came out,
 * on an error too. */
static int inflate_into(struct ss_decomp *d, char *buf, size_t cap, size_t *out, struct ss_err *err) {
    while (*out < cap) {
        if (unread(d) == 0) {
            if (fill(d, err)) return -1;
            if (unread(d) == 0) { /* the file ended */
                if (d->open) {
                    ss_err_set(err, SS_EIO, "the %s data is cut short (truncated file?)", ss_decomp_kind(d));
                    return -1;
                }
                break;
            }
        }
        if (!d->open) {
            if (next_member(d, err)) return -1;
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
        }
    }
    return 0;
}

/* Decompresses into buf until it is full or the input ends. On an error, the bytes
 * that came out before it, if any, and the error is kept for the next call. */
static ssize_t inflate_some(struct ss_decomp *d, char *buf, size_t cap, struct ss_err *err) {
    size_t out = 0;
    if (inflate_into(d, buf, cap, &out, err) == 0) return (ssize_t)out;
    if (out == 0) return -1;
    d->failed = true;
    if (err) d->fail = *err;
    else d->fail = (struct ss_err){.code = SS_EIO};
    return (ssize_t)out;
}

ssize_t ss_decomp_read(struct ss_decomp *d, char *buf, size_t cap, struct ss_err *err) {
    if (d->failed) {
        if (err) *err = d->fail;
        return -1;
    }
    if (d->kind == K_UNKNOWN && sniff(d, err)) return -1;
    if (d->kind != K_PLAIN) return inflate_some(d, buf, cap, err);
    if (unread(d) > 0) { /* what sniffing read */
        size_t n = unread(d) < cap ? unread(d) : cap;
        memcpy(buf, d->in + d->in_pos, n);
        d->in_pos += n;
        return (ssize_t)n;
    }
    if (d->in_eof) return 0;
    ssize_t r = read_fd(d->fd, buf, cap);
    if (r < 0) ss_err_set(err, SS_EIO, "cannot read input %s: %s", d->what, strerror(errno));
    return r;
}
