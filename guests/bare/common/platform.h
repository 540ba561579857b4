/*
 * Tiny runtime for Lockstep bare-metal guests (QEMU `virt` devices).
 * No libc: everything here is implemented in platform.c.
 */
#ifndef LOCKSTEP_PLATFORM_H
#define LOCKSTEP_PLATFORM_H

#include <stdint.h>
#include <stddef.h>

/* ---- Memory map -------------------------------------------------------- */
#define UART0_BASE      0x10000000UL   /* 16550, register stride 1 byte */
#define UART_THR        0              /* transmit holding register */
#define UART_LSR        5              /* line status register */
#define UART_LSR_THRE   0x20           /* THR empty */

#define CLINT_BASE      0x02000000UL
#define CLINT_MSIP      (CLINT_BASE + 0x0000)
#define CLINT_MTIMECMP  (CLINT_BASE + 0x4000)
#define CLINT_MTIME     (CLINT_BASE + 0xBFF8)
#define TIMEBASE_HZ     10000000UL     /* mtime / `time` CSR frequency */

#define TEST_DEV_BASE   0x00100000UL   /* SiFive test device (power off) */
#define TEST_PASS       0x5555
#define TEST_FAIL       0x3333         /* (code << 16) | 0x3333 */

/* ---- Console (UART) ---------------------------------------------------- */
int  putchar(int c);                /* one character, returns c */
int  puts(const char *s);           /* like libc: appends '\n' */
void print_str(const char *s);      /* no newline */
void print_dec(int64_t v);          /* signed decimal */
void print_udec(uint64_t v);        /* unsigned decimal */
void print_hex(uint64_t v);         /* "0x" + 16 hex digits */
void print_hex_n(uint64_t v, int digits); /* no prefix, `digits` digits */

/* ---- Exit -------------------------------------------------------------- */
/* Power off through the SiFive test device: 0x5555 for code 0, otherwise
 * (code << 16) | 0x3333.  QEMU exits with `code`. */
__attribute__((noreturn)) void exit(int code);

/* ---- HTIF (Spike-style tohost/fromhost; not implemented by QEMU virt) -- */
extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;
void htif_putchar(int c);                       /* device 1, command 1 */
__attribute__((noreturn)) void htif_exit(int code); /* (code << 1) | 1 */

/* ---- CSRs -------------------------------------------------------------- */
#define read_csr(reg) ({ uint64_t __v; \
    __asm__ volatile ("csrr %0, " #reg : "=r"(__v)); __v; })
#define write_csr(reg, val) ({ \
    __asm__ volatile ("csrw " #reg ", %0" :: "rK"((uint64_t)(val))); })
#define set_csr(reg, bits) ({ uint64_t __v; \
    __asm__ volatile ("csrrs %0, " #reg ", %1" : "=r"(__v) : "rK"((uint64_t)(bits))); __v; })
#define clear_csr(reg, bits) ({ uint64_t __v; \
    __asm__ volatile ("csrrc %0, " #reg ", %1" : "=r"(__v) : "rK"((uint64_t)(bits))); __v; })

#define MSTATUS_MIE     (1UL << 3)
#define MSTATUS_MPIE    (1UL << 7)
#define MSTATUS_FS      (3UL << 13)
#define MIE_MSIE        (1UL << 3)
#define MIE_MTIE        (1UL << 7)
#define MIE_MEIE        (1UL << 11)
#define MCAUSE_INTERRUPT (1UL << 63)

static inline uint64_t rdtime(void)
{ uint64_t v; __asm__ volatile ("rdtime %0" : "=r"(v)); return v; }
static inline uint64_t rdinstret(void)
{ uint64_t v; __asm__ volatile ("rdinstret %0" : "=r"(v)); return v; }
static inline uint64_t rdcycle(void)
{ uint64_t v; __asm__ volatile ("rdcycle %0" : "=r"(v)); return v; }

/* mtvec: base must be 4-byte aligned (vectored mode: use >= 64). mode 0 =
 * direct, 1 = vectored.  Returns the previous mtvec value. */
uint64_t set_mtvec(void *base, int mode);

/* CLINT helpers */
static inline uint64_t clint_mtime(void)
{ return *(volatile uint64_t *)CLINT_MTIME; }
static inline void clint_set_mtimecmp(uint64_t v)
{ *(volatile uint64_t *)CLINT_MTIMECMP = v; }

/* ---- Memory helpers (the compiler may emit calls to these) ------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int   memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Default trap report (called from start.S): prints and exits 99. */
__attribute__((noreturn)) void platform_trap_report(uint64_t mcause,
                                                    uint64_t mepc,
                                                    uint64_t mtval);

#endif
