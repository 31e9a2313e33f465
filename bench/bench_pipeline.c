/* bench_pipeline.c — one-thread throughput of shopstream over a clicks file:
 *   decode-only: file source + JSON decoder, nothing else;
 *   full: the whole engine (validate, late, dedup, every operator, JSONL sink).
 * Prints events/s, peak RSS and state bytes per live session / remembered event id
 * (sampled at every epoch boundary; the worst sample near the peak is reported). bench/run prints the peer
 * (`wc -l` over the same file) next to it. Not a test: figures, not pass/fail. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "decode/decode.h"
#include "engine/engine.h"
#include "source/source.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* State samples at every epoch boundary. A table's bytes per key depend on where it is
 * in its growth cycle and on what it has accumulated, so the figure reported is the worst
 * sample among those within 10 % of the peak key count, not just the one at the peak. */
#define MAX_SAMPLES 4096

struct samples {
    size_t n;
    size_t sess_keys[MAX_SAMPLES], sess_bytes[MAX_SAMPLES], id_keys[MAX_SAMPLES], id_bytes[MAX_SAMPLES];
};

static void sample(void *ctx, struct ss_engine *e) {
    struct samples *p = ctx;
    if (p->n == MAX_SAMPLES) return;
    const char *name;
    size_t bytes, keys;
    p->sess_keys[p->n] = p->sess_bytes[p->n] = p->id_keys[p->n] = p->id_bytes[p->n] = 0;
    for (int i = -1; ss_engine_op_state(e, i, &name, &bytes, &keys); i++) {
        if (!strcmp(name, "sessions")) {
            p->sess_keys[p->n] = keys;
            p->sess_bytes[p->n] = bytes;
        }
        if (!strcmp(name, "dedup")) {
            p->id_keys[p->n] = keys;
            p->id_bytes[p->n] = bytes;
        }
    }
    p->n++;
}

/* The worst bytes per key among the samples within 10 % of the peak; *peak: the peak. */
static double worst_near_peak(const size_t *keys, const size_t *bytes, size_t n, size_t *peak) {
    *peak = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i] > *peak) *peak = keys[i];
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i] && keys[i] * 10 >= *peak * 9 && (double)bytes[i] / (double)keys[i] > worst)
            worst = (double)bytes[i] / (double)keys[i];
    return worst;
}

/* CPU seconds of every thread of the process so far. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of the process's threads named `name` so far, from
 * /proc/self/task/TID/stat: the engine's decoding and commit threads, which live from
 * ss_engine_open to ss_engine_close, so what they spent is this run's. */
static double named_threads_cpu_s(const char *name) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    double s = 0, tick = (double)sysconf(_SC_CLK_TCK);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        /* "TID (comm) state ...": comm may hold spaces, so the fields start after the last ')' */
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close || close < open || (size_t)(close - open - 1) != strlen(name) ||
            strncmp(open + 1, name, strlen(name)) != 0)
            continue;
        unsigned long long ut = 0, st = 0;
        /* after the comm: state (3), then fields 4-13, utime (14), stime (15) */
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            s += (double)(ut + st) / tick;
    }
    closedir(d);
    return s;
}

static long peak_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_pipeline CLICKS.jsonl OUTDIR\n");
        return 2;
    }
    struct ss_config cfg;
    ss_config_init(&cfg);
    struct ss_err err = {0};

    /* decode-only */
    struct ss_input_spec spec = {.stream = SS_STREAM_CLICKS, .url = argv[1], .format = SS_FMT_JSON};
    struct ss_source *src;
    struct ss_decoder *dec;
    if (ss_source_file.open(&src, &spec, &cfg, &err) || ss_decoder_open(&dec, SS_STREAM_CLICKS, SS_FMT_JSON,
                                                                        cfg.field_names[SS_STREAM_CLICKS], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct ss_record *recs = calloc(4096, sizeof *recs);
    struct ss_arena arena;
    ss_arena_init(&arena, 1 << 20);
    long n = 0, valid = 0;
    double t0 = now_s();
    for (;;) {
        int k = ss_source_file.poll(src, recs, 4096, 0, &err);
        if (k == SS_EOF) break;
        for (int i = 0; i < k; i++) {
            struct ss_event ev;
            struct ss_decode_result res;
            if (ss_decoder_decode(dec, recs[i].data, recs[i].len, &arena, &ev, &res) == SS_DEC_EVENT) valid++;
        }
        n += k;
        ss_arena_reset(&arena);
    }
    double t_dec = now_s() - t0;
    ss_decoder_close(dec);
    ss_source_file.close(src);
    ss_arena_free(&arena);
    free(recs);
    printf("decode-only      %10ld records  %6.2f s  %10.0f events/s  (valid %ld)\n", n, t_dec, (double)n / t_dec,
           valid);

    /* the full pipeline */
    struct ss_engine *e;
    char input[4096], sink[4096];
    snprintf(input, sizeof input, "clicks=%s", argv[1]);
    snprintf(sink, sizeof sink, "jsonl:%s", argv[2]);
    static struct samples pk;
    if (ss_engine_open(&e, &cfg, &err) || ss_engine_add_input(e, input, &err) || ss_engine_add_sink(e, sink, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    ss_engine_set_epoch_hook(e, sample, &pk);
    t0 = now_s();
    double c0 = cpu_s(), ops0 = thread_cpu_s();
    if (ss_engine_run(e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_full = now_s() - t0, c_full = cpu_s() - c0, c_ops = thread_cpu_s() - ops0;
    const struct ss_run_stats *st = ss_engine_stats(e);
    printf("full pipeline    %10lld records  %6.2f s  %10.0f events/s  (late %lld, duplicates %lld, invalid %lld)\n",
           (long long)st->records, t_full, (double)st->records / t_full, (long long)st->late,
           (long long)st->duplicates, (long long)st->invalid);
    /* the operators run on one thread, decoding and the sinks' writes on two more
     * (engine/predecode.c, engine/committer.c): per CPU-second is the per-core figure */
    printf("                 %.2f s CPU, all threads: %10.0f events per CPU-second\n", c_full,
           (double)st->records / c_full);
    /* the thread busiest for the wall time sets the pace */
    printf("                 by thread: operators %.2f s (%.0f %% of the wall), decoding %.2f s, sink writes %.2f s\n",
           c_ops, 100 * c_ops / t_full, named_threads_cpu_s("ss-decode"), named_threads_cpu_s("ss-commit"));
    size_t peak_sessions, peak_ids;
    double per_session = worst_near_peak(pk.sess_keys, pk.sess_bytes, pk.n, &peak_sessions);
    double per_id = worst_near_peak(pk.id_keys, pk.id_bytes, pk.n, &peak_ids);
    printf("state            %.1f bytes per live session (peak %zu sessions), %.1f bytes per remembered event id "
           "(peak %zu ids): the worst sample within 10 %% of the peak (%zu samples, one per epoch)\n",
           per_session, peak_sessions, per_id, peak_ids, pk.n);
    printf("peak RSS         %ld MiB\n", peak_rss_kb() / 1024);
    ss_engine_close(e);
    ss_config_free(&cfg);
    return 0;
}
