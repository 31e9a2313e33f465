/* input_spec.c — parses `--input STREAM=PATH` (also the YAML `inputs:` items). */
#include <string.h>

#include "../core/alloc.h"
#include "../decode/decode.h"
#include "source.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int ss_input_spec_parse(struct ss_input_spec *spec, const char *arg, const char *default_format,
                        struct ss_err *err) {
    memset(spec, 0, sizeof *spec);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return ss_err_set(err, SS_EUSAGE, "--input expects STREAM=PATH (streams: clicks, promotions, orders), got \"%s\"",
                          arg);
    char stream[32];
    size_t n = (size_t)(eq - arg);
    if (n >= sizeof stream) n = sizeof stream - 1;
    memcpy(stream, arg, n);
    stream[n] = '\0';
    enum ss_stream s;
    if (ss_stream_parse(stream, &s) != SS_OK)
        return ss_err_set(err, SS_EUSAGE, "--input %s: unknown stream \"%s\" (streams: clicks, promotions, orders)", arg,
                          stream);
    const char *url = eq + 1;
    const char *fmt = default_format ? default_format : "auto";
    int format;
    if (!strcmp(fmt, "json")) format = SS_FMT_JSON;
    else if (!strcmp(fmt, "csv")) format = SS_FMT_CSV;
    else if (!strcmp(fmt, "auto"))
        format = ends_with(url, ".csv") || ends_with(url, ".csv.gz") || ends_with(url, ".csv.zst") ? SS_FMT_CSV
                                                                                                  : SS_FMT_JSON;
    else return ss_err_set(err, SS_EUSAGE, "format \"%s\" is not one of auto, json, csv", fmt);
    spec->stream = s;
    spec->url = ss_strdup(url);
    spec->format = format;
    return SS_OK;
}

void ss_input_spec_free(struct ss_input_spec *spec) {
    ss_free(spec->url);
    spec->url = NULL;
}

const struct ss_source_type *ss_source_type_of(const struct ss_input_spec *spec) {
    return strncmp(spec->url, "kafka://", 8) == 0 ? &ss_source_kafka : &ss_source_file;
}

int ss_record_limit_check(const struct ss_config *cfg, struct ss_err *err) {
    if (cfg->max_record_bytes >= 1024 && cfg->max_record_bytes <= (64 << 20)) return SS_OK;
    return ss_err_set(err, SS_EUSAGE, "input.max_record_bytes must be between 1024 and 67108864 (64 MiB; got %lld)",
                      (long long)cfg->max_record_bytes);
}
