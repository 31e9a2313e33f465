/* money.c — exact decimals as int64 ten-thousandths (money.h). The decoders call
 * ss_money_parse for every price and discount on the hot path; sinks and the JSONL
 * writer call ss_money_format for every money column. Integer arithmetic only:
 * input is never rounded (an unrepresentable value is an error the DLQ reports),
 * output is rounded exactly once, half away from zero. */
#include "money.h"

#include <stdbool.h>

#include "err.h"

static const int64_t pow10_tab[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
    1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
    100000000000000LL, 1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL,
};

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Appends one decimal digit to the mantissa; false on overflow. */
static inline bool mant_push(uint64_t *mant, unsigned d) {
    if (*mant > (UINT64_MAX - d) / 10) return false;
    *mant = *mant * 10 + d;
    return true;
}

int ss_money_parse(const char *s, size_t n, int64_t *out) {
    const char *p = s, *end = s + n;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    /* value = mant * 10^scale. Leading zeros are skipped and trailing zeros held back
     * in `pending` (folded into scale at the end), so long-hand spellings such as
     * "0.000000000000000000001e21" or "1200000e-5" do not overflow the accumulator. */
    uint64_t mant = 0;
    int64_t pending = 0, scale = 0;
    bool overflow = false, frac = false;
    int nint = 0, nfrac = 0;
    for (;; p++) {
        if (p < end && *p == '.' && !frac) {
            frac = true;
            continue;
        }
        if (p >= end || !is_digit(*p)) break;
        unsigned d = (unsigned)(*p - '0');
        if (frac) {
            nfrac++;
            scale--;
        } else {
            nint++;
        }
        if (d == 0) {
            if (mant) pending++;
            continue;
        }
        for (; pending > 0 && !overflow; pending--) overflow = !mant_push(&mant, 0);
        pending = 0;
        if (!overflow) overflow = !mant_push(&mant, d);
    }
    /* JSON and the contract both want digits on each side of the point */
    if (nint == 0 || (frac && nfrac == 0)) return SS_ERROR;
    scale += pending;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        int64_t exp = 0;
        int nexp = 0;
        for (; p < end && is_digit(*p); p++, nexp++)
            if (exp < 1000000) exp = exp * 10 + (*p - '0'); /* saturate: huge exponents fail below */
        if (nexp == 0) return SS_ERROR;
        scale += eneg ? -exp : exp;
    }
    if (p != end) return SS_ERROR;
    if (overflow) return SS_ERROR;
    if (mant == 0) {
        *out = 0;
        return SS_OK;
    }
    int64_t shift = scale + 4; /* to ten-thousandths */
    if (shift < 0) return SS_ERROR; /* a nonzero digit below 1/10000: never round input */
    if (shift > 18) return SS_ERROR;
    uint64_t m = (uint64_t)pow10_tab[shift];
    if (mant > UINT64_MAX / m) return SS_ERROR;
    uint64_t v = mant * m;
    if (v > (uint64_t)INT64_MAX) return SS_ERROR;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return SS_OK;
}

int ss_money_format(int64_t v, int places, char *buf) {
    if (places < 0) places = 0;
    if (places > 4) places = 4;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t div = (uint64_t)pow10_tab[4 - places];
    uint64_t q = mag / div, r = mag % div;
    if (div > 1 && r * 2 >= div) q++;
    uint64_t unit = (uint64_t)pow10_tab[places];
    uint64_t ip = q / unit, fp = q % unit;
    char tmp[32];
    int n = 0;
    /* fraction digits, least significant first */
    for (int i = 0; i < places; i++) {
        tmp[n++] = (char)('0' + fp % 10);
        fp /= 10;
    }
    if (places) tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    /* no "-0.00": a value that rounds to zero has no sign */
    if (v < 0 && q != 0) tmp[n++] = '-';
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int ss_money_mul(int64_t a, int64_t q, int64_t *out) {
    int64_t r;
    if (__builtin_mul_overflow(a, q, &r)) return SS_ERROR;
    *out = r;
    return SS_OK;
}
