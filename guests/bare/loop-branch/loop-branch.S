/*
 * loop-branch: branchy code for speed measurements: data-dependent
 * compare-and-branch diamonds driven by a xorshift generator, a direct call
 * (jal/ret) and an indirect call (jalr/ret) per iteration.  Every diamond is
 * balanced (both paths retire the same number of instructions), so the
 * dynamic instruction count is exact even though branch directions vary.
 * Pure assembly with its own _start (no bare/common).
 *
 * Per iteration (22 instructions):
 *     xorshift64 step            6
 *     diamond on bit 0           4   (andi, beqz, 2 on either path)
 *     diamond on a0 < a1         3   (blt, 2 on either path)
 *     direct call                3   (jal, leaf: addi, ret)
 *     indirect call              4   (jalr, leaf2: bltu, 1 op, ret)
 *     loop control               2   (addi, bnez)
 *
 * Instructions retired from _start (0x80000000) up to and including the
 * store to the test device:
 *     setup  10   (li s0,ITERS = lui+addiw; li s1 = lui+addiw;
 *                  li a0..a3 = 4; la s3 = auipc+addi)
 *     loop   22 * ITERS
 *     exit    4   (lui t0; lui t1; addiw t1; sw)
 *   ITERS = 45,000,000  ->  total = 10 + 990,000,000 + 4
 *                                 = 990,000,014 instructions.
 * Then exits with code 0 (0x5555 -> SiFive test device).
 * Checked on QEMU with a small iteration count: -singlestep -d nochain,exec.
 */
    .equ ITERS, 45000000

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      s0, ITERS           /* lui + addiw */
    li      s1, 0x2545F491      /* lui + addiw: xorshift state (nonzero) */
    li      a0, 0
    li      a1, 0
    li      a2, 0
    li      a3, 0
    la      s3, leaf2           /* auipc + addi */

1:  slli    t0, s1, 13          /* xorshift64: 6 */
    xor     s1, s1, t0
    srli    t0, s1, 7
    xor     s1, s1, t0
    slli    t0, s1, 17
    xor     s1, s1, t0

    andi    t1, s1, 1           /* diamond 1: 4 on either path */
    beqz    t1, 2f
    addi    a0, a0, 1
    j       3f
2:  addi    a1, a1, 1
    xor     a2, a2, a1
3:
    blt     a0, a1, 4f          /* diamond 2: 3 on either path */
    sub     a3, a0, a1
    j       5f
4:  sub     a3, a1, a0
    add     a2, a2, a3
5:
    jal     ra, leaf            /* direct call: 3 */
    jalr    ra, 0(s3)           /* indirect call: 4 */

    addi    s0, s0, -1
    bnez    s0, 1b

    li      t0, 0x100000        /* lui */
    li      t1, 0x5555          /* lui + addiw */
    sw      t1, 0(t0)           /* power off, exit code 0 */
6:  j       6b

leaf:
    addi    a3, a3, 3
    ret

leaf2:
    bltu    a2, a3, 7f          /* 3 on either path */
    xori    a2, a2, 5
    ret
7:  addi    a2, a2, 1
    ret
