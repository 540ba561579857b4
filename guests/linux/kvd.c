/*
 * kvd: the key-value service of Lockstep's Linux guest.
 *
 * Reads requests from standard input (the console tty, put in raw mode
 * without echo), one per line, keeps the store in memory and answers one line
 * per request on standard output. Every answer starts with "@kv " so that a
 * client can skip kernel messages and other noise on the same console.
 *
 *   SET <id> <key> <value>   ->  @kv OK <id>             (after applying it)
 *   GET <id> <key>           ->  @kv VALUE <id> <value>  or  @kv NONE <id>
 *   COUNT <id>               ->  @kv COUNT <id> <number of keys>
 *   anything else            ->  @kv ERR <id or 0> <reason>
 *
 * <id> is a token chosen by the client and echoed back. Tokens are 1 to
 * MAX_TOKEN printable ASCII characters without spaces. Lines end with "\n",
 * "\r\n" or "\r"; empty lines are ignored. At start kvd prints "@kv READY".
 * Every answer is written with write(2) at once (nothing is buffered).
 *
 * Built statically by guests/linux/build.sh and installed as /usr/bin/kvd;
 * /init runs it on the console when the kernel command line has
 * lockstep.service=kv.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_TOKEN 64
#define MAX_LINE 512
#define MAX_FIELDS 5

/* --- the store: a chained hash table that doubles when it gets full -------- */

struct entry {
    struct entry *next;
    char *key;
    char *value;
};

static struct entry **buckets;
static size_t bucket_count;
static size_t key_count;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        static const char msg[] = "@kv ERR 0 out of memory\n";
        (void)!write(1, msg, sizeof msg - 1);
        exit(1);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static void grow(void)
{
    size_t count = bucket_count ? bucket_count * 2 : 1024;
    struct entry **table = xmalloc(count * sizeof *table);
    memset(table, 0, count * sizeof *table);
    for (size_t i = 0; i < bucket_count; i++) {
        struct entry *e = buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            size_t b = hash(e->key) & (count - 1);
            e->next = table[b];
            table[b] = e;
        }
    }
    free(buckets);
    buckets = table;
    bucket_count = count;
}

static struct entry *find(const char *key)
{
    struct entry *e = buckets[hash(key) & (bucket_count - 1)];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    return e;
}

static void set(const char *key, const char *value)
{
    struct entry *e = find(key);
    if (e) {
        if (strcmp(e->value, value) != 0) {
            free(e->value);
            e->value = xstrdup(value);
        }
        return;
    }
    if (key_count >= bucket_count)
        grow();
    e = xmalloc(sizeof *e);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    size_t b = hash(key) & (bucket_count - 1);
    e->next = buckets[b];
    buckets[b] = e;
    key_count++;
}

/* --- answers ---------------------------------------------------------------- */

static void answer(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void answer(const char *format, ...)
{
    char line[MAX_LINE + 64];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    for (int done = 0; done < n;) {
        ssize_t w = write(1, line + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            exit(1); /* the console is gone; /init starts kvd again */
        done += w;
    }
}

static int is_token(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_TOKEN)
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return 0;
    return 1;
}

/* Handles one request line (without its line ending). */
static void request(char *line)
{
    char *field[MAX_FIELDS];
    int count = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (count == MAX_FIELDS) {
            count++;
            break;
        }
        field[count++] = t;
    }
    if (count == 0)
        return; /* an empty line */
    const char *id = count >= 2 && is_token(field[1]) ? field[1] : "0";
    const char *command = field[0];
    int expected = !strcmp(command, "SET") ? 4 : !strcmp(command, "GET") ? 3 : !strcmp(command, "COUNT") ? 2 : 0;
    if (expected == 0) {
        answer("@kv ERR %s unknown command (SET, GET, COUNT)", id);
        return;
    }
    if (count != expected) {
        answer("@kv ERR %s %s takes %d arguments", id, command, expected - 1);
        return;
    }
    for (int i = 1; i < count; i++) {
        if (!is_token(field[i])) {
            answer("@kv ERR %s tokens are 1 to %d printable characters", id, MAX_TOKEN);
            return;
        }
    }
    if (!strcmp(command, "SET")) {
        set(field[2], field[3]);
        answer("@kv OK %s", id);
    } else if (!strcmp(command, "GET")) {
        struct entry *e = find(field[2]);
        if (e)
            answer("@kv VALUE %s %s", id, e->value);
        else
            answer("@kv NONE %s", id);
    } else {
        answer("@kv COUNT %s %zu", id, key_count);
    }
}

/* Raw mode without echo on the console: bytes arrive as typed, nothing is
 * echoed, no signals from ^C. Output keeps "\n" -> "\r\n" so that the console
 * stays readable on a terminal (clients accept both line endings). */
static void raw_mode(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return; /* not a tty (a pipe in a test): nothing to do */
    cfmakeraw(&t);
    t.c_oflag |= OPOST | ONLCR;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
}

int main(void)
{
    grow();
    raw_mode(0);
    answer("@kv READY");
    char line[MAX_LINE + 1];
    size_t length = 0;
    int overlong = 0;
    char buffer[4096];
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? 0 : 1;
        for (ssize_t i = 0; i < n; i++) {
            char c = buffer[i];
            if (c == '\n' || c == '\r') {
                if (overlong)
                    answer("@kv ERR 0 line longer than %d bytes", MAX_LINE);
                else {
                    line[length] = 0;
                    request(line);
                }
                length = 0;
                overlong = 0;
            } else if (length < MAX_LINE) {
                line[length++] = c;
            } else {
                overlong = 1;
            }
        }
    }
}
