/* redis_payload.c — see redis_payload.h. */
#include "redis_payload.h"

#include <pthread.h>

#define RDB_VERSION_DUMP 10
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define QUICKLIST_NODE_PACKED 2

static uint64_t crc64_tab[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? c >> 1 ^ 0x95AC9329AC4BC9B5ULL : c >> 1; /* 0xad93d23594c935a9 reflected */
        crc64_tab[i] = c;
    }
}

uint64_t ss_redis_crc64(const void *p, size_t n) {
    pthread_once(&crc64_once, crc64_init);
    const unsigned char *b = p;
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) c = crc64_tab[(c ^ b[i]) & 0xFF] ^ c >> 8;
    return c;
}

/* listpack: total bytes (u32 LE), entries (u16 LE), entries, 0xFF */
void ss_redis_lp_begin(struct ss_buf *b) {
    b->len = 0;
    ss_buf_add(b, "\0\0\0\0\0\0", 6);
}

/* One string entry: encoding and length, the bytes, the entry's length backwards. */
void ss_redis_lp_str(struct ss_buf *b, const char *s, size_t n) {
    unsigned char h[5], bl[5];
    size_t hn, bn;
    if (n < 64) {
        h[0] = (unsigned char)(0x80 | n);
        hn = 1;
    } else if (n < 4096) {
        h[0] = (unsigned char)(0xE0 | n >> 8);
        h[1] = (unsigned char)(n & 0xFF);
        hn = 2;
    } else {
        h[0] = 0xF0;
        for (int k = 0; k < 4; k++) h[1 + k] = (unsigned char)(n >> 8 * k & 0xFF);
        hn = 5;
    }
    size_t l = hn + n; /* the entry's length without its backlen */
    if (l <= 127) {
        bl[0] = (unsigned char)l;
        bn = 1;
    } else if (l < 16383) {
        bl[0] = (unsigned char)(l >> 7);
        bl[1] = (unsigned char)((l & 127) | 128);
        bn = 2;
    } else if (l < 2097151) {
        bl[0] = (unsigned char)(l >> 14);
        bl[1] = (unsigned char)((l >> 7 & 127) | 128);
        bl[2] = (unsigned char)((l & 127) | 128);
        bn = 3;
    } else if (l < 268435455) {
        bl[0] = (unsigned char)(l >> 21);
        bl[1] = (unsigned char)((l >> 14 & 127) | 128);
        bl[2] = (unsigned char)((l >> 7 & 127) | 128);
        bl[3] = (unsigned char)((l & 127) | 128);
        bn = 4;
    } else {
        bl[0] = (unsigned char)(l >> 28);
        bl[1] = (unsigned char)((l >> 21 & 127) | 128);
        bl[2] = (unsigned char)((l >> 14 & 127) | 128);
        bl[3] = (unsigned char)((l >> 7 & 127) | 128);
        bl[4] = (unsigned char)((l & 127) | 128);
        bn = 5;
    }
    ss_buf_add(b, h, hn);
    ss_buf_add(b, s, n);
    ss_buf_add(b, bl, bn);
}

void ss_redis_lp_end(struct ss_buf *b, size_t entries) {
    ss_buf_addc(b, (char)0xFF);
    unsigned char *p = (unsigned char *)b->p;
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(b->len >> 8 * k & 0xFF);
    size_t e = entries < 65535 ? entries : 65535; /* 65535: count them */
    p[4] = (unsigned char)(e & 0xFF);
    p[5] = (unsigned char)(e >> 8);
}

/* RDB length encoding (rdbSaveLen) */
static void rdb_len(struct ss_buf *b, size_t n) {
    unsigned char h[5];
    if (n < 64) {
        h[0] = (unsigned char)n;
        ss_buf_add(b, h, 1);
    } else if (n < 16384) {
        h[0] = (unsigned char)(0x40 | n >> 8);
        h[1] = (unsigned char)(n & 0xFF);
        ss_buf_add(b, h, 2);
    } else {
        h[0] = 0x80;
        for (int k = 0; k < 4; k++) h[1 + k] = (unsigned char)(n >> 8 * (3 - k) & 0xFF);
        ss_buf_add(b, h, 5);
    }
}

void ss_redis_dump_payload(struct ss_buf *out, bool hash, const struct ss_buf *lp) {
    size_t start = out->len;
    if (hash) {
        ss_buf_addc(out, RDB_TYPE_HASH_LISTPACK);
    } else {
        ss_buf_addc(out, RDB_TYPE_LIST_QUICKLIST_2);
        rdb_len(out, 1);
        rdb_len(out, QUICKLIST_NODE_PACKED);
    }
    rdb_len(out, lp->len);
    ss_buf_add(out, lp->p, lp->len);
    unsigned char t[10] = {RDB_VERSION_DUMP & 0xFF, RDB_VERSION_DUMP >> 8};
    ss_buf_add(out, t, 2);
    uint64_t c = ss_redis_crc64(out->p + start, out->len - start);
    for (int k = 0; k < 8; k++) t[k] = (unsigned char)(c >> 8 * k & 0xFF);
    ss_buf_add(out, t, 8);
}
