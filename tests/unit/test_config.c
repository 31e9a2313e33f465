/* test_config.c — the configuration loaders (core/config.c) on input they must refuse or
 * read exactly, mostly what the fuzz target (tests/fuzz/fuzz_config.c) found: every
 * refusal is SS_EUSAGE (exit 2) with a message, and --print-config reads back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "harness.h"

static char dir[64];

static char *printed(const struct ss_config *cfg) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ss_config_print(f, cfg);
    fclose(f);
    return text;
}

/* cfg's print loads back into a configuration that prints the same. */
static int reprints(const struct ss_config *cfg) {
    char *first = printed(cfg), path[128];
    snprintf(path, sizeof path, "%s/printed.yml", dir);
    FILE *f = fopen(path, "w");
    fputs(first, f);
    fclose(f);
    struct ss_config again;
    struct ss_err err = {0};
    ss_config_init(&again);
    int rc = ss_config_load_yaml(&again, path, &err);
    if (rc) fprintf(stderr, "printed configuration does not load: %s\n", err.msg);
    char *second = rc ? NULL : printed(&again);
    int same = second && strcmp(first, second) == 0;
    free(first);
    free(second);
    ss_config_free(&again);
    return same;
}

/* A librdkafka property is named in letters, digits, '.', '_' and '-': --set took any
 * bytes after "kafka.", and --print-config then wrote a key YAML cannot read back
 * (`kafka.a\x01cks: "all"`: "control character 0x01"; `kafka.a: b` another mapping). */
TEST(test_kafka_property_names) {
    static const char *const bad[] = {"kafka.a\x01" "cks=all", "kafka.a: b=c", "kafka.a b=c", "kafka.x#y=1",
                                      "kafka.\xc3\xa9=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ss_config cfg;
        struct ss_err err = {0};
        ss_config_init(&cfg);
        CHECK_EQ_INT(ss_config_set_kv(&cfg, bad[i], &err), SS_EUSAGE);
        CHECK(strstr(err.msg, "librdkafka property name") != NULL);
        CHECK_EQ_INT(cfg.nkafka_props, 0);
        ss_config_free(&cfg);
    }
    struct ss_config cfg;
    struct ss_err err = {0};
    ss_config_init(&cfg);
    CHECK_EQ_INT(ss_config_set_kv(&cfg, "kafka.bootstrap.servers=k1:9092,k2:9092", &err), SS_OK);
    CHECK_EQ_INT(ss_config_set_kv(&cfg, "kafka.enable_idempotence-x=a: b #c", &err), SS_OK);
    CHECK_EQ_INT(ss_config_set_kv(&cfg, "kafka.sasl.password=p", &err), SS_OK);
    CHECK_EQ_INT(cfg.nkafka_props, 3);
    CHECK(reprints(&cfg) == 0);  /* the password is printed as a comment only */
    ss_config_free(&cfg);
    ss_config_init(&cfg);
    CHECK_EQ_INT(ss_config_set_kv(&cfg, "kafka.bootstrap.servers=k1:9092,k2:9092", &err), SS_OK);
    CHECK_EQ_INT(ss_config_set_kv(&cfg, "kafka.enable_idempotence-x=a: b #c", &err), SS_OK);
    CHECK(reprints(&cfg));
    ss_config_free(&cfg);
}

/* Loads text as a config file into a fresh configuration; the code, *cfg kept (free it). */
static int load_text(struct ss_config *cfg, const char *text, struct ss_err *err) {
    char path[128];
    snprintf(path, sizeof path, "%s/c.yml", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    ss_config_init(cfg);
    return ss_config_load_yaml(cfg, path, err);
}

/* Aliases of aliases repeat a mapping 2^n times in n lines. Under kafka:, where every key
 * is taken, a 1 KB file of 30 such lines kept `run -c` busy for ever (each of 2^30 keys
 * also compared with all before it); this one's 2^14 were accepted as 16384 properties.
 * The walk stops at 10000 keys and values; an alias that repeats little still reads. */
TEST(test_yaml_alias_bomb) {
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "kafka:\n  l0: &l0 {a: 1, b: 2}\n");
    for (int i = 1; i < 14; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  l%d: &l%d {a: *l%d, b: *l%d}\n", i, i, i - 1, i - 1);
    struct ss_config cfg;
    struct ss_err err = {0};
    CHECK_EQ_INT(load_text(&cfg, text, &err), SS_EUSAGE);
    CHECK(strstr(err.msg, "c.yml:") != NULL && strstr(err.msg, "more than 10000") != NULL);
    ss_config_free(&cfg);
    CHECK_EQ_INT(load_text(&cfg, "lateness: &d 10m\nsessions: {gap: *d}\nkafka: {a: &k {b: 1}, c: *k}\n", &err), SS_OK);
    CHECK_EQ_INT(cfg.lateness_ms, 600000);
    CHECK_EQ_INT(cfg.session_gap_ms, 600000);
    CHECK_EQ_INT(cfg.nkafka_props, 2);
    ss_config_free(&cfg);
}

/* --print-config wrote a value's U+2028 as it is, inside double quotes, where YAML reads
 * a line break and folds it into a space ("${\u2028  x" came back as "${ x"), and C1
 * controls (U+0080) and U+FFFE raw, which YAML refuses in a file: the print of a value
 * holding them did not read back (found by fuzz_config). They are escaped now. */
TEST(test_print_unicode_breaks) {
    static const char *const odd[] = {"a\xe2\x80\xa8  b",  /* U+2028 then spaces: folded */
                                      "a\xe2\x80\xa9" "b", "a\xc2\x85" "b", "a\xc2\x80" "b",
                                      "\xef\xbb\xbf" "a",  "a\xef\xbf\xbe", "caf\xc3\xa9 \xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        struct ss_config cfg;
        struct ss_err err = {0};
        ss_config_init(&cfg);
        CHECK_EQ_INT(ss_config_set(&cfg, "fields.clicks.user_id", odd[i], &err), SS_OK);
        CHECK_EQ_INT(ss_config_set(&cfg, "sinks", odd[i], &err), SS_OK);
        CHECK(reprints(&cfg));
        ss_config_free(&cfg);
    }
    /* and from a file's escapes: \L is U+2028, \N U+0085 */
    struct ss_config cfg;
    struct ss_err err = {0};
    CHECK_EQ_INT(load_text(&cfg, "kafka.group_id: \"g\\Lh\\Ni\"\n", &err), SS_OK);
    CHECK_EQ_STR(cfg.kafka_group, "g\xe2\x80\xa8h\xc2\x85i");
    CHECK(reprints(&cfg));
    ss_config_free(&cfg);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_config.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_kafka_property_names);
    RUN(test_yaml_alias_bomb);
    RUN(test_print_unicode_breaks);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return ss_t_report("config");
}
