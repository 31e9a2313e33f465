/* parquet.h — the Parquet lake sink (`parquet:DIR`, ../parquet_sink.c), registered
 * in the sink list (registry.c). The file writer it uses is writer.h. */
#ifndef SS_PQ_PARQUET_H
#define SS_PQ_PARQUET_H

#include "../sink.h"

extern const struct ss_sink_type ss_sink_parquet;

/* The token in the names of the files this sink writes (part-<epoch>-<seq>-<run>). */
const char *ss_pq_sink_run(const struct ss_sink *sk);
/* Where it writes the file `final` (a path under its DIR) until the file is complete:
 * DIR/.tmp/<run>/<final below DIR, '/' as '+'>.tmp (allocated; NULL when too long). */
char *ss_pq_sink_temp_path(const struct ss_sink *sk, const char *final);

#endif
