/*
 * kv: a tiny key-value service on the console, for the cluster simulation (lockstep-sim).
 *
 * Reads lines from the UART (polling; between polls it arms the timer 5 ms ahead and waits
 * in WFI, with the global interrupt enable off, so the hart wakes without taking a trap):
 *   "S <key> <value>"  stores the value        -> "OK <key> <value>"
 *   "G <key>"          reads it                -> "V <key> <value>" or "N <key>"
 *   "Q"                powers off (exit 0)
 *   "R"                resets the machine (SiFive test device): the table is gone after the reboot
 * Anything else                                -> "E"
 * At start it prints "kv ready <mtime>": guest time goes on across a reboot, so the number tells
 * one boot from the next (a client that sees a line twice, replayed after a failover, sees the
 * same number).
 * Keys and values are up to 15 and 31 characters; the table holds 256 keys (the oldest
 * slot is reused when it is full, which the simulation never reaches).
 */
#include "platform.h"

#define UART_RBR 0
#define UART_LSR_DR 0x01
#define KEYS 256
#define TEST_RESET 0x7777   /* SiFive test device: reset the machine */

static char keys[KEYS][16];
static char values[KEYS][32];
static int used;

static int read_byte(void) {
    volatile uint8_t *uart = (volatile uint8_t *)UART0_BASE;
    if (uart[UART_LSR] & UART_LSR_DR) return uart[UART_RBR];
    return -1;
}

static void wait_a_little(void) {
    clint_set_mtimecmp(clint_mtime() + TIMEBASE_HZ / 200);
    set_csr(mie, MIE_MTIE);
    __asm__ volatile ("wfi");
}

static int equal(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static void copy(char *to, const char *from, int size) {
    int i = 0;
    for (; i < size - 1 && from[i]; i++) to[i] = from[i];
    to[i] = 0;
}

static int find(const char *key) {
    for (int i = 0; i < used; i++) if (equal(keys[i], key)) return i;
    return -1;
}

static void handle(char *line) {
    char *key = line + 2, *value = 0;
    if ((line[0] == 'S' || line[0] == 'G') && line[1] == ' ' && *key) {
        for (char *p = key; *p; p++) if (*p == ' ') { *p = 0; value = p + 1; break; }
    }
    if (line[0] == 'S' && value) {
        int slot = find(key);
        if (slot < 0) { slot = used < KEYS ? used++ : 0; copy(keys[slot], key, 16); }
        copy(values[slot], value, 32);
        print_str("OK "); print_str(keys[slot]); print_str(" "); puts(values[slot]);
    } else if (line[0] == 'G' && !value && line[1] == ' ') {
        int slot = find(key);
        if (slot < 0) { print_str("N "); puts(key); }
        else { print_str("V "); print_str(keys[slot]); print_str(" "); puts(values[slot]); }
    } else if (line[0] == 'Q' && line[1] == 0) {
        exit(0);
    } else if (line[0] == 'R' && line[1] == 0) {
        *(volatile uint32_t *)TEST_DEV_BASE = TEST_RESET;
        for (;;) __asm__ volatile ("wfi");
    } else {
        puts("E");
    }
}

int main(void) {
    char line[64];
    int length = 0;
    print_str("kv ready ");
    print_udec(clint_mtime());
    putchar('\n');
    for (;;) {
        int c = read_byte();
        if (c < 0) { wait_a_little(); continue; }
        if (c == '\n') { line[length] = 0; handle(line); length = 0; }
        else if (length < (int)sizeof line - 1) line[length++] = (char)c;
    }
}
