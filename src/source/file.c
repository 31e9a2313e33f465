/* file.c — the file source: a JSON-lines or CSV file, or stdin ("-"), plain or
 * gzip/zstd-compressed (decompress.c), read in large blocks and split into line
 * records without copying. A bounded source: poll
 * answers SS_EOF once the file is exhausted. Offsets are 1-based line numbers.
 *
 * The buffer is refilled only when little is left unread (or a line does not fit),
 * not at every poll: moving the unread tail to the front at every poll copied the
 * file several times over. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/log.h"
#include "decompress.h"
#include "source.h"

#define BLOCK (4u << 20)
#define LOW_WATER (BLOCK / 8) /* refill when fewer unread bytes than this */

struct file_source {
    struct ss_source base;
    int fd;
    struct ss_decomp *dz;
    char *path;
    char *buf;
    size_t cap, start, end;  /* unread bytes are buf[start, end) */
    int64_t line;            /* lines handed out so far */
    int32_t partition;
    bool eof;
};

static int file_open(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                     struct ss_err *err) {
    (void)cfg;
    int fd = strcmp(spec->url, "-") == 0 ? 0 : open(spec->url, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ss_err_set(err, SS_EIO, "cannot open input %s: %s", spec->url, strerror(errno));
    struct file_source *fs = ss_calloc(1, sizeof *fs);
    fs->base.type = &ss_source_file;
    fs->fd = fd;
    fs->dz = ss_decomp_new(fd, spec->url);
    fs->path = ss_strdup(spec->url);
    fs->cap = BLOCK;
    fs->buf = ss_malloc(fs->cap);
    fs->partition = spec->index;
    *out = &fs->base;
    return SS_OK;
}

/* Reads more bytes after the unread ones; returns bytes read, 0 at EOF, -1 on error
 * (err filled). */
static ssize_t refill(struct file_source *fs, struct ss_err *err) {
    if (fs->start > 0) {
        memmove(fs->buf, fs->buf + fs->start, fs->end - fs->start);
        fs->end -= fs->start;
        fs->start = 0;
    }
    if (fs->end == fs->cap) { /* one line longer than the buffer: grow */
        fs->cap *= 2;
        fs->buf = ss_realloc(fs->buf, fs->cap);
    }
    bool first = fs->line == 0 && fs->end == 0;
    ssize_t n = ss_decomp_read(fs->dz, fs->buf + fs->end, fs->cap - fs->end, err);
    if (n > 0) fs->end += (size_t)n;
    if (first && strcmp(ss_decomp_kind(fs->dz), "plain") != 0)
        ss_info("source.file", "msg=\"decompressing\" input=\"%s\" format=%s", fs->path, ss_decomp_kind(fs->dz));
    return n;
}

static int file_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    (void)timeout_ms;
    struct file_source *fs = (struct file_source *)src;
    bool force = false; /* the unread bytes hold no complete line */
again:
    if (!fs->eof && (force || fs->end - fs->start < LOW_WATER)) {
        ssize_t n = refill(fs, err);
        if (n < 0) return err ? err->code : SS_EIO;
        if (n == 0) fs->eof = true;
    }
    int k = 0;
    while (k < max && fs->start < fs->end) {
        char *p = fs->buf + fs->start;
        char *nl = memchr(p, '\n', fs->end - fs->start);
        size_t len;
        if (nl) {
            len = (size_t)(nl - p);
        } else if (fs->eof) {
            len = fs->end - fs->start; /* last line without a newline */
        } else {
            break;
        }
        size_t rec_len = (len && p[len - 1] == '\r') ? len - 1 : len;
        /* A UTF-8 byte order mark (Windows tools and spreadsheet exports write one)
         * opens the file, not its first record, which would be malformed with it. */
        size_t skip = fs->line == 0 && rec_len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        recs[k].data = p + skip;
        recs[k].len = rec_len - skip;
        recs[k].partition = fs->partition;
        recs[k].offset = ++fs->line;
        k++;
        fs->start += len + (nl ? 1 : 0);
    }
    if (k == 0 && !fs->eof) {
        force = true;
        goto again;
    }
    if (k == 0 && fs->eof && fs->start >= fs->end) return SS_EOF;
    return k;
}

static const char *file_name_of(const struct ss_source *src) { return ((const struct file_source *)src)->path; }

static void file_close(struct ss_source *src) {
    struct file_source *fs = (struct file_source *)src;
    ss_decomp_free(fs->dz);
    if (fs->fd > 0) close(fs->fd);
    ss_free(fs->buf);
    ss_free(fs->path);
    ss_free(fs);
}

const struct ss_source_type ss_source_file = {
    .name = "file",
    .open = file_open,
    .poll = file_poll,
    .name_of = file_name_of,
    .close = file_close,
};
