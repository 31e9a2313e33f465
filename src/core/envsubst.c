/* envsubst.c — ${NAME} and ${NAME:-default} in config file values (see envsubst.h). */
#include "envsubst.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* Expands the ${...} starting at s (s[0] == '$', s[1] == '{'); *end is past its '}'. */
static int expand_one(const char *s, const char **end, struct ss_buf *out, struct ss_err *err) {
    const char *close = strchr(s, '}');
    if (!close)
        return ss_err_set(err, SS_EUSAGE, "\"%.40s\" has no closing } (write $$ for a literal $)", s);
    const char *name = s + 2, *p = name;
    if (!name_start(*p))
        return ss_err_set(err, SS_EUSAGE,
                          "\"%.*s\": a variable name is letters, digits and _, not starting with a digit",
                          (int)(close + 1 - s), s);
    while (name_char(*p)) p++;
    size_t nlen = (size_t)(p - name);
    bool has_default = false, empty_is_unset = false;
    if (p[0] == ':' && p[1] == '-') {
        has_default = empty_is_unset = true;
        p += 2;
    } else if (p[0] == '-') {
        has_default = true;
        p += 1;
    } else if (p != close) {
        return ss_err_set(err, SS_EUSAGE,
                          "\"%.*s\": expected ${NAME}, ${NAME:-default} or ${NAME-default}",
                          (int)(close + 1 - s), s);
    }
    char var[256];
    if (nlen >= sizeof var) return ss_err_set(err, SS_EUSAGE, "\"%.40s...\": variable name too long", s);
    memcpy(var, name, nlen);
    var[nlen] = '\0';
    const char *value = getenv(var);
    bool use_default = has_default && (!value || (empty_is_unset && !*value));
    if (use_default) ss_buf_add(out, p, (size_t)(close - p));
    else if (value) ss_buf_adds(out, value);
    else
        return ss_err_set(err, SS_EUSAGE,
                          "${%s} is not set in the environment (${%s:-default} gives a default, $$ is a literal $)",
                          var, var);
    *end = close + 1;
    return SS_OK;
}

int ss_envsubst(const char *in, struct ss_buf *out, struct ss_err *err) {
    const char *s = in;
    for (;;) {
        const char *dollar = strchr(s, '$');
        if (!dollar) break;
        ss_buf_add(out, s, (size_t)(dollar - s));
        if (dollar[1] == '$') {
            ss_buf_addc(out, '$');
            s = dollar + 2;
        } else if (dollar[1] == '{') {
            int rc = expand_one(dollar, &s, out, err);
            if (rc) return rc;
        } else {
            ss_buf_addc(out, '$');
            s = dollar + 1;
        }
    }
    ss_buf_adds(out, s);
    ss_buf_addc(out, '\0');
    out->len--;
    return SS_OK;
}
