/* parquet.h — the Parquet lake sink (`parquet:DIR`, ../parquet_sink.c), registered
 * in the sink list (registry.c). The file writer it uses is writer.h. */
#ifndef SS_PQ_PARQUET_H
#define SS_PQ_PARQUET_H

#include "../sink.h"

extern const struct ss_sink_type ss_sink_parquet;

/* The token in the names of the files this sink writes (part-<epoch>-<seq>-<run>). */
const char *ss_pq_sink_run(const struct ss_sink *sk);

#endif
