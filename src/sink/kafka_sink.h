/* kafka_sink.h — the Kafka outputs (`--sink kafka://HOST:PORT[?alerts=T&...]`). */
#ifndef SS_KAFKA_SINK_H
#define SS_KAFKA_SINK_H

#include "sink.h"

extern const struct ss_sink_type ss_sink_kafka;

#endif
