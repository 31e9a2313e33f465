/* file.c — the file source: a JSON-lines or CSV file, or stdin ("-"), plain or
 * gzip/zstd-compressed (decompress.c), read in chunks into a large buffer and split
 * into line records without copying. A bounded source: poll answers SS_EOF once the
 * file is exhausted. Offsets are 1-based line numbers.
 *
 * A plain regular file is mapped instead (file_map.h), whole, when its turn comes:
 * its lines are cut straight out of the page cache, with no read() copying each byte
 * once more, and bytes appended to it after that are not read (a file grows between
 * two runs of a backfill, not during one; a growing log is read through a pipe, as
 * below). Everything below about buffers and refills is about the other inputs.
 *
 * Reading, decompressing and splitting run ahead on the decoding thread (`prefetch`,
 * while the engine processes the last batch): on the engine's thread they cost a
 * few percent for a plain file and a third more time for a gzip or zstd one. So a
 * refill may happen while the records of the batch in flight still point into the
 * buffer: it appends after the unread bytes, and when the buffer is full it copies
 * them to the front of a second buffer rather than moving them within this one. One
 * refill at most per batch, so the buffer written into never holds the records of
 * the batch in flight. The buffer is refilled only when little is left unread (or a
 * line does not fit), not at every poll, so the bytes are copied a few times less.
 *
 * stdin, a FIFO or any other input that is not a regular file is a stream: its reads
 * would block while the writer is quiet (`tail -F f | shopstream run --input
 * clicks=-`), and the engine must go on committing epochs and noticing a stop
 * meanwhile. So it is polled before it is read (decompress.c), poll waits at most its
 * timeout for bytes and answers 0 ("nothing now") rather than block, and prefetch
 * never waits. A line that has come in part stays unread until its newline (or the
 * end) arrives. A stream still ends only at its end: a quiet one is not finished, and
 * holds the watermark back like any file being read (SEMANTICS §4: idle_timeout is
 * for Kafka partitions). A regular file is read exactly as before, with no poll.
 *
 * A line longer than input.max_record_bytes is cut: its first max_record_bytes bytes
 * are a record marked `cut` (a malformed dead letter), and the rest of the line is
 * read and thrown away as it comes, a chunk per poll. Otherwise a file without line breaks (a JSON
 * array on one line, a binary file) would be held whole in memory, and its dead
 * letter would be more than a sink can take. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/dirs.h"
#include "../core/log.h"
#include "decompress.h"
#include "file_map.h"
#include "input_files.h"
#include "source.h"

#define BLOCK (8u << 20)         /* each of the two buffers (more for a longer line) */
#define CHUNK (1u << 20)         /* bytes read (decompressed) per refill */
#define LOW_WATER (2 * CHUNK)    /* refill when fewer unread bytes than this */

struct file_source {
    struct ss_source base;
    int fd;
    struct ss_decomp *dz;
    const char *path;        /* the file being read: files[at] */
    char **files;            /* what the input names (input_files.h): read in turn */
    size_t nfiles, at;
    bool file_start;         /* the next record cut is a later file's first */
    struct ss_file_map *map; /* a plain regular file, mapped: its bytes are [0, end) of it */
    size_t last_cut;         /* where the last cut began: the lines of the batch in flight */
    char *buf, *other;       /* other: where the next refill goes */
    size_t cap, other_cap;
    size_t start, end;       /* unread bytes are buf[start, end) */
    int64_t line;            /* lines cut out so far */
    int32_t partition;
    bool eof;
    size_t max_rec;          /* input.max_record_bytes */
    bool skipping;           /* throwing away the rest of a line that was cut */
    /* records cut out by prefetch, for the next poll; a read error it met comes
     * after them */
    struct ss_record *ready;
    int nready, cap_ready, max; /* max: the last poll's, how many prefetch cuts */
    int failed;
    struct ss_err fail;
};

/* Maps fd's file when it is plain text (not gzip or zstd) and can be mapped, taking
 * fd over; false, and nothing changed, when it is to be read. */
static bool map_plain(struct file_source *fs, int fd, size_t size) {
    unsigned char head[4];
    ssize_t n = pread(fd, head, sizeof head, 0);
    struct ss_err ignored;
    if (n <= 0 || !ss_decomp_is_plain(head, (size_t)n) || ss_file_map_open(&fs->map, fd, size, &ignored) != SS_OK)
        return false;
    close(fd);
    fs->fd = -1;
    fs->start = fs->last_cut = 0;
    fs->end = size;
    fs->eof = true; /* nothing more to read: every byte is there */
    return true;
}

/* Opens path for reading from its first line. A path is opened without waiting: a
 * FIFO's open would block until a writer opens it, before any sink is open and deaf
 * to a stop. Its reads wait for the writer in poll instead (a FIFO no writer has
 * opened yet polls as quiet, not as ended). */
static int open_path(struct file_source *fs, const char *path, bool at_start, struct ss_err *err) {
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    /* a path given that names no readable file is the user's to fix (exit 2), as an empty
     * pattern or a sink's path is; a file of a directory or pattern that went away
     * before its turn came is a runtime failure */
    if (fd < 0)
        return ss_err_set(err, at_start && ss_path_errno_is_usage(errno) ? SS_EUSAGE : SS_EIO,
                          "cannot open input %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        if (!is_stdin) close(fd);
        return ss_err_set(err, SS_EIO, "cannot open input %s: %s", path, strerror(e));
    }
    bool stream = !S_ISREG(st.st_mode);
    fs->path = path;
    fs->line = 0;
    fs->eof = fs->skipping = false;
    if (!is_stdin && !stream && st.st_size > 0 && map_plain(fs, fd, (size_t)st.st_size)) return SS_OK;
    /* a file is read as always; our own FIFO's description may stay non-blocking */
    if (!is_stdin && !stream) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    fs->fd = fd;
    fs->dz = ss_decomp_new(fd, path, stream);
    fs->cap = BLOCK;
    fs->buf = ss_malloc(fs->cap);
    fs->start = fs->end = 0;
    return SS_OK;
}

/* What open would refuse, opening nothing (--print-config): the record limit, and a
 * directory or pattern with nothing to read. */
static int file_check(const struct ss_input_spec *spec, const struct ss_config *cfg, struct ss_err *err) {
    char **files;
    size_t nfiles;
    int rc = ss_record_limit_check(cfg, err);
    if (!rc) rc = ss_input_files(spec->url, &files, &nfiles, err);
    if (!rc) ss_input_files_free(files, nfiles);
    return rc;
}

static int file_open(struct ss_source **out, const struct ss_input_spec *spec, const struct ss_config *cfg,
                     struct ss_err *err) {
    char **files;
    size_t nfiles;
    int rc = ss_record_limit_check(cfg, err);
    if (!rc) rc = ss_input_files(spec->url, &files, &nfiles, err);
    if (rc) return rc;
    struct file_source *fs = ss_calloc(1, sizeof *fs);
    fs->base.type = &ss_source_file;
    fs->files = files;
    fs->nfiles = nfiles;
    fs->partition = spec->index;
    fs->max_rec = (size_t)cfg->max_record_bytes;
    if ((rc = open_path(fs, files[0], true, err))) {
        ss_input_files_free(files, nfiles);
        ss_free(fs);
        return rc;
    }
    if (nfiles > 1)
        ss_info("source.file", "msg=\"reading files in name order\" input=\"%s\" files=%zu first=\"%s\" last=\"%s\"",
                spec->url, nfiles, files[0], files[nfiles - 1]);
    *out = &fs->base;
    return SS_OK;
}

/* Reads up to CHUNK more bytes after the unread ones. When the buffer has no room for
 * them, the unread bytes first move to the front of the other buffer (twice as large
 * when they would not leave room there either: a line longer than a buffer). Returns
 * bytes read, 0 at EOF, -1 on error (err filled), SS_DECOMP_AGAIN when a stream gave
 * nothing within wait_ms.
 *
 * A chunk at a time, not a whole buffer: a refill runs on the decoding thread while
 * the engine processes a batch, and inflating 4 MiB of gzip took longer than a batch,
 * so the engine waited for it at its next poll. */
static ssize_t refill(struct file_source *fs, int wait_ms, struct ss_err *err) {
    if (fs->cap - fs->end < CHUNK) {
        size_t unread = fs->end - fs->start;
        size_t want = unread + CHUNK > fs->cap ? 2 * fs->cap : fs->cap;
        if (fs->other_cap < want) {
            ss_free(fs->other);
            fs->other = ss_malloc(want);
            fs->other_cap = want;
        }
        memcpy(fs->other, fs->buf + fs->start, unread);
        char *b = fs->buf;
        size_t c = fs->cap;
        fs->buf = fs->other;
        fs->cap = fs->other_cap;
        fs->other = b;
        fs->other_cap = c;
        fs->start = 0;
        fs->end = unread;
    }
    bool first = fs->line == 0 && fs->end == 0;
    ssize_t n = ss_decomp_read(fs->dz, fs->buf + fs->end, CHUNK, wait_ms, err);
    if (n > 0) fs->end += (size_t)n;
    if (first && strcmp(ss_decomp_kind(fs->dz), "plain") != 0)
        ss_info("source.file", "msg=\"decompressing\" input=\"%s\" format=%s", fs->path, ss_decomp_kind(fs->dz));
    return n;
}

/* Cuts up to max complete lines (and the last one, once at EOF) out of the unread
 * bytes into recs; returns the count. */
static int cut_lines(struct file_source *fs, struct ss_record *recs, int max) {
    int k = 0;
    const char *text = fs->map ? ss_file_map_data(fs->map) : fs->buf;
    while (k < max && fs->start < fs->end) {
        const char *p = text + fs->start;
        size_t avail = fs->end - fs->start;
        bool last = fs->eof; /* avail holds the input's last bytes */
        /* A mapped file is searched no further ahead than a record may be long, and a
         * line too long is skipped a chunk per call, as a read buffer would have it: a
         * file without line breaks is neither scanned whole in one poll (deaf to a stop)
         * nor made resident whole. */
        if (fs->map) {
            size_t window = fs->skipping && fs->max_rec + 2 < CHUNK ? CHUNK : fs->max_rec + 2;
            if (avail > window) {
                avail = window;
                last = false;
            }
        }
        const char *nl = memchr(p, '\n', avail);
        if (fs->skipping) {
            fs->start += nl ? (size_t)(nl - p) + 1 : avail;
            fs->skipping = !nl;
            if (fs->map && !nl) break;
            continue;
        }
        size_t len;
        if (nl) {
            len = (size_t)(nl - p);
        } else if (last || avail > fs->max_rec + 1) {
            len = avail; /* the last line without a newline, or (cut below) one too long with its \r\n or not */
        } else {
            break;
        }
        size_t rec_len = (len && p[len - 1] == '\r') ? len - 1 : len;
        if (rec_len > fs->max_rec) {
            recs[k] = (struct ss_record){p, fs->max_rec, fs->partition, true, fs->file_start, ++fs->line};
            fs->file_start = false;
            k++;
            fs->start += len + (nl ? 1 : 0);
            fs->skipping = !nl && !last;
            size_t at;
            if (fs->map && ss_file_map_cut_short(fs->map, &at)) continue; /* zeros: cut_mapped says what happened */
            ss_warn("source.file",
                    "msg=\"a line longer than input.max_record_bytes: its first bytes go to the dead letters as "
                    "malformed, the rest of the line is skipped%s\" input=\"%s\" line=%lld max_record_bytes=%zu",
                    *p == '[' ? " (a JSON array? give one JSON object per line, as jq -c '.[]' writes)" : "", fs->path,
                    (long long)fs->line, fs->max_rec);
            continue;
        }
        /* A UTF-8 byte order mark (Windows tools and spreadsheet exports write one)
         * opens the file, not its first record, which would be malformed with it. */
        size_t skip = fs->line == 0 && rec_len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        recs[k] = (struct ss_record){p + skip, rec_len - skip, fs->partition, false, fs->file_start, ++fs->line};
        fs->file_start = false;
        k++;
        fs->start += len + (nl ? 1 : 0);
    }
    return k;
}

/* cut_lines over a mapped file. The lines of the batch before the one in flight are
 * done with, so the pages before them leave the resident set (with a lag). When the
 * file was truncated under the mapping, the lines that reach into the zeros put in
 * its place are no records: a read error instead, after the lines before them. */
static int cut_mapped(struct file_source *fs, struct ss_record *recs, int max) {
    if (fs->failed) return 0;
    size_t lag = (size_t)16 << 20;
    if (fs->last_cut > lag) ss_file_map_done_before(fs->map, fs->last_cut - lag);
    fs->last_cut = fs->start;
    int k = cut_lines(fs, recs, max);
    size_t at;
    if (!ss_file_map_cut_short(fs->map, &at)) return k;
    while (k > 0 && (size_t)(recs[k - 1].data - ss_file_map_data(fs->map)) + recs[k - 1].len > at) k--;
    fs->failed = ss_err_set(&fs->fail, SS_EIO,
                            "the file was truncated while it was read (by another program?): its lines from about "
                            "byte %zu on are lost",
                            at);
    return k;
}

/* Refills when little is left unread (or, force, when the unread bytes hold no
 * complete line) and cuts up to max lines; a refill more whenever none could be cut,
 * unless once, or a stream has nothing now (the first refill may wait wait_ms for
 * it, the next ones do not wait). A read error is kept in fs->failed, for the poll
 * after the lines read before it: a file cut short still yields every line it holds. */
static int cut_more(struct file_source *fs, struct ss_record *recs, int max, bool once, int wait_ms) {
    if (fs->map) return cut_mapped(fs, recs, max);
    for (bool force = false;; force = true) {
        bool dry = false;
        if (!fs->eof && !fs->failed && (force || fs->end - fs->start < LOW_WATER)) {
            ssize_t n = refill(fs, wait_ms, &fs->fail);
            wait_ms = 0;
            if (n == SS_DECOMP_AGAIN) dry = true;
            else if (n < 0) fs->failed = fs->fail.code ? fs->fail.code : SS_EIO;
            else if (n == 0) fs->eof = true;
        }
        int k = cut_lines(fs, recs, max);
        /* skipping the rest of a cut line, a chunk per poll: the engine commits and
         * hears a stop meanwhile, however long the line (/dev/zero never ends it) */
        if (k || fs->eof || fs->failed || once || dry || fs->skipping) return k;
    }
}

/* At its end a file gives its buffers, decompressor and descriptor back at once, not
 * at the end of the run: a backfill reads hundreds of files one after another, and
 * 16 MiB of buffers kept per file read added up to gigabytes. The source stays open
 * (its name is still asked for) and answers SS_EOF. */
static void release(struct file_source *fs) {
    ss_file_map_close(fs->map);
    fs->map = NULL;
    ss_decomp_free(fs->dz);
    fs->dz = NULL;
    if (fs->fd > 0) close(fs->fd);
    fs->fd = -1;
    ss_free(fs->buf);
    ss_free(fs->other);
    ss_free(fs->ready);
    fs->buf = fs->other = NULL;
    fs->ready = NULL;
    fs->cap = fs->other_cap = 0;
    fs->cap_ready = 0;
    fs->start = fs->end = 0;
}

/* Records, SS_EOF at the end, an error, or (a stream only) 0 when no complete line
 * came within timeout_ms. */
static int file_poll(struct ss_source *src, struct ss_record *recs, int max, int timeout_ms, struct ss_err *err) {
    struct file_source *fs = (struct file_source *)src;
    fs->max = max;
    if (fs->nready) {
        int k = fs->nready < max ? fs->nready : max;
        memcpy(recs, fs->ready, (size_t)k * sizeof *recs);
        fs->nready -= k;
        memmove(fs->ready, fs->ready + k, (size_t)fs->nready * sizeof *recs);
        return k;
    }
    for (;;) {
        int k = cut_more(fs, recs, max, false, timeout_ms > 0 ? timeout_ms : 0);
        if (k) return k;
        if (fs->failed) {
            if (err) *err = fs->fail;
            return fs->failed;
        }
        if (!fs->eof || fs->start < fs->end) return 0; /* a mapped file's long line, being skipped */
        if (fs->buf || fs->map) release(fs);
        if (fs->at + 1 == fs->nfiles) return SS_EOF;
        /* the next file, in this poll: the records of the batch before are done with,
         * and name_of must not change under them */
        int rc = open_path(fs, fs->files[++fs->at], false, err);
        if (rc) return rc;
        fs->file_start = true;
    }
}

/* The next poll's records, cut on the decoding thread: one refill at most (see the
 * top), then whatever complete lines the buffer holds, up to the last poll's max.
 * A stream is not waited for here: the engine would wait for this at its next poll. */
static void file_prefetch(struct ss_source *src) {
    struct file_source *fs = (struct file_source *)src;
    if (fs->nready || fs->max <= 0) return;
    if (fs->cap_ready < fs->max) {
        ss_free(fs->ready);
        fs->ready = ss_malloc((size_t)fs->max * sizeof *fs->ready);
        fs->cap_ready = fs->max;
    }
    fs->nready = cut_more(fs, fs->ready, fs->max, true, 0);
}

static const char *file_name_of(const struct ss_source *src) { return ((const struct file_source *)src)->path; }

static void file_close(struct ss_source *src) {
    struct file_source *fs = (struct file_source *)src;
    ss_file_map_close(fs->map);
    ss_decomp_free(fs->dz);
    if (fs->fd > 0) close(fs->fd);
    ss_free(fs->buf);
    ss_free(fs->other);
    ss_free(fs->ready);
    ss_input_files_free(fs->files, fs->nfiles);
    ss_free(fs);
}

const struct ss_source_type ss_source_file = {
    .name = "file",
    .open = file_open,
    .check = file_check,
    .poll = file_poll,
    .prefetch = file_prefetch,
    .name_of = file_name_of,
    .close = file_close,
};
