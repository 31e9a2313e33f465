/* test_envsubst.c — ${NAME} in config file values (core/envsubst.c). The expected texts
 * are what docker compose's interpolation gives for the same values and environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envsubst.h"
#include "harness.h"

/* in expanded, or NULL when it is refused (then err's message must contain want_err) */
static void expands(const char *in, const char *want, const char *want_err) {
    struct ss_buf out = {0};
    struct ss_err err = {0};
    int rc = ss_envsubst(in, &out, &err);
    if (want) {
        CHECK_EQ_INT(rc, SS_OK);
        if (!rc) CHECK_EQ_STR(out.p, want);
        if (!rc) CHECK_EQ_INT(out.len, strlen(want));
    } else {
        CHECK_EQ_INT(rc, SS_EUSAGE);
        if (!strstr(err.msg, want_err)) fprintf(stderr, "  message: %s\n", err.msg);
        CHECK(strstr(err.msg, want_err) != NULL);
    }
    ss_buf_free(&out);
}

TEST(plain_values_unchanged) {
    expands("", "", NULL);
    expands("10m", "10m", NULL);
    expands("postgresql://u@h/db", "postgresql://u@h/db", NULL);
    /* a $ not followed by { or $ is itself: values written before ${} existed keep working */
    expands("pa$word", "pa$word", NULL);
    expands("$", "$", NULL);
    expands("a$", "a$", NULL);
    expands("$1 $x $(cmd) $-", "$1 $x $(cmd) $-", NULL);
}

TEST(variables) {
    setenv("SS_T_PW", "s3cr$t}{", 1);
    setenv("SS_T_EMPTY", "", 1);
    setenv("SS_T_REF", "${SS_T_PW}$$", 1);
    unsetenv("SS_T_UNSET");
    expands("${SS_T_PW}", "s3cr$t}{", NULL);
    expands("pre-${SS_T_PW}-post", "pre-s3cr$t}{-post", NULL);
    expands("${SS_T_PW}${SS_T_PW}", "s3cr$t}{s3cr$t}{", NULL);
    expands("${SS_T_EMPTY}", "", NULL);
    /* a value is not expanded again */
    expands("${SS_T_REF}", "${SS_T_PW}$$", NULL);
    /* defaults: :- for unset or empty, - for unset only; the default is taken as written */
    expands("${SS_T_UNSET:-5m}", "5m", NULL);
    expands("${SS_T_UNSET-5m}", "5m", NULL);
    expands("${SS_T_EMPTY:-5m}", "5m", NULL);
    expands("${SS_T_EMPTY-5m}", "", NULL);
    expands("${SS_T_PW:-5m}", "s3cr$t}{", NULL);
    expands("${SS_T_UNSET:-}", "", NULL);
    expands("${SS_T_UNSET:-a:b-c $x}", "a:b-c $x", NULL);
    expands("jsonl:${SS_T_UNSET:-data}/out", "jsonl:data/out", NULL);
    /* $$ is one $, also before { */
    expands("$$", "$", NULL);
    expands("a$$$$b", "a$$b", NULL);
    expands("$${SS_T_PW}", "${SS_T_PW}", NULL);
    expands("$$${SS_T_PW}", "$s3cr$t}{", NULL);
    expands("$$$${SS_T_PW}", "$${SS_T_PW}", NULL);
    expands("_${_A9_unset_:-x}", "_x", NULL);
}

TEST(refused) {
    unsetenv("SS_T_UNSET");
    expands("${SS_T_UNSET}", NULL, "${SS_T_UNSET} is not set in the environment");
    expands("x-${SS_T_UNSET}-y", NULL, "${SS_T_UNSET:-default} gives a default");
    expands("${SS_T_PW", NULL, "has no closing }");
    expands("${}", NULL, "a variable name is letters, digits and _");
    expands("${9X}", NULL, "not starting with a digit");
    expands("${A B}", NULL, "expected ${NAME}, ${NAME:-default} or ${NAME-default}");
    expands("${X:=1}", NULL, "expected ${NAME}");
    expands("${X?}", NULL, "expected ${NAME}");
    char longname[400] = "${";
    memset(longname + 2, 'A', 300);
    strcpy(longname + 302, "}");
    expands(longname, NULL, "variable name too long");
}

int main(void) {
    RUN(plain_values_unchanged);
    RUN(variables);
    RUN(refused);
    return ss_t_report("envsubst");
}
