/*
 * timer: machine timer interrupt demo (CLINT at 0x02000000, 10 MHz).
 *
 * Phase 1: mtvec in direct mode; 5 ticks, 10 ms apart
 *          (mtimecmp = mtime + 100000), handler prints "tick N", re-arms.
 * Phase 2: mtvec in vectored mode (table entry 7 = machine timer); 3 ticks.
 * Then the timer is disabled, "timer: done" printed, exit 0.
 *
 * The main loop sleeps with WFI while mstatus.MIE is clear and only opens
 * the interrupt window afterwards, so a tick cannot slip in between the
 * check and the WFI.  Exits 1 if an interrupt arrived through the wrong
 * entry, with the wrong mcause, or before mtime reached mtimecmp.
 */
#include "platform.h"

#define INTERVAL      100000UL     /* 10 ms at 10 MHz */
#define DIRECT_TICKS  5
#define VECTOR_TICKS  3

extern char timer_direct_entry[];
extern char timer_vector_table[];

static volatile int ticks;
static volatile int phase_target;   /* tick count at which to stop */
static volatile int expect_via;     /* 0 = direct, 1 = vectored */
static volatile int errors;

static void arm(void)
{
    clint_set_mtimecmp(clint_mtime() + INTERVAL);
}

static void disarm(void)
{
    clint_set_mtimecmp(~0UL);
}

/* Called from vectors.S with the trap cause and which entry was used. */
void timer_trap(uint64_t mcause, int via)
{
    if (mcause != (MCAUSE_INTERRUPT | 7)) {
        uint64_t mepc = read_csr(mepc), mtval = read_csr(mtval);
        platform_trap_report(mcause, mepc, mtval);
    }
    if (via != expect_via)
        errors++;
    if (clint_mtime() < *(volatile uint64_t *)CLINT_MTIMECMP)
        errors++;                   /* fired early */

    ticks++;
    print_str("tick ");
    print_dec(ticks);
    putchar('\n');

    if (ticks >= phase_target)
        disarm();
    else
        arm();
}

static void wait_for(int target)
{
    phase_target = target;
    arm();
    while (ticks < target) {
        __asm__ volatile ("wfi");
        set_csr(mstatus, MSTATUS_MIE);      /* take the pending interrupt */
        clear_csr(mstatus, MSTATUS_MIE);
    }
}

int main(void)
{
    disarm();
    clear_csr(mstatus, MSTATUS_MIE);
    set_csr(mie, MIE_MTIE);

    puts("timer: direct mode");
    expect_via = 0;
    set_mtvec(timer_direct_entry, 0);
    wait_for(DIRECT_TICKS);

    puts("timer: vectored mode");
    expect_via = 1;
    set_mtvec(timer_vector_table, 1);
    if ((read_csr(mtvec) & 3) != 1) {
        puts("timer: mtvec vectored mode not supported");
        return 1;
    }
    wait_for(DIRECT_TICKS + VECTOR_TICKS);

    clear_csr(mie, MIE_MTIE);
    disarm();
    extern char default_trap_entry[];
    set_mtvec(default_trap_entry, 0);

    if (errors) {
        print_str("timer: errors=");
        print_dec(errors);
        putchar('\n');
        return 1;
    }
    puts("timer: done");
    return 0;
}
