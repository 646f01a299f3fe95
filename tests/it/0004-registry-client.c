/*
 * 0004: the Schema Registry client (runtime/registry.c) against the dev
 * stack's registry: register, lookup, versions, the id cache, Confluent
 * errors, compatibility levels, basic auth in the URL, a registry that is
 * down and one that comes up late. What the dev stack cannot be made to do
 * (answer 5xx, hang, check credentials, count connections) is checked
 * against a small libmicrohttpd server inside this process.
 *
 * Needs BIN, the kafkaaggregator binary. Every process it starts is
 * stopped on every path (atexit, SIGTERM, and PR_SET_PDEATHSIG).
 */
#include "registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAME         "0004-registry-client"
#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

/* ------------------------------------------------------------------ */
/* Failing, timing and child processes                                */

#define MAX_CHILDREN 8
static volatile pid_t children[MAX_CHILDREN];
static char tmpdir[256];
/* Env files of the dev stacks started, built before the fork so that the
 * signal handler only needs async-signal-safe calls to remove them. */
static char env_files[MAX_CHILDREN][300];
static int nenv_files;

static bool stop_child(pid_t pid, int *status);

/* Stops every child and removes the temporary files; async-signal-safe. */
static void cleanup(void)
{
        for (int i = 0; i < MAX_CHILDREN; i++) {
                if (children[i] > 0)
                        stop_child(children[i], NULL);
        }
        for (int i = 0; i < nenv_files; i++)
                unlink(env_files[i]);
        if (tmpdir[0])
                rmdir(tmpdir);
}

static void on_signal(int sig)
{
        (void)sig;
        cleanup();
        _exit(1);
}

__attribute__((format(printf, 2, 3), noreturn)) static void
fail_at(int line, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "FAIL: " NAME ": line %d: ", line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1); /* cleanup() runs atexit */
}

#define CHECK(cond, ...)                                                       \
        do {                                                                   \
                if (!(cond))                                                   \
                        fail_at(__LINE__, __VA_ARGS__);                        \
        } while (0)

/* err must be want; errstr must hold every needle. */
#define CHECK_ERR(err, want, errstr, ...)                                      \
        check_err(__LINE__, err, want, errstr,                                 \
                  (const char *[]){__VA_ARGS__, NULL})

static void check_err(int line, ka_err_t err, ka_err_t want, const char *errstr,
                      const char **needles)
{
        if (err != want)
                fail_at(line, "got %s, expected %s: %s", ka_err_str(err),
                        ka_err_str(want), err ? errstr : "");
        for (; *needles; needles++) {
                if (!strstr(errstr, *needles))
                        fail_at(line, "'%s' lacks '%s'", errstr, *needles);
        }
        printf("ok: line %d: %s%s%s\n", line, ka_err_str(err), err ? ": " : "",
               err ? errstr : "");
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) && errno == EINTR)
                ;
}

/* A TCP port on 127.0.0.1 that nothing listens on (as of now). */
static int free_port(void)
{
        struct sockaddr_in sin = {.sin_family = AF_INET};
        socklen_t len = sizeof(sin);
        int fd = socket(AF_INET, SOCK_STREAM, 0), port;

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK(fd >= 0, "socket: %s", strerror(errno));
        CHECK(!bind(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
                      !getsockname(fd, (struct sockaddr *)&sin, &len),
              "bind: %s", strerror(errno));
        port = ntohs(sin.sin_port);
        close(fd);
        return port;
}

static void add_child(pid_t pid)
{
        for (int i = 0; i < MAX_CHILDREN; i++) {
                if (children[i] <= 0) {
                        children[i] = pid;
                        return;
                }
        }
        kill(pid, SIGKILL);
        fail_at(__LINE__, "too many children");
}

/* SIGTERM, a bounded wait, then SIGKILL. True when it exited by itself. */
static bool stop_child(pid_t pid, int *status)
{
        int st = 0;
        bool exited = false;

        kill(pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
                pid_t r = waitpid(pid, &st, WNOHANG);

                /* -1: already reaped (the signal handler got there). */
                if (r == pid || (r < 0 && errno == ECHILD)) {
                        exited = true;
                        break;
                }
                sleep_ms(50);
        }
        if (!exited) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
        }
        for (int i = 0; i < MAX_CHILDREN; i++) {
                if (children[i] == pid)
                        children[i] = 0;
        }
        if (status)
                *status = st;
        return exited;
}

typedef struct devstack_s {
        pid_t pid;
        char env_file[300];
        char url[256]; /* SCHEMA_REGISTRY_URL once ready */
} devstack_t;

/*
 * Starts `$BIN dev-stack` after delay_ms, its registry on registry_port
 * (0: any). Does not wait for it.
 */
static void devstack_start(devstack_t *ds, int registry_port, long delay_ms)
{
        const char *bin = getenv("BIN");
        char port[16];
        pid_t parent = getpid(), pid;

        CHECK(bin && *bin, "BIN (the kafkaaggregator binary) is not set");
        CHECK(nenv_files < MAX_CHILDREN, "too many dev stacks");
        memset(ds, 0, sizeof(*ds));
        snprintf(ds->env_file, sizeof(ds->env_file), "%s/env-%d", tmpdir,
                 nenv_files);
        memcpy(env_files[nenv_files++], ds->env_file, sizeof(ds->env_file));
        snprintf(port, sizeof(port), "%d", registry_port);
        fflush(NULL);
        pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                /* Die with the test, whatever kills it. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(1);
                if (delay_ms > 0)
                        sleep_ms(delay_ms);
                execl(bin, bin, "dev-stack", "--kafka-port", "0",
                      "--registry-port", port, "--env-file", ds->env_file,
                      (char *)NULL);
                fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
                _exit(127);
        }
        add_child(pid);
        ds->pid = pid;
}

/* Waits (bounded) for the env file and reads SCHEMA_REGISTRY_URL. */
static void devstack_wait(devstack_t *ds, long timeout_ms)
{
        long deadline = now_ms() + timeout_ms;
        char line[512];
        int st;

        for (;;) {
                FILE *f = fopen(ds->env_file, "r");

                if (f) {
                        while (fgets(line, sizeof(line), f)) {
                                if (strncmp(line, "SCHEMA_REGISTRY_URL=", 20))
                                        continue;
                                line[strcspn(line, "\r\n")] = '\0';
                                snprintf(ds->url, sizeof(ds->url), "%.255s",
                                         line + 20);
                        }
                        fclose(f);
                        CHECK(ds->url[0], "%s has no SCHEMA_REGISTRY_URL line",
                              ds->env_file);
                        printf("dev stack %d: registry at %s\n", (int)ds->pid,
                               ds->url);
                        return;
                }
                if (waitpid(ds->pid, &st, WNOHANG) == ds->pid) {
                        for (int i = 0; i < MAX_CHILDREN; i++) {
                                if (children[i] == ds->pid)
                                        children[i] = 0;
                        }
                        fail_at(__LINE__,
                                "dev stack exited (status %d) before "
                                "writing %s",
                                st, ds->env_file);
                }
                CHECK(now_ms() < deadline,
                      "dev stack wrote no %s within %ld ms", ds->env_file,
                      timeout_ms);
                sleep_ms(20);
        }
}

static void devstack_stop(devstack_t *ds)
{
        int st;

        if (!ds->pid)
                return;
        if (!stop_child(ds->pid, &st) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fprintf(stderr,
                        "warning: dev stack %d did not exit 0 on SIGTERM "
                        "(status %d)\n",
                        (int)ds->pid, st);
        ds->pid = 0;
}

/* ------------------------------------------------------------------ */
/* Schemas                                                            */

static const char *const schema_a =
        "{\"type\":\"record\",\"name\":\"it0004\",\"fields\":["
        "{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"value0\",\"type\":\"double\"}]}";
/* schema_a plus an optional field: BACKWARD compatible. */
static const char *const schema_b =
        "{\"type\":\"record\",\"name\":\"it0004\",\"fields\":["
        "{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"value0\",\"type\":\"double\"},"
        "{\"name\":\"value1\",\"type\":[\"null\",\"double\"],"
        "\"default\":null}]}";
/* schema_b plus a field without default: not BACKWARD compatible. */
static const char *const schema_c =
        "{\"type\":\"record\",\"name\":\"it0004\",\"fields\":["
        "{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"value0\",\"type\":\"double\"},"
        "{\"name\":\"value1\",\"type\":[\"null\",\"double\"],"
        "\"default\":null},"
        "{\"name\":\"value2\",\"type\":\"double\"}]}";

/* The same JSON value, whatever the spacing and key order. */
static bool same_json(const char *a, const char *b)
{
        json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
        bool same = ja && jb && json_equal(ja, jb);

        json_decref(ja);
        json_decref(jb);
        return same;
}

static ka_registry_t *new_registry(const char *url,
                                   const ka_registry_opts_t *opts)
{
        char errstr[512];
        ka_registry_t *reg = ka_registry_new(url, opts, errstr, sizeof(errstr));

        CHECK(reg, "ka_registry_new(%s): %s", url, errstr);
        return reg;
}

#define REQUESTS(reg) ka_registry_request_count(reg)

/* ------------------------------------------------------------------ */
/* Against the dev stack                                              */

static void against_devstack(void)
{
        const ka_registry_opts_t fast = {.max_attempts = 2,
                                         .backoff_initial_ms = 50};
        char s1[128], s2[128], nosuch[128], errstr[1024], url[300];
        char path[256];
        ka_schema_info_t info = {0};
        ka_registry_t *reg, *auth;
        const char *sa, *sa2;
        devstack_t ds;
        int32_t id_a, id_b, id_c, id;
        uint64_t before;
        char *level;
        ka_err_t err;

        snprintf(s1, sizeof(s1), "ka-it-0004-%d-value", (int)getpid());
        snprintf(s2, sizeof(s2), "ka it 0004 %d spaced-value", (int)getpid());
        snprintf(nosuch, sizeof(nosuch), "ka-it-0004-%d-nosuch", (int)getpid());

        devstack_start(&ds, 0, 0);
        devstack_wait(&ds, 30000);
        reg = new_registry(ds.url, &fast);

        /* Registering twice keeps the id. */
        err = ka_registry_register(reg, s1, schema_a, &id_a, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(id_a >= 0, "register: id %d", (int)id_a);
        err = ka_registry_register(reg, s1, schema_a, &id, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(id == id_a, "registered again: id %d, first %d", (int)id,
              (int)id_a);

        err = ka_registry_latest(reg, s1, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == id_a && info.version == 1 && !strcmp(info.subject, s1),
              "latest: id %d version %d subject '%s'", (int)info.id,
              (int)info.version, info.subject);
        CHECK(same_json(info.schema, schema_a), "latest schema differs: %s",
              info.schema);
        ka_schema_info_release(&info);

        /* A compatible evolution is version 2 with a new id. */
        err = ka_registry_register(reg, s1, schema_b, &id_b, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(id_b >= 0 && id_b != id_a, "second schema: id %d (first %d)",
              (int)id_b, (int)id_a);
        err = ka_registry_latest(reg, s1, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == id_b && info.version == 2 &&
                      same_json(info.schema, schema_b),
              "latest after the second: id %d version %d schema %s",
              (int)info.id, (int)info.version, info.schema);
        ka_schema_info_release(&info);
        err = ka_registry_version(reg, s1, 1, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == id_a && info.version == 1 &&
                      same_json(info.schema, schema_a),
              "version 1: id %d version %d", (int)info.id, (int)info.version);
        ka_schema_info_release(&info);

        /* Lookup finds registered schemas only. */
        err = ka_registry_lookup(reg, s1, schema_a, &info, errstr,
                                 sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == id_a && info.version == 1 && !strcmp(info.subject, s1),
              "lookup: id %d version %d subject '%s'", (int)info.id,
              (int)info.version, info.subject);
        ka_schema_info_release(&info);
        err = ka_registry_lookup(reg, s1, schema_c, &info, errstr,
                                 sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, "HTTP 404", "40403");
        CHECK(!info.schema, "a failed lookup left a schema");

        /* Confluent errors, each from one request (4xx is not retried). */
        before = REQUESTS(reg);
        err = ka_registry_latest(reg, nosuch, &info, errstr, sizeof(errstr));
        snprintf(path, sizeof(path), "GET /subjects/%s/versions/latest",
                 nosuch);
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, ds.url, path, "HTTP 404",
                  "error_code 40401");
        CHECK(REQUESTS(reg) - before == 1, "a 404 took %d requests",
              (int)(REQUESTS(reg) - before));
        err = ka_registry_version(reg, s1, 99, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, "HTTP 404", "40402");
        err = ka_registry_schema_by_id(reg, 999999, &sa, errstr,
                                       sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, "/schemas/ids/999999",
                  "HTTP 404", "40403");
        before = REQUESTS(reg);
        err = ka_registry_register(reg, s1, "{\"type\":\"nosuchtype\"}", &id,
                                   errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_INVALID, errstr, "HTTP 422", "42201");
        CHECK(REQUESTS(reg) - before == 1, "a 422 took %d requests",
              (int)(REQUESTS(reg) - before));

        /* BACKWARD refuses a new field without default... */
        err = ka_registry_set_compatibility(reg, s1, "BACKWARD", errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        err = ka_registry_get_compatibility(reg, s1, &level, errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(!strcmp(level, "BACKWARD"), "level '%s'", level);
        free(level);
        before = REQUESTS(reg);
        err = ka_registry_register(reg, s1, schema_c, &id, errstr,
                                   sizeof(errstr));
        snprintf(path, sizeof(path), "POST /subjects/%s/versions", s1);
        CHECK_ERR(err, KA_ERR_CONFLICT, errstr, path, "HTTP 409",
                  "error_code 409");
        CHECK(REQUESTS(reg) - before == 1, "a 409 took %d requests",
              (int)(REQUESTS(reg) - before));

        /* ...which NONE lets through. */
        err = ka_registry_set_compatibility(reg, s1, "NONE", errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        err = ka_registry_get_compatibility(reg, s1, &level, errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(!strcmp(level, "NONE"), "level '%s'", level);
        free(level);
        err = ka_registry_register(reg, s1, schema_c, &id_c, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        err = ka_registry_latest(reg, s1, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == id_c && info.version == 3,
              "latest after NONE: id %d version %d", (int)info.id,
              (int)info.version);
        ka_schema_info_release(&info);

        err = ka_registry_get_compatibility(reg, NULL, &level, errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(!strcmp(level, "BACKWARD") || !strcmp(level, "NONE") ||
                      !strcmp(level, "FORWARD") || !strcmp(level, "FULL") ||
                      strstr(level, "_TRANSITIVE"),
              "global level '%s'", level);
        printf("ok: global compatibility %s\n", level);
        free(level);
        err = ka_registry_set_compatibility(reg, s1, "SIDEWAYS", errstr,
                                            sizeof(errstr));
        CHECK_ERR(err, KA_ERR_INVALID, errstr, "HTTP 422");

        /* Subjects are escaped in paths and come back as they were. */
        err = ka_registry_register(reg, s2, schema_a, &id, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        err = ka_registry_latest(reg, s2, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(!strcmp(info.subject, s2) && info.id == id && info.version == 1,
              "spaced subject: '%s' id %d version %d", info.subject,
              (int)info.id, (int)info.version);
        ka_schema_info_release(&info);

        /* GET /subjects: both subjects, as registered (the spaced one
         * too), and no other. */
        {
                char **subjects = NULL;
                size_t nsubjects = 0;
                bool has1 = false, has2 = false;

                err = ka_registry_subjects(reg, &subjects, &nsubjects, errstr,
                                           sizeof(errstr));
                CHECK_ERR(err, KA_OK, errstr, "");
                for (size_t i = 0; i < nsubjects; i++) {
                        has1 |= !strcmp(subjects[i], s1);
                        has2 |= !strcmp(subjects[i], s2);
                }
                CHECK(nsubjects == 2 && has1 && has2,
                      "subjects: %zu listed, '%s' %d, '%s' %d", nsubjects, s1,
                      has1, s2, has2);
                printf("ok: GET /subjects lists both subjects\n");
                ka_registry_subjects_free(subjects, nsubjects);
        }

        /* By id: one request, then the cache. */
        before = REQUESTS(reg);
        err = ka_registry_schema_by_id(reg, id_a, &sa, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(same_json(sa, schema_a), "schema %d: %s", (int)id_a, sa);
        CHECK(REQUESTS(reg) - before == 1, "first by-id: %d requests",
              (int)(REQUESTS(reg) - before));
        err = ka_registry_schema_by_id(reg, id_a, &sa2, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(sa2 == sa && REQUESTS(reg) - before == 1,
              "second by-id: %d requests, same pointer %d",
              (int)(REQUESTS(reg) - before), sa2 == sa);

        /* User info becomes basic auth and never shows. The dev stack
         * ignores auth: the fake server below checks the header. */
        snprintf(url, sizeof(url), "http://user:s3cret@%s",
                 ds.url + strlen("http://"));
        auth = new_registry(url, &fast);
        CHECK(!strcmp(ka_registry_url(auth), ds.url), "url '%s' for '%s'",
              ka_registry_url(auth), ds.url);
        err = ka_registry_latest(auth, s1, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        ka_schema_info_release(&info);
        err = ka_registry_latest(auth, nosuch, &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, ds.url, "40401");
        CHECK(!strstr(errstr, "s3cret") && !strstr(errstr, "user:"),
              "credentials in '%s'", errstr);
        ka_registry_destroy(auth);

        /* Registry gone: cached ids still answer, others fail. */
        devstack_stop(&ds);
        before = REQUESTS(reg);
        err = ka_registry_schema_by_id(reg, id_a, &sa2, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(sa2 == sa && same_json(sa2, schema_a) && REQUESTS(reg) == before,
              "cached by-id after the registry stopped: %d requests",
              (int)(REQUESTS(reg) - before));
        err = ka_registry_schema_by_id(reg, id_b, &sa2, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr, ds.url, "/schemas/ids/",
                  "after 2 attempts");
        CHECK(REQUESTS(reg) - before == 2, "uncached by-id: %d requests",
              (int)(REQUESTS(reg) - before));
        ka_registry_destroy(reg);
}

/* Nothing listens: bounded retries, then KA_ERR_TRANSPORT. */
static void registry_down(void)
{
        const ka_registry_opts_t opts = {.max_attempts = 4,
                                         .backoff_initial_ms = 100,
                                         .backoff_max_ms = 1000};
        char url[64], errstr[1024];
        ka_registry_t *reg;
        ka_schema_info_t info;
        long t0, elapsed;
        ka_err_t err;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
        reg = new_registry(url, &opts);
        t0 = now_ms();
        err = ka_registry_latest(reg, "x-value", &info, errstr, sizeof(errstr));
        elapsed = now_ms() - t0;
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr, url,
                  "GET /subjects/x-value/versions/latest", "after 4 attempts");
        CHECK(REQUESTS(reg) == 4, "%d attempts", (int)REQUESTS(reg));
        /* Waits of 100, 200 and 400 ms, each drawn from [d/2, d]. */
        CHECK(elapsed >= 340 && elapsed < 700 + 1500,
              "down registry answered in %ld ms", elapsed);
        printf("ok: down registry gave up after %ld ms\n", elapsed);
        ka_registry_destroy(reg);
}

static volatile sig_atomic_t cancel_flag;

static void *set_cancel(void *arg)
{
        (void)arg;
        sleep_ms(300);
        cancel_flag = 1;
        return NULL;
}

/* opts.cancel cuts a long backoff short. */
static void cancelled_while_waiting(void)
{
        const ka_registry_opts_t opts = {.max_attempts = 3,
                                         .backoff_initial_ms = 10000,
                                         .cancel = &cancel_flag};
        char url[64], errstr[1024];
        ka_registry_t *reg;
        const char *schema;
        pthread_t th;
        long t0, elapsed;
        ka_err_t err;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
        reg = new_registry(url, &opts);
        cancel_flag = 0;
        pthread_create(&th, NULL, set_cancel, NULL);
        t0 = now_ms();
        err = ka_registry_schema_by_id(reg, 1, &schema, errstr, sizeof(errstr));
        elapsed = now_ms() - t0;
        pthread_join(th, NULL);
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr,
                  "interrupted; last error: ", "Couldn't connect");
        CHECK(REQUESTS(reg) == 1, "%d attempts before the cancel",
              (int)REQUESTS(reg));
        CHECK(elapsed >= 250 && elapsed < 1500, "cancel took %ld ms", elapsed);
        ka_registry_destroy(reg);
}

/* The dev stack starts ~1 s after the call: retries carry it through. */
static void registry_comes_up_late(void)
{
        const ka_registry_opts_t opts = {.max_attempts = 30,
                                         .backoff_initial_ms = 100,
                                         .backoff_max_ms = 500};
        char url[64], errstr[1024], subject[64];
        int port = free_port();
        ka_registry_t *reg;
        devstack_t ds;
        long t0, elapsed;
        int32_t id;
        ka_err_t err;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
        snprintf(subject, sizeof(subject), "ka-it-0004-%d-late-value",
                 (int)getpid());
        reg = new_registry(url, &opts);
        devstack_start(&ds, port, 1000);
        t0 = now_ms();
        err = ka_registry_register(reg, subject, schema_a, &id, errstr,
                                   sizeof(errstr));
        elapsed = now_ms() - t0;
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(elapsed >= 900, "registered after %ld ms: not late?", elapsed);
        CHECK(REQUESTS(reg) >= 2, "only %d attempts", (int)REQUESTS(reg));
        printf("ok: late registry: registered after %ld ms, %d attempts\n",
               elapsed, (int)REQUESTS(reg));
        devstack_wait(&ds, 30000);
        CHECK(!strcmp(ds.url, url), "dev stack registry at %s, not %s", ds.url,
              url);
        devstack_stop(&ds);
        ka_registry_destroy(reg);
}

/* ------------------------------------------------------------------ */
/* A scripted registry in this process                                */

typedef struct fake_s {
        struct MHD_Daemon *daemon;
        int port;
        pthread_mutex_t lock;
        int connections;
        int flaky_hits; /* requests to /schemas/ids/7 */
        int flaky_failures;
        char auth[256];
        char accept[256];
        char ctype[256];
        char method[16];
        char body[1024];
} fake_t;

typedef struct fake_req_s {
        char body[1024];
        size_t len;
} fake_req_t;

static void fake_on_connection(void *cls, struct MHD_Connection *c,
                               void **socket_context,
                               enum MHD_ConnectionNotificationCode code)
{
        fake_t *fake = cls;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                pthread_mutex_lock(&fake->lock);
                fake->connections++;
                pthread_mutex_unlock(&fake->lock);
        }
}

static void fake_on_completed(void *cls, struct MHD_Connection *c,
                              void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
        free(*con_cls);
        *con_cls = NULL;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out,
                        size_t size)
{
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

        snprintf(out, size, "%s", v ? v : "");
}

static enum MHD_Result fake_handler(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_size, void **con_cls)
{
        fake_t *fake = cls;
        fake_req_t *req = *con_cls;
        struct MHD_Response *resp;
        char body[512];
        unsigned status = 200;
        enum MHD_Result ret;
        int id;

        if (!req) {
                req = calloc(1, sizeof(*req));
                *con_cls = req;
                return req ? MHD_YES : MHD_NO;
        }
        if (*upload_size) {
                size_t n = *upload_size;

                if (n > sizeof(req->body) - 1 - req->len)
                        n = sizeof(req->body) - 1 - req->len;
                memcpy(req->body + req->len, upload_data, n);
                req->len += n;
                *upload_size = 0;
                return MHD_YES;
        }

        pthread_mutex_lock(&fake->lock);
        copy_header(c, "Authorization", fake->auth, sizeof(fake->auth));
        copy_header(c, "Accept", fake->accept, sizeof(fake->accept));
        copy_header(c, "Content-Type", fake->ctype, sizeof(fake->ctype));
        snprintf(fake->method, sizeof(fake->method), "%s", method);
        snprintf(fake->body, sizeof(fake->body), "%.*s", (int)req->len,
                 req->body);
        if (!strcmp(url, "/schemas/ids/7")) {
                if (++fake->flaky_hits <= fake->flaky_failures) {
                        status = 503;
                        snprintf(body, sizeof(body),
                                 "{\"error_code\":50003,\"message\":"
                                 "\"Error while forwarding the request to "
                                 "the leader\"}");
                } else {
                        snprintf(body, sizeof(body),
                                 "{\"schema\":\"\\\"string\\\"\"}");
                }
        } else if (sscanf(url, "/schemas/ids/%d", &id) == 1 && id >= 100) {
                snprintf(body, sizeof(body),
                         "{\"schema\":\"{\\\"type\\\":\\\"fixed\\\","
                         "\\\"name\\\":\\\"f%d\\\",\\\"size\\\":%d}\"}",
                         id, id);
        } else if (!strcmp(url, "/subjects/store/versions/latest")) {
                status = 500;
                snprintf(body, sizeof(body),
                         "{\"error_code\":50001,\"message\":\"Error in the "
                         "backend data store\"}");
        } else if (!strcmp(url, "/subjects/gateway/versions/latest")) {
                status = 502;
                snprintf(body, sizeof(body), "<html>Bad Gateway</html>");
        } else if (!strcmp(url, "/subjects/garbage/versions/latest")) {
                snprintf(body, sizeof(body), "this is not json");
        } else if (!strcmp(url, "/subjects/partial/versions/latest")) {
                snprintf(body, sizeof(body), "{\"id\":3,\"version\":1}");
        } else if (!strcmp(url, "/subjects/gone/versions/latest")) {
                status = 404;
                snprintf(body, sizeof(body),
                         "{\"error_code\":40401,\"message\":\"Subject "
                         "'gone' not found.\"}");
        } else if (!strcmp(url, "/subjects/slow/versions/latest")) {
                pthread_mutex_unlock(&fake->lock);
                sleep_ms(1000);
                pthread_mutex_lock(&fake->lock);
                snprintf(body, sizeof(body), "{}");
        } else if (!strcmp(url, "/subjects/auth-value/versions") &&
                   !strcmp(method, "POST")) {
                snprintf(body, sizeof(body), "{\"id\":42}");
        } else if (!strcmp(url, "/subjects/auth-value/versions/latest")) {
                snprintf(body, sizeof(body),
                         "{\"subject\":\"auth-value\",\"id\":42,"
                         "\"version\":1,\"schema\":\"\\\"int\\\"\"}");
        } else {
                status = 404;
                snprintf(body, sizeof(body),
                         "{\"error_code\":404,\"message\":\"HTTP 404 Not "
                         "Found\"}");
        }
        pthread_mutex_unlock(&fake->lock);

        resp = MHD_create_response_from_buffer(strlen(body), body,
                                               MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", CONTENT_TYPE);
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void fake_start(fake_t *fake)
{
        struct sockaddr_in sin = {.sin_family = AF_INET};
        const union MHD_DaemonInfo *info;

        memset(fake, 0, sizeof(*fake));
        pthread_mutex_init(&fake->lock, NULL);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fake->daemon = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION |
                        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                0, NULL, NULL, fake_handler, fake, MHD_OPTION_SOCK_ADDR,
                (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED,
                fake_on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
                fake_on_connection, fake, MHD_OPTION_END);
        CHECK(fake->daemon, "cannot start the fake registry");
        info = MHD_get_daemon_info(fake->daemon, MHD_DAEMON_INFO_BIND_PORT);
        CHECK(info && info->port, "fake registry has no port");
        fake->port = info->port;
}

static void fake_stop(fake_t *fake)
{
        MHD_stop_daemon(fake->daemon);
        pthread_mutex_destroy(&fake->lock);
}

typedef struct by_id_job_s {
        ka_registry_t *reg;
        int32_t first_id;
        const char *got[4];
        bool ok;
} by_id_job_t;

static void *by_id_worker(void *arg)
{
        by_id_job_t *job = arg;
        char errstr[512], want[64];
        const char *schema;

        job->ok = true;
        for (int i = 0; i < 200; i++) {
                int32_t id = job->first_id + i % 4;

                if (ka_registry_schema_by_id(job->reg, id, &schema, errstr,
                                             sizeof(errstr))) {
                        fprintf(stderr, "by-id %d: %s\n", (int)id, errstr);
                        job->ok = false;
                        return NULL;
                }
                snprintf(want, sizeof(want),
                         "{\"type\":\"fixed\",\"name\":\"f%d\",\"size\":%d}",
                         (int)id, (int)id);
                if (strcmp(schema, want) ||
                    (job->got[i % 4] && job->got[i % 4] != schema)) {
                        fprintf(stderr, "by-id %d: '%s', pointer changed\n",
                                (int)id, schema);
                        job->ok = false;
                        return NULL;
                }
                job->got[i % 4] = schema;
        }
        return NULL;
}

static void against_fake(void)
{
        const ka_registry_opts_t opts = {.max_attempts = 3,
                                         .backoff_initial_ms = 100};
        char url[128], base[64], errstr[1024];
        ka_schema_info_t info = {0};
        by_id_job_t jobs[4];
        pthread_t th[4];
        ka_registry_t *reg;
        const char *schema;
        json_t *sent;
        long t0, elapsed;
        uint64_t before;
        fake_t fake;
        int32_t id;
        ka_err_t err;

        fake_start(&fake);
        snprintf(base, sizeof(base), "http://127.0.0.1:%d", fake.port);

        /* 5xx is retried until it passes, then cached. */
        reg = new_registry(base, &opts);
        fake.flaky_failures = 2;
        t0 = now_ms();
        err = ka_registry_schema_by_id(reg, 7, &schema, errstr, sizeof(errstr));
        elapsed = now_ms() - t0;
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(!strcmp(schema, "\"string\"") && fake.flaky_hits == 3 &&
                      REQUESTS(reg) == 3,
              "flaky by-id: '%s' after %d hits, %d requests", schema,
              fake.flaky_hits, (int)REQUESTS(reg));
        CHECK(elapsed >= 140, "two backoffs took only %ld ms", elapsed);
        err = ka_registry_schema_by_id(reg, 7, &schema, errstr, sizeof(errstr));
        CHECK(!err && fake.flaky_hits == 3, "cached by-id asked again");

        /* 5xx every time: KA_ERR_TRANSPORT with the last error. */
        before = REQUESTS(reg);
        err = ka_registry_latest(reg, "store", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr, base, "HTTP 500",
                  "error_code 50001", "backend data store", "after 3 attempts");
        CHECK(REQUESTS(reg) - before == 3, "500: %d requests",
              (int)(REQUESTS(reg) - before));
        err = ka_registry_latest(reg, "gateway", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr, "HTTP 502",
                  "<html>Bad Gateway</html>");

        /* 4xx once; answers that break the API are KA_ERR_INVALID. */
        before = REQUESTS(reg);
        err = ka_registry_latest(reg, "gone", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, "HTTP 404", "error_code 40401",
                  "Subject 'gone' not found.");
        CHECK(REQUESTS(reg) - before == 1, "404: %d requests",
              (int)(REQUESTS(reg) - before));
        err = ka_registry_latest(reg, "garbage", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_INVALID, errstr, "HTTP 200", "malformed");
        err = ka_registry_latest(reg, "partial", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_INVALID, errstr, "unexpected answer");
        CHECK(!info.schema && !info.subject, "partial answer left strings");

        /* One kept-alive connection served all of the above. */
        CHECK(fake.connections == 1, "%d connections for one client",
              fake.connections);
        ka_registry_destroy(reg);

        /* A hanging registry: the request timeout, per attempt. */
        reg = new_registry(base,
                           &(ka_registry_opts_t){.request_timeout_ms = 300,
                                                 .max_attempts = 2,
                                                 .backoff_initial_ms = 50});
        t0 = now_ms();
        err = ka_registry_latest(reg, "slow", &info, errstr, sizeof(errstr));
        elapsed = now_ms() - t0;
        CHECK_ERR(err, KA_ERR_TRANSPORT, errstr, "timed out",
                  "after 2 attempts");
        CHECK(elapsed >= 600 && elapsed < 1500, "two timeouts in %ld ms",
              elapsed);
        ka_registry_destroy(reg);

        /* Basic auth from the URL's (percent-encoded) user info, and the
         * registry's content type both ways. */
        snprintf(url, sizeof(url), "http://user:s3cret@127.0.0.1:%d",
                 fake.port);
        reg = new_registry(url, NULL);
        CHECK(!strcmp(ka_registry_url(reg), base), "url '%s'",
              ka_registry_url(reg));
        err = ka_registry_register(reg, "auth-value", schema_a, &id, errstr,
                                   sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(id == 42, "id %d", (int)id);
        /* base64 of "user:s3cret", computed apart from curl. */
        CHECK(!strcmp(fake.auth, "Basic dXNlcjpzM2NyZXQ="), "auth '%s'",
              fake.auth);
        CHECK(!strcmp(fake.method, "POST") &&
                      !strcmp(fake.ctype, CONTENT_TYPE) &&
                      strstr(fake.accept, CONTENT_TYPE),
              "%s with content type '%s', accept '%s'", fake.method, fake.ctype,
              fake.accept);
        sent = json_loads(fake.body, 0, NULL);
        CHECK(sent && json_object_size(sent) == 1 &&
                      json_string_value(json_object_get(sent, "schema")) &&
                      !strcmp(json_string_value(
                                      json_object_get(sent, "schema")),
                              schema_a),
              "register sent '%s'", fake.body);
        json_decref(sent);
        err = ka_registry_latest(reg, "gone", &info, errstr, sizeof(errstr));
        CHECK_ERR(err, KA_ERR_NOT_FOUND, errstr, base);
        CHECK(!strstr(errstr, "s3cret"), "password in '%s'", errstr);
        ka_registry_destroy(reg);

        snprintf(url, sizeof(url), "http://us%%20er:p%%40ss%%3Aw@127.0.0.1:%d",
                 fake.port);
        reg = new_registry(url, NULL);
        err = ka_registry_latest(reg, "auth-value", &info, errstr,
                                 sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        CHECK(info.id == 42 && info.version == 1 &&
                      !strcmp(info.schema, "\"int\"") &&
                      !strcmp(fake.method, "GET"),
              "latest auth-value: id %d", (int)info.id);
        ka_schema_info_release(&info);
        /* base64 of "us er:p@ss:w". */
        CHECK(!strcmp(fake.auth, "Basic dXMgZXI6cEBzczp3"), "auth '%s'",
              fake.auth);
        ka_registry_destroy(reg);

        /* Without user info, no Authorization header. */
        reg = new_registry(base, NULL);
        err = ka_registry_latest(reg, "auth-value", &info, errstr,
                                 sizeof(errstr));
        CHECK_ERR(err, KA_OK, errstr, "");
        ka_schema_info_release(&info);
        CHECK(!fake.auth[0], "auth '%s' without user info", fake.auth);

        /* Threads share the cache: each id resolves to one string. */
        for (int i = 0; i < 4; i++) {
                jobs[i] = (by_id_job_t){.reg = reg, .first_id = 100};
                pthread_create(&th[i], NULL, by_id_worker, &jobs[i]);
        }
        for (int i = 0; i < 4; i++)
                pthread_join(th[i], NULL);
        for (int i = 0; i < 4; i++) {
                CHECK(jobs[i].ok, "thread %d failed", i);
                for (int k = 0; k < 4; k++)
                        CHECK(jobs[i].got[k] == jobs[0].got[k],
                              "threads got different strings for id %d",
                              100 + k);
        }
        /* One request per id, plus at most one per racing thread. */
        CHECK(REQUESTS(reg) - 1 <= 16, "%d requests for 4 ids",
              (int)(REQUESTS(reg) - 1));
        printf("ok: 4 threads x 200 by-id calls, %d requests\n",
               (int)(REQUESTS(reg) - 1));
        ka_registry_destroy(reg);
        fake_stop(&fake);
}

int main(void)
{
        struct sigaction sa = {.sa_handler = on_signal};

        setvbuf(stdout, NULL, _IOLBF, 0);
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/ka-" NAME ".XXXXXX");
        if (!mkdtemp(tmpdir)) {
                fprintf(stderr, "FAIL: " NAME ": mkdtemp: %s\n",
                        strerror(errno));
                return 1;
        }
        atexit(cleanup);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        /* The client's first call would do it too, but not before the
         * threads of this test exist. */
        curl_global_init(CURL_GLOBAL_DEFAULT);

        against_fake();
        registry_down();
        cancelled_while_waiting();
        against_devstack();
        registry_comes_up_late();

        printf("PASS: " NAME "\n");
        return 0;
}
