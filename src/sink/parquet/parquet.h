/* parquet.h — the Parquet lake sink (`parquet:DIR`, ../parquet_sink.c), registered
 * in the sink list (registry.c). The file writer it uses is writer.h. */
#ifndef SS_PQ_PARQUET_H
#define SS_PQ_PARQUET_H

#include "../sink.h"

extern const struct ss_sink_type ss_sink_parquet;

#endif
