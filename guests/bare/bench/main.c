/*
 * bench: a small CPU benchmark written for Lockstep, in the spirit of
 * CoreMark (all code here is original).  Each iteration:
 *
 *   1. list:   builds a singly linked list in a static node pool from a
 *              seeded generator, searches it, reverses it, merge-sorts it by
 *              key, checks the order, sorts it back by insertion sequence;
 *   2. matrix: small integer matrices: multiply, add a constant, row and
 *              column sums;
 *   3. state:  a state machine scans a buffer of number-like tokens (ints,
 *              decimals, exponents, hex, invalid), counting final states and
 *              transitions; one byte of the buffer is mutated per iteration;
 *   4. crc:    CRC-16/CCITT and CRC-32 over the results of 1-3.
 *
 * The results feed a running CRC-32 checksum that also seeds the next
 * iteration, so a wrong CPU gives a wrong final checksum.
 *
 * ITERATIONS is a compile-time constant (the Makefile also builds
 * bench-short.elf with -DITERATIONS=1000).  The expected checksums below
 * were produced by running this program on QEMU 7.2 (qemu-system-riscv64
 * -M virt); the program exits 0 only if its checksum matches.
 *
 * Output: "bench: iterations=N checksum=0x... ticks=T instret=I
 * iterations/s=X", ticks from rdtime (10 MHz), X = N * 10000000 / ticks.
 */
#include "platform.h"

#ifndef ITERATIONS
#define ITERATIONS 30000
#endif

/* Reference checksums (verified on QEMU 7.2) per iteration count. */
#if ITERATIONS == 30000
#define EXPECTED_CHECKSUM 0xd793c7fcu
#elif ITERATIONS == 1000
#define EXPECTED_CHECKSUM 0xefdebff3u
#endif

/* ------------------------------------------------------------------------ */
/* CRCs (bitwise, no tables)                                                */

static uint16_t crc16_byte(uint16_t crc, uint8_t b)
{
    crc ^= (uint16_t)b << 8;
    for (int i = 0; i < 8; i++)
        crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    return crc;
}

static uint16_t crc16_u32(uint16_t crc, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        crc = crc16_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

static uint32_t crc32_byte(uint32_t crc, uint8_t b)
{
    crc ^= b;
    for (int i = 0; i < 8; i++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    return crc;
}

static uint32_t crc32_u32(uint32_t crc, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        crc = crc32_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* ------------------------------------------------------------------------ */
/* Pseudo-random numbers: 32-bit xorshift                                   */

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* ------------------------------------------------------------------------ */
/* 1. Linked list                                                           */

#define LIST_NODES 96

struct node {
    struct node *next;
    int32_t key;
    uint32_t seq;
};

static struct node pool[LIST_NODES];

static struct node *list_build(uint32_t *rng)
{
    struct node *head = 0;
    /* push to the front: the list ends up in descending seq order */
    for (int i = 0; i < LIST_NODES; i++) {
        struct node *n = &pool[i];
        n->key = (int32_t)(rng_next(rng) % 2001) - 1000;
        n->seq = (uint32_t)i;
        n->next = head;
        head = n;
    }
    return head;
}

static struct node *list_find(struct node *head, int32_t key, uint32_t *pos)
{
    uint32_t i = 0;
    for (struct node *n = head; n; n = n->next, i++) {
        if (n->key == key) {
            *pos = i;
            return n;
        }
    }
    *pos = i;
    return 0;
}

static struct node *list_reverse(struct node *head)
{
    struct node *prev = 0;
    while (head) {
        struct node *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return prev;
}

static int cmp_key(const struct node *a, const struct node *b)
{
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return 0;
}

static int cmp_seq(const struct node *a, const struct node *b)
{
    return a->seq < b->seq ? -1 : (a->seq > b->seq ? 1 : 0);
}

/* Bottom-up merge sort of a singly linked list (stable). */
static struct node *list_sort(struct node *head,
                              int (*cmp)(const struct node *, const struct node *))
{
    if (!head)
        return 0;
    for (int width = 1;; width *= 2) {
        struct node *p = head, *tail = 0;
        int merges = 0;
        head = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int psize = 0;
            for (int i = 0; i < width && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = width;
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) {
                    e = q; q = q->next; qsize--;
                } else if (qsize == 0 || !q) {
                    e = p; p = p->next; psize--;
                } else if (cmp(p, q) <= 0) {
                    e = p; p = p->next; psize--;
                } else {
                    e = q; q = q->next; qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    head = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1)
            return head;
    }
}

static uint32_t list_work(uint32_t seed, uint16_t *crc16)
{
    uint32_t rng = seed | 1;
    uint32_t r = 0;
    struct node *head = list_build(&rng);

    /* search for some keys that exist and some that may not */
    for (int i = 0; i < 8; i++) {
        uint32_t pos;
        int32_t key = (i & 1) ? pool[(seed + (uint32_t)i * 13) % LIST_NODES].key
                              : (int32_t)(rng_next(&rng) % 2001) - 1000;
        struct node *n = list_find(head, key, &pos);
        r = r * 31 + pos + (n ? n->seq * 7 : 1);
    }

    head = list_reverse(head);                  /* ascending seq */
    head = list_sort(head, cmp_key);

    /* check order, checksum keys and sequence numbers in sorted order */
    int32_t prev = -0x7fffffff;
    uint32_t i = 0;
    for (struct node *n = head; n; n = n->next, i++) {
        if (n->key < prev)
            r ^= 0xdead0000u;                   /* sort is broken */
        prev = n->key;
        *crc16 = crc16_u32(*crc16, (uint32_t)n->key ^ (n->seq << 16));
    }
    r += i;

    /* every other node gets a new key, then sort back by seq */
    i = 0;
    for (struct node *n = head; n; n = n->next, i++)
        if (i & 1)
            n->key = (int32_t)(rng_next(&rng) & 0xfff) - 0x800;
    head = list_sort(head, cmp_seq);
    i = 0;
    for (struct node *n = head; n; n = n->next, i++) {
        if (n->seq != i)
            r ^= 0xbeef0000u;
        r = r * 3 + (uint32_t)n->key;
    }
    return r;
}

/* ------------------------------------------------------------------------ */
/* 2. Matrix                                                                */

#define MAT_N 10

static int16_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N];
static int32_t mat_c[MAT_N][MAT_N];

static uint32_t matrix_work(uint32_t seed, uint16_t *crc16)
{
    uint32_t rng = seed ^ 0x9e3779b9u;
    if (!rng)
        rng = 1;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            uint32_t x = rng_next(&rng);
            mat_a[i][j] = (int16_t)((x & 0x3ff) - 0x200);
            mat_b[i][j] = (int16_t)(((x >> 10) & 0x3ff) - 0x200);
        }

    /* C = A * B (wrapping 32-bit arithmetic) */
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            uint32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += (uint32_t)((int32_t)mat_a[i][k] * (int32_t)mat_b[k][j]);
            mat_c[i][j] = (int32_t)s;
        }

    /* A += constant; C += A (element-wise) */
    int16_t cst = (int16_t)(seed & 0xff);
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (int16_t)(mat_a[i][j] + cst);
            mat_c[i][j] = (int32_t)((uint32_t)mat_c[i][j] + (uint32_t)mat_a[i][j]);
        }

    /* row and column sums, max element, count of negatives */
    uint32_t r = 0;
    int32_t max = mat_c[0][0];
    uint32_t neg = 0;
    for (int i = 0; i < MAT_N; i++) {
        uint32_t row = 0, col = 0;
        for (int j = 0; j < MAT_N; j++) {
            row += (uint32_t)mat_c[i][j];
            col += (uint32_t)mat_c[j][i];
            if (mat_c[i][j] > max)
                max = mat_c[i][j];
            if (mat_c[i][j] < 0)
                neg++;
        }
        *crc16 = crc16_u32(*crc16, row);
        *crc16 = crc16_u32(*crc16, col);
        r = (r << 5 | r >> 27) ^ row ^ (col * 3);
    }
    return r + (uint32_t)max + neg;
}

/* ------------------------------------------------------------------------ */
/* 3. State machine over number-like tokens                                 */

enum state {
    S_START, S_SIGN, S_ZERO, S_INT, S_DOT, S_FRAC, S_EXP, S_EXP_SIGN,
    S_EXP_INT, S_HEX_X, S_HEX, S_INVALID, S_COUNT
};

#define TEXT_LEN 256
static char text[TEXT_LEN + 1];

static const char *const token_seed[] = {
    "0", "7", "-42", "+1234", "3.14159", "-0.5", "2.5e10", "6.02E+23",
    "1e-9", "0x1F", "0XdeadBEEF", "0x", "12a", "--3", ".", "1.2.3", "5e",
    "0777", "-", "9999999", "0.000", "x12", "1e+", "+.5",
};

static void text_init(void)
{
    int pos = 0, t = 0;
    const int ntok = (int)(sizeof token_seed / sizeof token_seed[0]);
    while (pos < TEXT_LEN) {
        const char *s = token_seed[t % ntok];
        t += 5;                                 /* 5 and 24 are coprime */
        while (*s && pos < TEXT_LEN)
            text[pos++] = *s++;
        if (pos < TEXT_LEN)
            text[pos++] = ',';
    }
    text[TEXT_LEN] = 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static enum state next_state(enum state s, char c)
{
    switch (s) {
    case S_START:
        if (c == '+' || c == '-') return S_SIGN;
        if (c == '0') return S_ZERO;
        if (is_digit(c)) return S_INT;
        if (c == '.') return S_DOT;
        return S_INVALID;
    case S_SIGN:
        if (c == '0') return S_ZERO;
        if (is_digit(c)) return S_INT;
        if (c == '.') return S_DOT;
        return S_INVALID;
    case S_ZERO:
        if (c == 'x' || c == 'X') return S_HEX_X;
        /* fall through */
    case S_INT:
        if (is_digit(c)) return S_INT;
        if (c == '.') return S_FRAC;
        if (c == 'e' || c == 'E') return S_EXP;
        return S_INVALID;
    case S_DOT:
        if (is_digit(c)) return S_FRAC;
        return S_INVALID;
    case S_FRAC:
        if (is_digit(c)) return S_FRAC;
        if (c == 'e' || c == 'E') return S_EXP;
        return S_INVALID;
    case S_EXP:
        if (c == '+' || c == '-') return S_EXP_SIGN;
        /* fall through */
    case S_EXP_SIGN:
        if (is_digit(c)) return S_EXP_INT;
        return S_INVALID;
    case S_EXP_INT:
        if (is_digit(c)) return S_EXP_INT;
        return S_INVALID;
    case S_HEX_X:
    case S_HEX:
        if (is_hex(c)) return S_HEX;
        return S_INVALID;
    default:
        return S_INVALID;
    }
}

static uint32_t state_work(uint32_t seed, uint16_t *crc16)
{
    static const char alphabet[] = "0123456789+-.eExX,abF";
    uint32_t final_count[S_COUNT] = {0};
    uint32_t transitions = 0;

    /* mutate one byte */
    uint32_t pos = seed % TEXT_LEN;
    text[pos] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];

    enum state s = S_START;
    for (int i = 0; i <= TEXT_LEN; i++) {
        char c = text[i];
        if (c == ',' || c == 0) {
            final_count[s]++;
            s = S_START;
            continue;
        }
        enum state n = next_state(s, c);
        if (n != s)
            transitions++;
        s = n;
    }

    uint32_t r = transitions;
    for (int i = 0; i < S_COUNT; i++) {
        *crc16 = crc16_u32(*crc16, final_count[i]);
        r = r * 17 + final_count[i];
    }
    return r;
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    text_init();

    uint32_t checksum = 0xffffffffu;
    uint64_t t0 = rdtime();
    uint64_t i0 = rdinstret();

    for (uint32_t it = 0; it < ITERATIONS; it++) {
        uint32_t seed = checksum ^ (it * 0x9e3779b9u);
        uint16_t c16 = 0xffff;
        uint32_t a = list_work(seed, &c16);
        uint32_t b = matrix_work(seed >> 3, &c16);
        uint32_t c = state_work(seed >> 7, &c16);
        checksum = crc32_u32(checksum, a);
        checksum = crc32_u32(checksum, b);
        checksum = crc32_u32(checksum, c);
        checksum = crc32_u32(checksum, c16);
    }

    uint64_t i1 = rdinstret();
    uint64_t t1 = rdtime();
    checksum = ~checksum;

    uint64_t ticks = t1 - t0;
    uint64_t ips = ticks ? (uint64_t)ITERATIONS * TIMEBASE_HZ / ticks : 0;

    print_str("bench: iterations=");
    print_udec(ITERATIONS);
    print_str(" checksum=0x");
    print_hex_n(checksum, 8);
    print_str(" ticks=");
    print_udec(ticks);
    print_str(" instret=");
    print_udec(i1 - i0);
    print_str(" iterations/s=");
    print_udec(ips);
    putchar('\n');

#ifdef EXPECTED_CHECKSUM
    if (checksum != EXPECTED_CHECKSUM) {
        print_str("bench: FAIL: expected checksum 0x");
        print_hex_n(EXPECTED_CHECKSUM, 8);
        putchar('\n');
        return 1;
    }
    return 0;
#else
    puts("bench: no reference checksum for this ITERATIONS value");
    return 2;
#endif
}
