/*
 * Trap entry points for the timer demo.
 *
 *   timer_direct_entry  - mtvec direct mode (mode 0): every trap lands here.
 *   timer_vector_table  - mtvec vectored mode (mode 1): exceptions go to
 *                         entry 0, interrupt cause N to entry N (4 bytes
 *                         each); the machine timer interrupt is cause 7.
 *
 * Both save the caller-saved registers, call into C, restore and mret.
 */

    .macro SAVE_CALLER_SAVED
    addi    sp, sp, -128
    sd      ra,   0(sp)
    sd      t0,   8(sp)
    sd      t1,  16(sp)
    sd      t2,  24(sp)
    sd      a0,  32(sp)
    sd      a1,  40(sp)
    sd      a2,  48(sp)
    sd      a3,  56(sp)
    sd      a4,  64(sp)
    sd      a5,  72(sp)
    sd      a6,  80(sp)
    sd      a7,  88(sp)
    sd      t3,  96(sp)
    sd      t4, 104(sp)
    sd      t5, 112(sp)
    sd      t6, 120(sp)
    .endm

    .macro RESTORE_CALLER_SAVED_AND_MRET
    ld      ra,   0(sp)
    ld      t0,   8(sp)
    ld      t1,  16(sp)
    ld      t2,  24(sp)
    ld      a0,  32(sp)
    ld      a1,  40(sp)
    ld      a2,  48(sp)
    ld      a3,  56(sp)
    ld      a4,  64(sp)
    ld      a5,  72(sp)
    ld      a6,  80(sp)
    ld      a7,  88(sp)
    ld      t3,  96(sp)
    ld      t4, 104(sp)
    ld      t5, 112(sp)
    ld      t6, 120(sp)
    addi    sp, sp, 128
    mret
    .endm

    .text

/* Direct mode: C decides what the trap was from mcause. */
    .balign 4
    .globl timer_direct_entry
timer_direct_entry:
    SAVE_CALLER_SAVED
    csrr    a0, mcause
    li      a1, 0               /* via = direct */
    call    timer_trap
    RESTORE_CALLER_SAVED_AND_MRET

/* Vectored mode: only the timer entry is expected. */
timer_vector_mti:
    SAVE_CALLER_SAVED
    csrr    a0, mcause
    li      a1, 1               /* via = vector entry 7 */
    call    timer_trap
    RESTORE_CALLER_SAVED_AND_MRET

/* Any other vector entry: report like the default handler (exits 99). */
timer_vector_other:
    j       default_trap_entry

/* The table must use 4-byte `j` instructions: no compressed encodings. */
    .balign 256
    .globl timer_vector_table
timer_vector_table:
    .option push
    .option norvc
    j       timer_vector_other  /*  0: exceptions */
    j       timer_vector_other  /*  1: supervisor software interrupt */
    j       timer_vector_other  /*  2 */
    j       timer_vector_other  /*  3: machine software interrupt */
    j       timer_vector_other  /*  4 */
    j       timer_vector_other  /*  5: supervisor timer interrupt */
    j       timer_vector_other  /*  6 */
    j       timer_vector_mti    /*  7: machine timer interrupt */
    j       timer_vector_other  /*  8 */
    j       timer_vector_other  /*  9: supervisor external interrupt */
    j       timer_vector_other  /* 10 */
    j       timer_vector_other  /* 11: machine external interrupt */
    j       timer_vector_other  /* 12 */
    j       timer_vector_other  /* 13 */
    j       timer_vector_other  /* 14 */
    j       timer_vector_other  /* 15 */
    .option pop
