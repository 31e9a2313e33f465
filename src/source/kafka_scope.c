/* kafka_scope.c — a librdkafka property's client kind, from librdkafka's own table
 * (see kafka_scope.h). */
#include "kafka_scope.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

struct prop {
    char *name;
    char scope;
};

static struct prop *props;
static size_t nprops;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Rows look like "linger.ms                                |  P  | 0 .. 900000 | ...". */
static void load(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return;
    rd_kafka_conf_properties_show(f);
    fclose(f);
    size_t cap = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *bar = strchr(line, '|');
        if (!bar || line[0] == '#' || line[0] == '-' || line[0] == ' ') continue;
        char *end = bar;
        while (end > line && end[-1] == ' ') end--;
        char *scope = bar + 1;
        while (*scope == ' ') scope++;
        if (end == line || !(scope[0] == 'C' || scope[0] == 'P' || scope[0] == '*') || scope[1] != ' ') continue;
        SS_GROW(props, cap, nprops + 1);
        props[nprops].name = ss_strndup(line, (size_t)(end - line));
        props[nprops++].scope = scope[0];
    }
    free(text);
}

char ss_kafka_prop_scope(const char *name) {
    pthread_once(&once, load);
    for (size_t i = 0; i < nprops; i++)
        if (!strcmp(props[i].name, name)) return props[i].scope;
    return 0;
}
