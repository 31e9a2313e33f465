/* kafka_scope.h — which kind of client a librdkafka property is for.
 *
 * A run hands the same -X / kafka.<property> settings to its consumers and to the Kafka
 * sink's producer, and librdkafka warns about each one meant for the other kind ("is a
 * producer property and will be ignored by this consumer instance"): a warning per
 * client for doing what the user asked. librdkafka knows each property's kind, and
 * says so only in the table rd_kafka_conf_properties_show prints (its C/P column),
 * so that table is read once. */
#ifndef SS_KAFKA_SCOPE_H
#define SS_KAFKA_SCOPE_H

/* 'C' (consumers only), 'P' (producers only), '*' (both), or 0 when librdkafka does
 * not list the name (it will refuse it, naming it). Thread-safe. */
char ss_kafka_prop_scope(const char *name);

#endif
