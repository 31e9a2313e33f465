/* fuzz.h — what every fuzz target in tests/fuzz/ shares: FUZZ_CHECK, an invariant that
 * aborts (libFuzzer then saves the input), and under -DSS_FUZZ_MAIN a plain main() that
 * runs LLVMFuzzerTestOneInput on each file named on the command line (a corpus, a crash
 * reproducer), so a target also builds and replays with gcc, without libFuzzer.
 * Define FUZZ_NAME (the target's name, for messages) before including it. */
#ifndef SS_FUZZ_H
#define SS_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s: invariant failed: %s (%s:%d)\n", FUZZ_NAME, #c, __FILE__, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef SS_FUZZ_MAIN

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = ss_malloc(cap);
        size_t r;
        while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) buf = ss_realloc(buf, cap *= 2);
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        ss_free(buf);
    }
    printf("%s: %d inputs replayed\n", FUZZ_NAME, argc - 1);
    return 0;
}
#endif
#endif
