/*
 * A standalone driver for the fuzz targets: runs LLVMFuzzerTestOneInput
 * once on each file named on the command line (directories are walked,
 * in name order), without libFuzzer, so that `make check` replays the
 * corpora and every past crash in seconds. A crash or a sanitizer report
 * aborts with the name of the input printed first.
 */
#include <dirent.h>
#include <errno.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static size_t ran;
static const char *current;

/* Sanitizers call this before they exit: name the input that failed. */
static void on_death(void)
{
        if (current)
                fprintf(stderr, "replay: failing input: %s\n", current);
}

static int run_file(const char *path)
{
        FILE *fp = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, n;

        if (!fp) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                if (len == cap) {
                        uint8_t *p;

                        cap = cap ? cap * 2 : 4096;
                        p = realloc(buf, cap);
                        if (!p) {
                                fprintf(stderr, "replay: out of memory\n");
                                free(buf);
                                fclose(fp);
                                return -1;
                        }
                        buf = p;
                }
                n = fread(buf + len, 1, cap - len, fp);
                len += n;
                if (n == 0)
                        break;
        }
        fclose(fp);
        /* An exactly sized copy, so that ASan sees any read past the end. */
        {
                uint8_t *exact = malloc(len ? len : 1);

                if (!exact) {
                        free(buf);
                        return -1;
                }
                if (len)
                        memcpy(exact, buf, len);
                free(buf);
                current = path;
                LLVMFuzzerTestOneInput(exact, len);
                current = NULL;
                free(exact);
        }
        ran++;
        return 0;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
        struct stat st;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int rc = 0;
        DIR *dir;

        if (stat(path, &st)) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path);
        dir = opendir(path);
        if (!dir) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        while ((de = readdir(dir))) {
                char *full;

                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **p;

                        cap = cap ? cap * 2 : 64;
                        p = realloc(names, cap * sizeof(*names));
                        if (!p) {
                                rc = -1;
                                break;
                        }
                        names = p;
                }
                if (asprintf(&full, "%s/%s", path, de->d_name) < 0) {
                        rc = -1;
                        break;
                }
                names[n++] = full;
        }
        closedir(dir);
        if (n)
                qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++) {
                if (!rc)
                        rc = run_path(names[i]);
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv)
{
        int rc = 0;

        __sanitizer_set_death_callback(on_death);
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc && !rc; i++)
                rc = run_path(argv[i]);
        printf("replay: %zu inputs\n", ran);
        return rc ? 1 : 0;
}
