/*
 * loop-alu: ALU-only instruction mix (add/xor/shifts/mul) for speed
 * measurements.  Pure assembly with its own _start (no bare/common), so the
 * dynamic instruction count is exact.
 *
 * Instructions retired from _start (0x80000000) up to and including the
 * store to the test device:
 *     setup      6   (li s0,ITERS = lui+addiw; li a0..a3 = 4 x c.li/addi)
 *     loop      10 * ITERS
 *     exit       4   (lui t0; lui t1; addiw t1; sw)
 *   ITERS = 100,000,000  ->  total = 1,000,000,010 instructions.
 * (`li` forms were checked with objdump; each expands as noted.)
 * Then exits with code 0 (0x5555 -> SiFive test device).
 * Checked on QEMU with a small iteration count: -singlestep -d nochain,exec.
 */
    .equ ITERS, 100000000

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      s0, ITERS           /* lui + addiw */
    li      a0, 1
    li      a1, 7
    li      a2, 3
    li      a3, 5

1:  add     a0, a0, a1          /* 10 instructions per iteration */
    xor     a2, a2, a0
    slli    a3, a0, 7
    srli    a4, a2, 3
    mul     a5, a3, a4
    add     a1, a1, a5
    sraiw   a6, a1, 5
    xor     a0, a0, a6
    addi    s0, s0, -1
    bnez    s0, 1b

    li      t0, 0x100000        /* lui */
    li      t1, 0x5555          /* lui + addiw */
    sw      t1, 0(t0)           /* power off, exit code 0 */
2:  j       2b
