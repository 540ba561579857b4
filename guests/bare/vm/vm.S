/*
 * vm: assembly half of the S/U-mode and Sv39 test (see main.c).
 *
 *   probe(mode, pc, a0, a1, a2, a3)  M-mode: saves the C context, enters `pc`
 *                                in `mode` (0 U, 1 S, 3 M) through mret with
 *                                a0..a3 set, and returns when the next trap
 *                                reaches M-mode (probe_trap), with the trap
 *                                recorded in `probe_out`.
 *   s_handler                    stvec target for delegated traps: records
 *                                scause/stval/sepc/sstatus in `s_out`, then
 *                                ecalls to M (mepc == s_handler_ecall).
 *   s_vectors                    the same for stvec in vectored mode; also
 *                                records which entry was used.
 *   probe_page                   one 4 KiB page of position-independent
 *                                snippets, run at its identity address (S, M)
 *                                and through test mappings (U, X-only, ...).
 *                                Each does one thing and ends with ecall.
 *                                A 32-bit instruction straddles its end.
 *
 * No linker relaxation: a trap handler must not depend on gp.
 */
    .option norelax

    .equ MSTATUS_MPP,  (3 << 11)
    .equ MSTATUS_MPRV, (1 << 17)
    .equ SSTATUS_SPP,  (1 << 8)

    .text
    .balign 4
    .globl probe
probe:
    la      t0, probe_ctx
    sd      ra,   0(t0)
    sd      sp,   8(t0)
    sd      gp,  16(t0)
    sd      tp,  24(t0)
    sd      s0,  32(t0)
    sd      s1,  40(t0)
    sd      s2,  48(t0)
    sd      s3,  56(t0)
    sd      s4,  64(t0)
    sd      s5,  72(t0)
    sd      s6,  80(t0)
    sd      s7,  88(t0)
    sd      s8,  96(t0)
    sd      s9, 104(t0)
    sd      s10, 112(t0)
    sd      s11, 120(t0)
    la      t1, probe_trap
    csrw    mtvec, t1
    li      t1, MSTATUS_MPP
    csrc    mstatus, t1
    slli    t1, a0, 11
    csrs    mstatus, t1
    csrw    mepc, a1
    mv      a0, a2
    mv      a1, a3
    mv      a2, a4
    mv      a3, a5
    mret

/* Every trap that reaches M-mode while a probe runs ends the probe. */
    .balign 4
probe_trap:
    la      t0, probe_out
    sd      a0,  0(t0)
    sd      a1,  8(t0)
    csrr    t1, mcause
    sd      t1, 16(t0)
    csrr    t1, mtval
    sd      t1, 24(t0)
    csrr    t1, mepc
    sd      t1, 32(t0)
    csrr    t1, mstatus
    sd      t1, 40(t0)
    li      t1, MSTATUS_MPRV
    csrc    mstatus, t1
    la      t1, default_trap_entry
    csrw    mtvec, t1
    la      t0, probe_ctx
    ld      ra,   0(t0)
    ld      sp,   8(t0)
    ld      gp,  16(t0)
    ld      tp,  24(t0)
    ld      s0,  32(t0)
    ld      s1,  40(t0)
    ld      s2,  48(t0)
    ld      s3,  56(t0)
    ld      s4,  64(t0)
    ld      s5,  72(t0)
    ld      s6,  80(t0)
    ld      s7,  88(t0)
    ld      s8,  96(t0)
    ld      s9, 104(t0)
    ld      s10, 112(t0)
    ld      s11, 120(t0)
    ret

/* S-mode trap handlers (identity-mapped supervisor pages).  Vectored: entry
 * N is `jal t2, ...`, so t2 - s_vectors = 4 * (N + 1). */
    .balign 256
    .globl s_vectors
s_vectors:
    .option push
    .option norvc
    .rept 16
    jal     t2, s_vector_common
    .endr
    .option pop
s_vector_common:
    la      t1, s_vectors
    sub     t2, t2, t1
    srli    t2, t2, 2
    addi    t2, t2, -1
    j       s_record

    .balign 4
    .globl s_handler
s_handler:
    li      t2, -1              /* direct mode */
s_record:
    la      t0, s_out
    sd      t2, 40(t0)
    csrr    t1, scause
    sd      t1,  0(t0)
    csrr    t1, stval
    sd      t1,  8(t0)
    csrr    t1, sepc
    sd      t1, 16(t0)
    csrr    t1, sstatus
    sd      t1, 24(t0)
    li      t1, 1
    sd      t1, 32(t0)
    .globl s_handler_ecall
s_handler_ecall:
    ecall
1:  j       1b

/* What the last probe saw (layouts match struct probe_out / s_out in main.c). */
    .bss
    .balign 8
    .globl probe_out
probe_out:  .zero 48        /* a0, a1, mcause, mtval, mepc, mstatus */
    .globl s_out
s_out:      .zero 48        /* scause, stval, sepc, sstatus, valid, via */
probe_ctx:  .zero 128       /* ra, sp, gp, tp, s0-s11 */

/* ---- The snippet page ------------------------------------------------- */
    .section .text.probes, "ax", @progbits
    .balign 4096
    .globl probe_page
probe_page:

    .macro SNIPPET name
    .balign 4
    .globl \name
\name:
    .endm

SNIPPET p_ld            /* a0 = *(u64 *)a0 */
    ld      a0, 0(a0)
    ecall
SNIPPET p_lw            /* a0 = *(s32 *)a0 */
    lw      a0, 0(a0)
    ecall
SNIPPET p_sd            /* *(u64 *)a0 = a1 */
    sd      a1, 0(a0)
    ecall
SNIPPET p_sw            /* *(u32 *)a0 = a1 */
    sw      a1, 0(a0)
    ecall
SNIPPET p_sd_ld         /* *(u64 *)a0 = a1; a0 = *(u64 *)a2 */
    sd      a1, 0(a0)
    ld      a0, 0(a2)
    ecall
SNIPPET p_jr            /* jump to a0 */
    jr      a0
SNIPPET p_ecall
    ecall
SNIPPET p_sret_to       /* sstatus.SPP = a1 (0 or SPP); sepc = a0; sret */
    li      t0, SSTATUS_SPP
    csrc    sstatus, t0
    csrs    sstatus, a1
    csrw    sepc, a0
    sret
SNIPPET p_sret
    sret
    ecall
SNIPPET p_mret
    mret
    ecall
SNIPPET p_rd_sstatus
    csrr    a0, sstatus
    ecall
SNIPPET p_rd_sip
    csrr    a0, sip
    csrr    a1, sie
    ecall
SNIPPET p_rd_mstatus
    csrr    a0, mstatus
    ecall
SNIPPET p_rd_satp
    csrr    a0, satp
    ecall
SNIPPET p_cycle
    rdcycle a0
    li      a0, 0
    ecall
SNIPPET p_time
    rdtime  a0
    li      a0, 0
    ecall
SNIPPET p_instret
    rdinstret a0
    li      a0, 0
    ecall
SNIPPET p_sfence
    sfence.vma
    ecall
SNIPPET p_sfence_ld     /* sfence.vma; a0 = *(u64 *)a0 */
    sfence.vma
    ld      a0, 0(a0)
    ecall
SNIPPET p_sfence_va_ld  /* sfence.vma a0; a0 = *(u64 *)a0 */
    sfence.vma a0, zero
    ld      a0, 0(a0)
    ecall
SNIPPET p_remap         /* a1 = *a0; *(u64 *)a1 = a2 (a PTE); sfence.vma; a0 = *a0 */
    ld      t0, 0(a0)
    sd      a2, 0(a1)
    sfence.vma
    ld      a0, 0(a0)
    mv      a1, t0
    ecall
SNIPPET p_satp_rw       /* satp = a0; a0 = satp */
    csrw    satp, a0
    csrr    a0, satp
    ecall
SNIPPET p_mprv_ld       /* M-mode: mstatus |= a2; a0 = *(u64 *)a0; mstatus &= ~a2 */
    csrs    mstatus, a2
    ld      a0, 0(a0)
    csrc    mstatus, a2
    ecall
SNIPPET p_mprv_sd       /* M-mode: mstatus |= a2; *(u64 *)a0 = a1; mstatus &= ~a2 */
    csrs    mstatus, a2
    sd      a1, 0(a0)
    csrc    mstatus, a2
    ecall
SNIPPET p_amoadd        /* a0 = amoadd.d(a0, a1) */
    amoadd.d a0, a1, (a0)
    ecall
SNIPPET p_amoswap_w     /* a0 = amoswap.w(a0, a1) */
    amoswap.w a0, a1, (a0)
    ecall
SNIPPET p_lr            /* a0 = lr.d(a0) */
    lr.d    a0, (a0)
    ecall

SNIPPET p_wr_sip        /* csrs sip, a0; a0 = sip */
    csrs    sip, a0
    csrr    a0, sip
    ecall
SNIPPET p_sb            /* *(u8 *)a0 = a1 */
    sb      a1, 0(a0)
    ecall
SNIPPET p_lbu           /* a0 = *(u8 *)a0 */
    lbu     a0, 0(a0)
    ecall
SNIPPET p_wfi           /* wfi; a0 = 7 */
    wfi
    li      a0, 7
    ecall
SNIPPET p_status_2ld    /* sstatus |= a2; a1 = *a0; sstatus &= ~a2; a0 = *a0 */
    csrs    sstatus, a2
    ld      a1, 0(a0)
    csrc    sstatus, a2
    ld      a0, 0(a0)
    ecall
SNIPPET p_mprv_2ld      /* M: mstatus |= a2; a1 = *a0; mstatus &= ~a3; a0 = *a0; mstatus &= ~a2 */
    csrs    mstatus, a2
    ld      a1, 0(a0)
    csrc    mstatus, a3
    ld      a0, 0(a0)
    csrc    mstatus, a2
    ecall
SNIPPET p_satp_switch   /* a1 = *a0; satp = a2; sfence.vma; a0 = *a0 */
    ld      a1, 0(a0)
    csrw    satp, a2
    sfence.vma
    ld      a0, 0(a0)
    ecall
SNIPPET p_ld_pair       /* t0 = *a0; a1 = *a1; a0 = *a0 (a0, a1 share a TLB slot) */
    ld      t0, 0(a0)
    ld      a1, 0(a1)
    ld      a0, 0(a0)
    ecall
SNIPPET p_smc           /* *(u32 *)a0 = a1; *(u32 *)(a0 + 4) = ecall; fence.i; jump to a2 */
    sw      a1, 0(a0)
    li      t0, 0x00000073
    sw      t0, 4(a0)
    fence.i
    jr      a2

/* Code that remaps its own page: *(u64 *)a1 = a2 (the PTE of the page it runs
 * from); sfence.vma; then an indirect jump to the next instruction, which is
 * fetched through the new mapping.  probe_page_alt has the same code at the
 * same offset with another immediate. */
    .org    0xE00
    .globl p_code_swap
p_code_swap:
    .option push
    .option norvc
    la      t0, 1f
    sd      a2, 0(a1)
    sfence.vma
    jr      t0
1:  li      a0, 1
    ecall
    .option pop

/* A 32-bit instruction in the last two bytes of the page: addi a0, a0, 1,
 * then ecall at the start of the next page. */
    .org    0xFFE
    .globl p_straddle
p_straddle:
    .option push
    .option norvc
    addi    a0, a0, 1
    ecall
    .option pop
    .balign 4096

/* The other page for p_code_swap: same layout, a0 = 2. */
    .section .text.probes_alt, "ax", @progbits
    .balign 4096
    .globl probe_page_alt
probe_page_alt:
    .org    0xE00
    .option push
    .option norvc
    la      t0, 1f
    sd      a2, 0(a1)
    sfence.vma
    jr      t0
1:  li      a0, 2
    ecall
    .option pop
    .balign 4096
