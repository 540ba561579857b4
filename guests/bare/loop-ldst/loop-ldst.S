/*
 * loop-ldst: loads + stores + ALU over a 4 KiB buffer (its own page in .bss)
 * for speed measurements.  Pure assembly with its own _start (no
 * bare/common), so the dynamic instruction count is exact.
 *
 * Each pass walks the buffer in 16-byte steps: 256 steps of 12 instructions
 * (2 ld, 2 sd, lw, lbu, sh = 7 memory ops; 3 ALU; addi + bne).
 *
 * Instructions retired from _start (0x80000000) up to and including the
 * store to the test device:
 *     setup       7   (li s0,PASSES = lui+addiw; la s2 = auipc+addi;
 *                      li s1; li t2,4096 = lui; add s4)
 *     per pass 3075   (mv t0,s2 + 256 * 12 + addi s0 + bnez s0)
 *     exit        4   (lui t0; lui t1; addiw t1; sw)
 *   PASSES = 325,000  ->  total = 7 + 325,000 * 3075 + 4
 *                               = 999,375,011 instructions.
 * Then exits with code 0 (0x5555 -> SiFive test device).
 * Checked on QEMU with a small iteration count: -singlestep -d nochain,exec.
 */
    .equ PASSES, 325000
    .equ BUFSIZE, 4096

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      s0, PASSES          /* lui + addiw */
    la      s2, buffer          /* auipc + addi */
    li      s1, 0x55            /* addi */
    li      t2, BUFSIZE         /* lui */
    add     s4, s2, t2          /* s4 = end of buffer */

1:  mv      t0, s2              /* per pass: 1 + 256 * 12 + 2 */

2:  ld      a0, 0(t0)           /* 12 instructions per 16-byte step */
    ld      a1, 8(t0)
    add     a0, a0, a1
    xor     a1, a1, s1
    sd      a0, 8(t0)
    sd      a1, 0(t0)
    lw      a2, 4(t0)
    lbu     a3, 13(t0)
    add     s1, s1, a2
    sh      a3, 2(t0)
    addi    t0, t0, 16
    bne     t0, s4, 2b

    addi    s0, s0, -1
    bnez    s0, 1b

    li      t0, 0x100000        /* lui */
    li      t1, 0x5555          /* lui + addiw */
    sw      t1, 0(t0)           /* power off, exit code 0 */
3:  j       3b

    .bss
    .balign 4096
buffer:
    .space BUFSIZE
