/* fuzz_config.c — libFuzzer target for the configuration loaders (src/core/config.c,
 * src/core/envsubst.c): the YAML file of `-c FILE` (libyaml), the ${NAME} expansion of
 * its values, `--set key=value` and the SHOPSTREAM_* environment. Bad input there must
 * end in SS_EUSAGE (the command exits 2) with a message, never a crash, a leak (the
 * libFuzzer build checks each input for leaks), undefined behaviour or a hang.
 *
 * Each input is written to a file and loaded as the config file; each of its first
 * lines is also given to --set, to ${} expansion alone, and all of them together as the
 * environment. Beyond "no crash", it checks: every code is SS_OK or SS_EUSAGE; every
 * refusal has a message, a config file's names the file; ${} expansion of text without
 * a $ is that text; and a configuration that loaded prints (--print-config) as YAML that
 * loads back to the same configuration, printed the same — except librdkafka secrets,
 * which the print hides on purpose, and values given by --set that are not UTF-8, which
 * no YAML file can hold.
 *
 * The environment holds FUZZ_A=a, FUZZ_EMPTY= (empty) and FUZZ_DOLLAR=$x for ${} to find.
 *
 * Build: see tests/fuzz/README.md. Define SS_FUZZ_MAIN to get a plain main() that
 * replays files (works with gcc, no libFuzzer needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/envsubst.h"
#include "core/log.h"
#include "core/utf8.h"
#include "sink/sink.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz.h"

#define MAX_LINES 16

static char yml[64];      /* the config file: one per process, removed at exit */
static char yml2[80];    /* the printed configuration, loaded back */

static void remove_files(void) {
    unlink(yml);
    unlink(yml2);
}

static void init_once(void) {
    if (yml[0]) return;
    ss_log_set_level(SS_LOG_ERROR); /* near-miss names in the environment warn */
    const char *tmp = getenv("TMPDIR");
    snprintf(yml, sizeof yml, "%s/fuzz_config.%d.yml", tmp && strlen(tmp) < 30 ? tmp : "/tmp", (int)getpid());
    snprintf(yml2, sizeof yml2, "%s.printed", yml);
    atexit(remove_files);
    setenv("FUZZ_A", "a", 1);
    setenv("FUZZ_EMPTY", "", 1);
    setenv("FUZZ_DOLLAR", "$x", 1);
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(p, 1, n, f) == n);
    FUZZ_CHECK(fclose(f) == 0);
}

static char *print_config(const struct ss_config *cfg) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_CHECK(f != NULL);
    ss_config_print(f, cfg);
    FUZZ_CHECK(fclose(f) == 0);
    return text;
}

/* The print without the lines that stand for hidden secrets ("# kafka.X: (set, hidden)"). */
static void drop_hidden(char *text) {
    char *w = text;
    for (char *r = text; *r;) {
        char *nl = strchr(r, '\n');
        size_t n = nl ? (size_t)(nl - r) + 1 : strlen(r);
        if (strncmp(r, "# kafka.", 8) != 0) {
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    *w = '\0';
}

/* What --print-config says reads back (ss_config_print): load the print, print again. */
static void check_reprint(const struct ss_config *cfg) {
    char *first = print_config(cfg);
    write_file(yml2, first, strlen(first));
    struct ss_config again;
    struct ss_err err = {0};
    ss_config_init(&again);
    int rc = ss_config_load_yaml(&again, yml2, &err);
    if (rc) fprintf(stderr, "fuzz_config: the printed configuration does not load: %s\n%s", err.msg, first);
    FUZZ_CHECK(rc == SS_OK);
    char *second = print_config(&again);
    drop_hidden(first);
    if (strcmp(first, second) != 0) fprintf(stderr, "fuzz_config: printed\n%s\nreads back as\n%s", first, second);
    FUZZ_CHECK(strcmp(first, second) == 0);
    free(second);
    free(first);
    ss_config_free(&again);
}

static void check_refusal(int rc, const struct ss_err *err) {
    FUZZ_CHECK(rc == SS_EUSAGE);
    FUZZ_CHECK(err->msg[0] != '\0');
}

static void run_yaml(const uint8_t *data, size_t size) {
    write_file(yml, data, size);
    struct ss_config cfg;
    struct ss_err err = {0};
    ss_config_init(&cfg);
    int rc = ss_config_load_yaml(&cfg, yml, &err);
    if (rc) {
        check_refusal(rc, &err);
        FUZZ_CHECK(strstr(err.msg, yml) != NULL);
    } else {
        check_reprint(&cfg);
    }
    ss_config_free(&cfg);
}

static void run_line(const char *line) {
    /* --set key=value */
    struct ss_config cfg;
    struct ss_err err = {0};
    ss_config_init(&cfg);
    int rc = ss_config_set_kv(&cfg, line, &err);
    if (rc) check_refusal(rc, &err);
    else if (ss_utf8_valid(line, strlen(line))) check_reprint(&cfg);
    ss_config_free(&cfg);
    /* ${} expansion alone */
    struct ss_buf out = {0};
    rc = ss_envsubst(line, &out, &err);
    if (rc) {
        check_refusal(rc, &err);
    } else {
        FUZZ_CHECK(out.p != NULL && out.len == strlen(out.p));
        if (!strchr(line, '$')) FUZZ_CHECK(strcmp(out.p, line) == 0);
    }
    ss_buf_free(&out);
}

/* All lines as the environment (as `run` reads it: SHOPSTREAM_<KEY>=value). */
static void run_env(char **lines, int n) {
    char *envp[MAX_LINES + 1];
    for (int i = 0; i < n; i++) envp[i] = lines[i];
    envp[n] = NULL;
    struct ss_config cfg;
    struct ss_err err = {0};
    ss_config_init(&cfg);
    int rc = ss_config_load_env(&cfg, envp, ss_sink_url_begins, &err);
    if (rc) check_refusal(rc, &err);
    ss_config_warn_env(envp);
    ss_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    init_once();
    run_yaml(data, size);
    /* the first lines, each a C string (a NUL ends one, as in argv) */
    char *text = ss_malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[MAX_LINES];
    int n = 0;
    for (char *p = text; n < MAX_LINES && p < text + size;) {
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (nl) *nl = '\0';
        lines[n++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    for (int i = 0; i < n; i++) run_line(lines[i]);
    run_env(lines, n);
    ss_free(text);
    return 0;
}
