/* input_files.h — the files one file input reads, in order. */
#ifndef SS_INPUT_FILES_H
#define SS_INPUT_FILES_H

#include <stddef.h>

#include "../core/err.h"

/* The files input path url names, in *files (n of them, each and the array to be freed
 * with ss_input_files_free):
 * - "-" (stdin), or a path that exists and is not a directory: that one;
 * - a directory: every regular file directly in it whose name does not start with a
 *   dot, in byte order of their names;
 * - a path that does not exist but holds a glob pattern (*, ? or [...]): every regular
 *   file it matches, in byte order of their paths;
 * - any other path: that one (opening it reports what is wrong).
 * A directory or pattern with no such file is a usage error naming it. */
int ss_input_files(const char *url, char ***files, size_t *n, struct ss_err *err);
void ss_input_files_free(char **files, size_t n);

#endif
