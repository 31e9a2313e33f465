/* produce_kafka.h — `shopstream produce --brokers`: the generator's records, or an
 * orders CSV replayed as JSON objects, to Kafka topics keyed by user_id. */
#ifndef SS_PRODUCE_KAFKA_H
#define SS_PRODUCE_KAFKA_H

#include "../source/generator.h"
#include "../source/kafka_producer.h"

struct ss_produce_kafka_args {
    struct ss_kafka_produce_opts kopts;   /* brokers, batching, compression, rate, -X */
    const char *csv_path;                 /* --csv FILE: replay it instead of generating */
};

/* Returns the process exit code (0, 1 runtime failure, 2 bad usage). */
int ss_produce_kafka_gen(struct ss_gen *g, const struct ss_produce_kafka_args *a);
int ss_produce_kafka_csv(const struct ss_produce_kafka_args *a);

#endif
