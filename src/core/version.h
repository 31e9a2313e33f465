/* version.h — the one place the version is set: `shopstream --version` prints it and
 * the Parquet files' created_by carries it (readers decide from created_by which
 * writers' statistics to trust). SS_BUILD may be given on the compiler's command line. */
#ifndef SS_VERSION_H
#define SS_VERSION_H

#define SS_VERSION "0.1.0"
#ifndef SS_BUILD
#define SS_BUILD "dev"
#endif

#endif
