/*
 * Test-only references for CRISCVFloat.
 *
 * 1. hostref_*: the host FPU (x86-64 SSE/FMA, driven through <fenv.h>) computing the same
 *    operations for RNE/RTZ/RDN/RUP (rm 0..3). NaN results are normalised to the canonical NaN,
 *    and where the host does not define the RISC-V answer (float -> integer overflow/NaN, where
 *    x86 returns the "integer indefinite"; unsigned conversions, which SSE lacks; inf*0 + qNaN
 *    in FMA, where x86 raises no invalid flag) the RISC-V rule is applied on top. Flags use the
 *    RISC-V fflags encoding (NX=1 UF=2 OF=4 DZ=8 NV=16) and are ORed into *flags.
 *    Only available on x86-64 (hostref_available() returns 0 elsewhere; the functions then
 *    return 0 and raise no flags).
 *
 * 2. rmmref_*: references for RMM (round to nearest, ties to max magnitude), which no host FPU
 *    offers; see rmmref.c for how they are derived (host RTZ result + an exact big-integer
 *    comparison with the midpoint).
 *
 * Operation codes: arith op 0 add, 1 sub, 2 mul, 3 div, 4 sqrt (b ignored).
 * Integer kinds: 0 int32, 1 uint32, 2 int64, 3 uint64. Float -> integer results are the 64-bit
 * register value (32-bit results sign-extended, also for uint32). Integer -> float inputs are
 * passed as uint64: for int32/uint32 only the low 32 bits are used.
 * muladd op: bit 0 negates the addend, bit 1 negates the product (RISC-V FMADD/FMSUB/FNMSUB/FNMADD).
 */
#ifndef CRISCVFLOATHOSTREFERENCE_H
#define CRISCVFLOATHOSTREFERENCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the host FPU reference can be used (x86-64 with SSE2). */
int hostref_available(void);
/** 1 when the host has the FMA3 instructions used by hostref_*_muladd. */
int hostref_has_fma(void);
/** The raw host result of fma(a, b, c) with a*b = inf*0 and c a quiet NaN: returns the host's
 *  RISC-V-encoded flags without the RISC-V override (used to document the x86 behaviour). */
uint32_t hostref_raw_fma_inf_zero_qnan_flags(void);
/** The current host rounding mode as a RISC-V rm (0..3), to check that the references restore
 *  round-to-nearest. */
uint32_t hostref_current_rm(void);

uint64_t hostref_f64_arith(uint32_t op, uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags);
uint32_t hostref_f32_arith(uint32_t op, uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags);
uint64_t hostref_f64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t rm, uint32_t *flags);
uint32_t hostref_f32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t rm, uint32_t *flags);
uint64_t hostref_f64_to_int(uint64_t a, uint32_t kind, uint32_t rm, uint32_t *flags);
uint64_t hostref_f32_to_int(uint32_t a, uint32_t kind, uint32_t rm, uint32_t *flags);
uint64_t hostref_f64_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags);
uint32_t hostref_f32_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags);
uint32_t hostref_f64_to_f32(uint64_t a, uint32_t rm, uint32_t *flags);
uint64_t hostref_f32_to_f64(uint32_t a, uint32_t *flags);

uint64_t rmmref_f64_arith(uint32_t op, uint64_t a, uint64_t b, uint32_t *flags);
uint32_t rmmref_f32_arith(uint32_t op, uint32_t a, uint32_t b, uint32_t *flags);
uint64_t rmmref_f64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t *flags);
uint32_t rmmref_f32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t *flags);
uint64_t rmmref_f64_to_int(uint64_t a, uint32_t kind, uint32_t *flags);
uint64_t rmmref_f32_to_int(uint32_t a, uint32_t kind, uint32_t *flags);
uint64_t rmmref_f64_from_int(uint64_t v, uint32_t kind, uint32_t *flags);
uint32_t rmmref_f32_from_int(uint64_t v, uint32_t kind, uint32_t *flags);
uint32_t rmmref_f64_to_f32(uint64_t a, uint32_t *flags);

/** Exact-comparator self test hook: sign (-1, 0, 1) of (x*y + z) - w for binary64 operands
 *  (all finite), computed with the big-integer accumulator used by the RMM references. */
int rmmref_exact_sign_f64(uint64_t x, uint64_t y, uint64_t z, uint64_t w);

#ifdef __cplusplus
}
#endif

#endif
