/* money.h — money and other exact decimals as int64 ten-thousandths (4 places).
 * 12.34 is 123400. Money is never a float (DESIGN §3). */
#ifndef SS_MONEY_H
#define SS_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define SS_MONEY_SCALE 10000

/* Parses an exact decimal: optional '-', digits, optional '.' and digits, optionally
 * an exponent (JSON numbers such as 1.5e2). More than 4 fractional digits is an error
 * unless the extra digits are zero (we never round input silently).
 * Returns 0 and fills *out, or -1 when s is not such a number or overflows. */
int ss_money_parse(const char *s, size_t n, int64_t *out);

/* Writes v rounded to `places` (0..4) decimals, half away from zero, e.g. "12.35".
 * buf needs 32 bytes. Returns the length written. */
int ss_money_format(int64_t v, int places, char *buf);

/* a * q exactly, where a is fixed-point and q an integer quantity; -1 on overflow. */
int ss_money_mul(int64_t a, int64_t q, int64_t *out);

#endif
