/*
 * Startup code for Lockstep bare-metal guests (M-mode, QEMU `virt` layout).
 *
 *   - sets gp and sp (64 KiB stack from link.ld)
 *   - zeroes .bss
 *   - enables the FPU: mstatus.FS = Initial (01), fcsr = 0
 *   - installs a default trap handler (prints mcause/mepc/mtval, exits 99)
 *   - calls main() and exits with its return value via the test device
 *
 * Also defines the HTIF mailbox symbols `tohost` / `fromhost`.
 */

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

    /* Zero .bss (link.ld aligns both ends to 16 bytes). */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    sd      zero, 8(t0)
    addi    t0, t0, 16
    j       1b
2:
    /* FPU on: mstatus.FS (bits 14:13) = 01 (Initial); clear fcsr. */
    li      t0, (3 << 13)
    csrc    mstatus, t0
    li      t0, (1 << 13)
    csrs    mstatus, t0
    csrwi   fcsr, 0

    /* Default trap handler, direct mode. */
    la      t0, default_trap_entry
    csrw    mtvec, t0

    li      a0, 0
    li      a1, 0
    call    main
    call    exit                /* a0 = main's return value; never returns */
3:  j       3b

/*
 * Default trap handler: any trap here is unexpected.  Switch to the top of
 * the stack (the faulting sp may be garbage) and report.
 */
    .text
    .balign 4
    .globl default_trap_entry
default_trap_entry:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    platform_trap_report  /* noreturn: prints, exits 99 */
4:  j       4b

/* HTIF mailbox (8-byte aligned symbols, found by ELF symbol name). */
    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword 0
    .balign 64
    .globl fromhost
fromhost:
    .dword 0
