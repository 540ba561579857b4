/*
 * CRISCVFloat - IEEE 754 binary32/binary64 arithmetic with exact RISC-V F/D semantics.
 *
 * Everything is computed with integer arithmetic only (uint64_t and unsigned __int128); the host
 * FPU and <fenv.h> are never used, so every host (x86-64 primary, AArch64 backup, ...) produces
 * bit-identical results and exception flags.
 *
 * Conventions shared by all functions:
 *  - Values are raw bit patterns: binary32 as uint32_t, binary64 as uint64_t. NaN-boxing of
 *    binary32 values inside 64-bit registers is the caller's job.
 *  - `rm` is a RISC-V rounding mode: RVF_RM_RNE (0), RVF_RM_RTZ (1), RVF_RM_RDN (2), RVF_RM_RUP (3)
 *    or RVF_RM_RMM (4). Callers resolve DYN (7) to frm and reject the reserved encodings 5 and 6
 *    before calling; the behaviour for other values is unspecified (but memory safe).
 *  - `flags` points to the accumulated fflags. Functions only OR bits into it (RVF_FLAG_*), they
 *    never clear any; it must not be NULL.
 *  - Every NaN produced is the canonical NaN (RVF32_CANONICAL_NAN / RVF64_CANONICAL_NAN); NaN
 *    payloads are never propagated. Signaling NaN operands raise NV.
 *  - Tininess is detected after rounding; UF is raised only when the result is tiny and inexact.
 *    Subnormals are fully supported (no flush-to-zero, no denormals-are-zero).
 */
#ifndef CRISCVFLOAT_H
#define CRISCVFLOAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rounding modes (the frm / instruction rm encodings). */
#define RVF_RM_RNE 0u /* round to nearest, ties to even */
#define RVF_RM_RTZ 1u /* round towards zero */
#define RVF_RM_RDN 2u /* round down (towards -infinity) */
#define RVF_RM_RUP 3u /* round up (towards +infinity) */
#define RVF_RM_RMM 4u /* round to nearest, ties to max magnitude */

/* fflags bits. */
#define RVF_FLAG_NX 1u  /* inexact */
#define RVF_FLAG_UF 2u  /* underflow */
#define RVF_FLAG_OF 4u  /* overflow */
#define RVF_FLAG_DZ 8u  /* divide by zero */
#define RVF_FLAG_NV 16u /* invalid operation */

/* Canonical quiet NaNs. */
#define RVF32_CANONICAL_NAN 0x7fc00000u
#define RVF64_CANONICAL_NAN 0x7ff8000000000000ull

/* FMA variants for rvf32_muladd / rvf64_muladd (the negations apply to the inputs). */
#define RVF_FMADD 0u  /*  (a*b) + c */
#define RVF_FMSUB 1u  /*  (a*b) - c */
#define RVF_FNMSUB 2u /* -(a*b) + c */
#define RVF_FNMADD 3u /* -(a*b) - c */

/* ------------------------------------------------------------------------------------------ */
/* binary32                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** FADD.S: a + b correctly rounded with `rm`. An exact zero sum of operands of opposite sign is +0,
 *  or -0 when rm is RDN; (-0) + (-0) = -0. inf + (-inf) raises NV and returns the canonical NaN. */
uint32_t rvf32_add(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags);

/** FSUB.S: a - b, i.e. a + (-b) with the same rules as rvf32_add. */
uint32_t rvf32_sub(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags);

/** FMUL.S: a * b correctly rounded. 0 * inf raises NV and returns the canonical NaN. */
uint32_t rvf32_mul(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags);

/** FDIV.S: a / b correctly rounded. 0/0 and inf/inf raise NV (canonical NaN); finite non-zero / 0
 *  raises DZ and returns an infinity with the xor of the operand signs. */
uint32_t rvf32_div(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags);

/** FSQRT.S: square root correctly rounded. sqrt(-0) = -0; a negative non-zero operand (including
 *  -inf) raises NV and returns the canonical NaN. */
uint32_t rvf32_sqrt(uint32_t a, uint32_t rm, uint32_t *flags);

/** FMADD.S/FMSUB.S/FNMSUB.S/FNMADD.S with a single rounding. `op` is RVF_FMADD (a*b)+c,
 *  RVF_FMSUB (a*b)-c, RVF_FNMSUB -(a*b)+c or RVF_FNMADD -(a*b)-c; the negations are applied to
 *  the product and/or addend before the fused addition, never to the rounded result (this
 *  decides the sign of exact zero results). inf*0 raises NV even when c is a quiet NaN. */
uint32_t rvf32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t rm, uint32_t *flags);

/** FMIN.S (RISC-V >= 2.2): the smaller operand, with -0 < +0. If exactly one operand is a NaN the
 *  other is returned; if both are NaN the canonical NaN. Any signaling NaN operand raises NV. */
uint32_t rvf32_min(uint32_t a, uint32_t b, uint32_t *flags);

/** FMAX.S: like rvf32_min but returns the larger operand (+0 > -0). */
uint32_t rvf32_max(uint32_t a, uint32_t b, uint32_t *flags);

/** FEQ.S: 1 if a == b (so -0 == +0), else 0. Quiet: NV only for signaling NaN operands. */
int rvf32_eq(uint32_t a, uint32_t b, uint32_t *flags);

/** FLT.S: 1 if a < b, else 0. Signaling: any NaN operand raises NV (and gives 0). */
int rvf32_lt(uint32_t a, uint32_t b, uint32_t *flags);

/** FLE.S: 1 if a <= b, else 0. Signaling: any NaN operand raises NV (and gives 0). */
int rvf32_le(uint32_t a, uint32_t b, uint32_t *flags);

/** FCLASS.S: the 10-bit class mask: bit 0 -inf, 1 negative normal, 2 negative subnormal, 3 -0,
 *  4 +0, 5 positive subnormal, 6 positive normal, 7 +inf, 8 signaling NaN, 9 quiet NaN. */
uint32_t rvf32_classify(uint32_t a);

/** FCVT.W.S: the rounded value as a signed 32-bit integer, sign-extended to 64 bits.
 *  NaN -> 0x7fffffff; +inf or too large -> 0x7fffffff; -inf or too small -> -2^31; these raise
 *  NV only. Otherwise NX when inexact. */
int64_t rvf32_to_i32(uint32_t a, uint32_t rm, uint32_t *flags);

/** FCVT.WU.S: the rounded value as an unsigned 32-bit integer, returned as the register value,
 *  i.e. the 32-bit result sign-extended to 64 bits (0xffffffff -> 0xffffffffffffffff).
 *  NaN, +inf or too large -> 0xffffffff (NV); -inf or values rounding to <= -1 -> 0 (NV).
 *  Negative values rounding to 0 (e.g. -0.4 with RNE) give 0 with NX, not NV. */
uint64_t rvf32_to_u32(uint32_t a, uint32_t rm, uint32_t *flags);

/** FCVT.L.S: the rounded value as a signed 64-bit integer. NaN and +inf/too large -> INT64_MAX,
 *  -inf/too small -> INT64_MIN, raising NV only; otherwise NX when inexact. */
int64_t rvf32_to_i64(uint32_t a, uint32_t rm, uint32_t *flags);

/** FCVT.LU.S: the rounded value as an unsigned 64-bit integer. NaN and +inf/too large ->
 *  UINT64_MAX (NV); -inf and values rounding to <= -1 -> 0 (NV); negative values rounding to 0
 *  give 0 (NX). */
uint64_t rvf32_to_u64(uint32_t a, uint32_t rm, uint32_t *flags);

/** FCVT.S.W: int32 -> binary32, rounded with `rm` (NX when inexact). */
uint32_t rvf32_from_i32(int32_t v, uint32_t rm, uint32_t *flags);

/** FCVT.S.WU: uint32 -> binary32, rounded with `rm` (NX when inexact). */
uint32_t rvf32_from_u32(uint32_t v, uint32_t rm, uint32_t *flags);

/** FCVT.S.L: int64 -> binary32, rounded with `rm` (NX when inexact). */
uint32_t rvf32_from_i64(int64_t v, uint32_t rm, uint32_t *flags);

/** FCVT.S.LU: uint64 -> binary32, rounded with `rm` (NX when inexact). */
uint32_t rvf32_from_u64(uint64_t v, uint32_t rm, uint32_t *flags);

/** FCVT.D.S: binary32 -> binary64. Always exact; a NaN gives the canonical binary64 NaN (NV if it
 *  was signaling). */
uint64_t rvf32_to_f64(uint32_t a, uint32_t *flags);

/* ------------------------------------------------------------------------------------------ */
/* binary64                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** FADD.D: a + b correctly rounded with `rm`. An exact zero sum of operands of opposite sign is +0,
 *  or -0 when rm is RDN; (-0) + (-0) = -0. inf + (-inf) raises NV and returns the canonical NaN. */
uint64_t rvf64_add(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags);

/** FSUB.D: a - b, i.e. a + (-b) with the same rules as rvf64_add. */
uint64_t rvf64_sub(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags);

/** FMUL.D: a * b correctly rounded. 0 * inf raises NV and returns the canonical NaN. */
uint64_t rvf64_mul(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags);

/** FDIV.D: a / b correctly rounded. 0/0 and inf/inf raise NV (canonical NaN); finite non-zero / 0
 *  raises DZ and returns an infinity with the xor of the operand signs. */
uint64_t rvf64_div(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags);

/** FSQRT.D: square root correctly rounded. sqrt(-0) = -0; a negative non-zero operand (including
 *  -inf) raises NV and returns the canonical NaN. */
uint64_t rvf64_sqrt(uint64_t a, uint32_t rm, uint32_t *flags);

/** FMADD.D/FMSUB.D/FNMSUB.D/FNMADD.D with a single rounding; see rvf32_muladd for `op`.
 *  inf*0 raises NV even when c is a quiet NaN. */
uint64_t rvf64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t rm, uint32_t *flags);

/** FMIN.D (RISC-V >= 2.2): the smaller operand, with -0 < +0. If exactly one operand is a NaN the
 *  other is returned; if both are NaN the canonical NaN. Any signaling NaN operand raises NV. */
uint64_t rvf64_min(uint64_t a, uint64_t b, uint32_t *flags);

/** FMAX.D: like rvf64_min but returns the larger operand (+0 > -0). */
uint64_t rvf64_max(uint64_t a, uint64_t b, uint32_t *flags);

/** FEQ.D: 1 if a == b (so -0 == +0), else 0. Quiet: NV only for signaling NaN operands. */
int rvf64_eq(uint64_t a, uint64_t b, uint32_t *flags);

/** FLT.D: 1 if a < b, else 0. Signaling: any NaN operand raises NV (and gives 0). */
int rvf64_lt(uint64_t a, uint64_t b, uint32_t *flags);

/** FLE.D: 1 if a <= b, else 0. Signaling: any NaN operand raises NV (and gives 0). */
int rvf64_le(uint64_t a, uint64_t b, uint32_t *flags);

/** FCLASS.D: the 10-bit class mask (same bit assignment as rvf32_classify). */
uint32_t rvf64_classify(uint64_t a);

/** FCVT.W.D: see rvf32_to_i32 (result sign-extended to 64 bits). */
int64_t rvf64_to_i32(uint64_t a, uint32_t rm, uint32_t *flags);

/** FCVT.WU.D: see rvf32_to_u32 (the 32-bit result sign-extended to 64 bits). */
uint64_t rvf64_to_u32(uint64_t a, uint32_t rm, uint32_t *flags);

/** FCVT.L.D: see rvf32_to_i64. */
int64_t rvf64_to_i64(uint64_t a, uint32_t rm, uint32_t *flags);

/** FCVT.LU.D: see rvf32_to_u64. */
uint64_t rvf64_to_u64(uint64_t a, uint32_t rm, uint32_t *flags);

/** FCVT.D.W: int32 -> binary64 (always exact). */
uint64_t rvf64_from_i32(int32_t v, uint32_t rm, uint32_t *flags);

/** FCVT.D.WU: uint32 -> binary64 (always exact). */
uint64_t rvf64_from_u32(uint32_t v, uint32_t rm, uint32_t *flags);

/** FCVT.D.L: int64 -> binary64, rounded with `rm` (NX when inexact). */
uint64_t rvf64_from_i64(int64_t v, uint32_t rm, uint32_t *flags);

/** FCVT.D.LU: uint64 -> binary64, rounded with `rm` (NX when inexact). */
uint64_t rvf64_from_u64(uint64_t v, uint32_t rm, uint32_t *flags);

/** FCVT.S.D: binary64 -> binary32 rounded with `rm` (may raise NX, UF, OF). A NaN gives the
 *  canonical binary32 NaN (NV if it was signaling). */
uint32_t rvf64_to_f32(uint64_t a, uint32_t rm, uint32_t *flags);

#ifdef __cplusplus
}
#endif

#endif /* CRISCVFLOAT_H */
