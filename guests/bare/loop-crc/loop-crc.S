/*
 * loop-crc: the bitwise CRC-16 inner loop of the CPU benchmark (bench), as GCC 12 compiles
 * `crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1` for rv64gc, on its own. It is a run of
 * fused pairs (srli+slliw, a skip over xor, c.slli+c.addiw, c.srli+c.bnez) whose CRC value
 * passes from one pair to the next, so it shows what a pair costs in a chain (see
 * docs/benchmarks.md). Pure assembly with its own _start, so the instruction count is exact.
 *
 * Instructions retired from _start (0x80000000) up to and including the store to the test
 * device:
 *     setup      6   (li s1,OUTER = lui+addiw; li s0 = lui+addiw; li s3 = lui+addiw)
 *     outer      OUTER * (1 + inner + 2)   (li a3; the inner loop; addi; bnez)
 *     inner      8 bit steps of 8 instructions, 7 when the skip's branch is taken (the bit was 0)
 *     exit       4   (lui t0; lui t1; addiw t1; sw)
 * The count depends on the data, so `lockstep run --stats` reports it (cpu.py and ab.py use it).
 * Then exits with code 0 (0x5555 -> SiFive test device).
 */
    .equ OUTER, 20000000

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      s1, OUTER
    li      s0, 0x1234          /* the CRC */
    li      s3, 0x1021          /* the CCITT polynomial */
outer:
    li      a3, 8
1:  srli    t5, s0, 15          /* the top bit */
    slliw   s0, s0, 1
    beqz    t5, 2f
    xor     s0, s3, s0
2:  c.slli  s0, 48              /* crc & 0xffff, interleaved with the counter by GCC */
    c.addiw a3, -1
    c.srli  s0, 48
    c.bnez  a3, 1b
    addi    s1, s1, -1
    bnez    s1, outer

    li      t0, 0x100000        /* lui */
    li      t1, 0x5555          /* lui + addiw */
    sw      t1, 0(t0)           /* power off, exit code 0 */
3:  j       3b
