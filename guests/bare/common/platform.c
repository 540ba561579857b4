/* Tiny runtime for Lockstep bare-metal guests.  See platform.h. */
#include "platform.h"

/* Keep GCC from turning the loops below into calls to themselves. */
#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

static inline uint8_t mmio_read8(uintptr_t a)
{ return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v)
{ *(volatile uint8_t *)a = v; }

int putchar(int c)
{
    while (!(mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_THRE))
        ;
    mmio_write8(UART0_BASE + UART_THR, (uint8_t)c);
    return c;
}

void print_str(const char *s)
{
    while (*s)
        putchar(*s++);
}

int puts(const char *s)
{
    print_str(s);
    putchar('\n');
    return 0;
}

void print_udec(uint64_t v)
{
    char buf[24];
    int i = 0;
    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        putchar(buf[--i]);
}

void print_dec(int64_t v)
{
    if (v < 0) {
        putchar('-');
        print_udec(-(uint64_t)v);
    } else {
        print_udec((uint64_t)v);
    }
}

void print_hex_n(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putchar("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

void print_hex(uint64_t v)
{
    putchar('0');
    putchar('x');
    print_hex_n(v, 16);
}

void exit(int code)
{
    volatile uint32_t *dev = (volatile uint32_t *)TEST_DEV_BASE;
    uint32_t v = code == 0 ? TEST_PASS
                           : (((uint32_t)code & 0xffff) << 16) | TEST_FAIL;
    *dev = v;
    for (;;)
        __asm__ volatile ("wfi");
}

/* HTIF: wait (bounded) until the host has consumed the previous command,
 * acknowledging any response in fromhost, then post the next one.  The
 * bound keeps us from hanging on hosts that act on the write itself and
 * never clear tohost. */
static void htif_post(uint64_t cmd)
{
    for (int spin = 0; tohost != 0 && spin < 100000; spin++) {
        if (fromhost != 0)
            fromhost = 0;
    }
    tohost = cmd;
}

void htif_putchar(int c)
{
    htif_post((1ULL << 56) | (1ULL << 48) | (uint8_t)c);
}

void htif_exit(int code)
{
    htif_post(((uint64_t)code << 1) | 1);
    for (;;)
        ;
}

uint64_t set_mtvec(void *base, int mode)
{
    uint64_t v = ((uintptr_t)base & ~3UL) | ((uint64_t)mode & 3);
    uint64_t old;
    __asm__ volatile ("csrrw %0, mtvec, %1" : "=r"(old) : "r"(v) : "memory");
    return old;
}

NO_LIBCALLS void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

NO_LIBCALLS void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

NO_LIBCALLS void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void platform_trap_report(uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
    print_str("\nunexpected trap: mcause=");
    print_hex(mcause);
    print_str(" mepc=");
    print_hex(mepc);
    print_str(" mtval=");
    print_hex(mtval);
    putchar('\n');
    exit(99);
}
