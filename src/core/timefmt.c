/* timefmt.c — event-time parsing and formatting (timefmt.h). ss_ts_parse runs in
 * the decoders for every ts / starts_at / ends_at on the hot path, so it is a
 * hand-written fixed-layout scanner (no strptime, no locale, no timezone database:
 * only explicit offsets are accepted). ss_ts_format writes every timestamp column
 * of every sink. Calendar arithmetic is Howard Hinnant's days_from_civil /
 * civil_from_days, exact for the proleptic Gregorian calendar. */
#include "timefmt.h"

#include <stdbool.h>
#include <time.h>

#include "err.h"


static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads exactly k digits at p into *v. */
static inline bool digits(const char *p, int k, unsigned *v) {
    unsigned x = 0;
    for (int i = 0; i < k; i++) {
        if (!is_digit(p[i])) return false;
        x = x * 10 + (unsigned)(p[i] - '0');
    }
    *v = x;
    return true;
}

int64_t ss_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                        /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void ss_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static inline bool leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(unsigned y, unsigned m) {
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* -?digits as epoch milliseconds. */
static int parse_epoch_ms(const char *s, size_t n, int64_t *out) {
    const char *p = s, *end = s + n;
    bool neg = p < end && *p == '-';
    if (neg) p++;
    if (p == end) return SS_ERROR;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        if (!is_digit(*p)) return SS_ERROR;
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10) return SS_ERROR;
        v = v * 10 + d;
    }
    int64_t ms = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (ms < SS_TS_EVENT_MIN || ms > SS_TS_EVENT_MAX) return SS_ERROR;
    *out = ms;
    return SS_OK;
}

int ss_ts_parse(const char *s, size_t n, int64_t *out) {
    /* "YYYY-MM-DD" then 'T' or ' ': anything else with a digit start is epoch ms */
    if (n < 20 || s[4] != '-') return parse_epoch_ms(s, n, out);
    const char *p = s, *end = s + n;
    unsigned y, mo, d, h, mi, se;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != ' ') || !digits(p + 11, 2, &h) ||
        p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &se))
        return SS_ERROR;
    p += 19;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
        return SS_ERROR;
    unsigned ms = 0;
    if (p < end && *p == '.') {
        p++;
        int k = 0;
        for (; p < end && is_digit(*p); p++, k++)
            if (k < 3) ms = ms * 10 + (unsigned)(*p - '0');
        if (k == 0) return SS_ERROR;
        for (; k < 3; k++) ms *= 10;
    }
    int64_t off_min = 0;
    if (p < end && *p == 'Z') {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1;
        p++;
        unsigned oh, om;
        if (end - p >= 5 && p[2] == ':') {
            if (!digits(p, 2, &oh) || !digits(p + 3, 2, &om)) return SS_ERROR;
            p += 5;
        } else if (end - p >= 4) {
            if (!digits(p, 2, &oh) || !digits(p + 2, 2, &om)) return SS_ERROR;
            p += 4;
        } else {
            return SS_ERROR;
        }
        if (oh > 23 || om > 59) return SS_ERROR;
        off_min = sign * (int64_t)(oh * 60 + om);
    } else {
        return SS_ERROR; /* no zone: its meaning would depend on the machine */
    }
    if (p != end) return SS_ERROR;
    int64_t days = ss_days_from_civil(y, mo, d);
    int64_t t = days * SS_MS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms - off_min * 60000;
    if (t < SS_TS_EVENT_MIN || t > SS_TS_EVENT_MAX) return SS_ERROR; /* year 0000 or 9999 moved by its offset */
    *out = t;
    return SS_OK;
}

int ss_ts_format(int64_t ms, char *buf) {
    int64_t days = ms / SS_MS_PER_DAY, rem = ms % SS_MS_PER_DAY;
    if (rem < 0) {
        rem += SS_MS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    ss_civil_from_days(days, &y, &mo, &d);
    unsigned r = (unsigned)rem;
    unsigned h = r / 3600000, mi = r / 60000 % 60, se = r / 1000 % 60, f = r % 1000;
    char *p = buf;
    /* years outside 0000..9999 only come from absurd inputs; keep them readable */
    uint64_t ay = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
    if (y < 0) *p++ = '-';
    char yd[24];
    int k = 0;
    do {
        yd[k++] = (char)('0' + ay % 10);
        ay /= 10;
    } while (ay);
    while (k < 4) yd[k++] = '0';
    while (k) *p++ = yd[--k];
#define PUT2(v) (*p++ = (char)('0' + (v) / 10), *p++ = (char)('0' + (v) % 10))
    *p++ = '-';
    PUT2(mo);
    *p++ = '-';
    PUT2(d);
    *p++ = 'T';
    PUT2(h);
    *p++ = ':';
    PUT2(mi);
    *p++ = ':';
    PUT2(se);
    *p++ = '.';
    *p++ = (char)('0' + f / 100);
    PUT2(f % 100);
    *p++ = 'Z';
#undef PUT2
    *p = '\0';
    return (int)(p - buf);
}

int ss_duration_parse(const char *s, int64_t *out_ms) {
    if (!s) return SS_ERROR;
    const char *p = s;
    uint64_t v = 0;
    int nd = 0;
    for (; is_digit(*p); p++, nd++) {
        if (v > (uint64_t)INT64_MAX / 10) return SS_ERROR;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (nd == 0) return SS_ERROR;
    uint64_t mul;
    if (*p == '\0' || (p[0] == 'm' && p[1] == 's' && p[2] == '\0')) mul = 1;
    else if (p[0] == 's' && p[1] == '\0') mul = 1000;
    else if (p[0] == 'm' && (p[1] == '\0' || (p[1] == 'i' && p[2] == 'n' && p[3] == '\0'))) mul = 60000;
    else if (p[0] == 'h' && p[1] == '\0') mul = 3600000;
    else if (p[0] == 'd' && p[1] == '\0') mul = (uint64_t)SS_MS_PER_DAY;
    else return SS_ERROR;
    if (v > (uint64_t)SS_DURATION_MAX / mul) return SS_ERROR;
    *out_ms = (int64_t)(v * mul);
    return SS_OK;
}

int64_t ss_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void ss_sleep_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct timespec ss_deadline_in_ms(int64_t ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}
