/* overlap.h — a run's inputs and sinks that name one file or destination twice.
 *
 * `shopstream run` checks these before any sink opens anything, comparing places
 * rather than spellings: "x", "./x", "x/", a symbolic link and a hard link to x name
 * one file alike (existing files by st_dev and st_ino; a sink directory or database
 * file that is still to be created by the path ss_path_resolve gives it).
 *
 *  - One destination given twice: two jsonl, parquet or sqlite sinks on one directory
 *    or database file would write every row twice, or trip each other's epoch fence.
 *    Other sinks (servers, console:) compare by URL, trailing slashes aside; http.listen
 *    as the metrics: sink it adds.
 *  - One input file given twice for a stream: its second copy would be nothing but
 *    duplicates; for two streams, each decoder would reject the other's records.
 *    A Kafka topic twice, for one stream or two, is caught by its URL; stdin can be read once.
 *  - An input that is a file a sink rewrites when it opens: a jsonl sink's
 *    DIR/<table>.jsonl (truncated, or appended to by a run that would read its own rows
 *    back), SQLite's database and its -wal, -shm and -journal files (SQLite overwrites
 *    or removes them), a file in a lake's DIR/.tmp/<run>/ (removed when that run looks
 *    stopped). The input would be gone before it is read. Only existing files can be
 *    inputs, so a sink file not there yet is never one. */
#ifndef SS_OVERLAP_H
#define SS_OVERLAP_H

#include "../core/config.h"
#include "../core/err.h"

/* SS_OK, or SS_EUSAGE naming both spellings (the two inputs or sinks, or the input and
 * the sink file it would overwrite). cfg's sinks are the effective ones: a
 * caller that applies default sinks adds them first. Opens and creates nothing. */
int ss_overlap_check(const struct ss_config *cfg, struct ss_err *err);

#endif
