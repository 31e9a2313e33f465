/* test_dirs.c — ss_path_resolve (core/dirs.c): every spelling of one place resolves to
 * the same absolute path, whether the place exists or is still to be created by
 * ss_mkdirs, and that path is where ss_mkdirs creates it. Runs in a temporary directory
 * holding a directory a, a symbolic link l -> a and a file f. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirs.h"
#include "harness.h"

static char tmpdir[PATH_MAX]; /* its realpath: /tmp may itself be a link */

/* ss_path_resolve(path), or "ERROR" */
static const char *resolved(const char *path) {
    static char out[PATH_MAX];
    struct ss_err err = {0};
    return ss_path_resolve(path, out, &err) == SS_OK ? out : "ERROR";
}

/* tmpdir + suffix */
static const char *in_tmp(const char *suffix) {
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s%s", tmpdir, suffix);
    return p;
}

TEST(existing_places) {
    CHECK_EQ_STR(resolved("a"), in_tmp("/a"));
    CHECK_EQ_STR(resolved("./a/"), in_tmp("/a"));
    CHECK_EQ_STR(resolved("a//"), in_tmp("/a"));
    CHECK_EQ_STR(resolved("l"), in_tmp("/a"));
    CHECK_EQ_STR(resolved(in_tmp("/l/.")), in_tmp("/a"));
    CHECK_EQ_STR(resolved("f"), in_tmp("/f"));
    CHECK_EQ_STR(resolved("."), tmpdir);
    CHECK_EQ_STR(resolved("a/.."), tmpdir);
    CHECK_EQ_STR(resolved("l/.."), tmpdir); /* the link's target's parent, as the kernel has it */
    CHECK_EQ_STR(resolved("/"), "/");
    CHECK_EQ_STR(resolved("/.."), "/");
}

TEST(places_not_there_yet) {
    CHECK_EQ_STR(resolved("new"), in_tmp("/new"));
    CHECK_EQ_STR(resolved("./new/x/"), in_tmp("/new/x"));
    CHECK_EQ_STR(resolved("l/new/x"), in_tmp("/a/new/x"));
    CHECK_EQ_STR(resolved("new/../a"), in_tmp("/a"));
    CHECK_EQ_STR(resolved("new/x/../../l/y"), in_tmp("/a/y")); /* back on existing ground: l is followed */
    CHECK_EQ_STR(resolved("f/x"), in_tmp("/f/x"));             /* under a file: as written */
}

TEST(where_mkdirs_creates_it) {
    struct ss_err err = {0};
    char want[PATH_MAX], got[PATH_MAX];
    snprintf(want, sizeof want, "%s", resolved("m/../l/b/./c"));
    CHECK_EQ_INT(ss_mkdirs("m/../l/b/./c", &err), SS_OK);
    CHECK(realpath("l/b/c", got) != NULL);
    CHECK_EQ_STR(want, got);
}

TEST(bad_paths) {
    CHECK_EQ_STR(resolved(""), "ERROR");
    char longp[PATH_MAX + 10];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    CHECK_EQ_STR(resolved(longp), "ERROR");
}

int main(void) {
    char t[] = "/tmp/ss_test_dirs.XXXXXX";
    if (!mkdtemp(t) || !realpath(t, tmpdir) || chdir(tmpdir) != 0 || mkdir("a", 0755) != 0 ||
        symlink("a", "l") != 0) {
        perror("test setup");
        return 1;
    }
    FILE *f = fopen("f", "w");
    if (f) fclose(f);
    RUN(existing_places);
    RUN(places_not_there_yet);
    RUN(where_mkdirs_creates_it);
    RUN(bad_paths);
    if (ss_t_failed == 0) {
        char cmd[PATH_MAX + 20];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (chdir("/") != 0 || system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return ss_t_report("dirs");
}
