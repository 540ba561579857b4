/*
 * Internal helpers shared by the CRISCVFloat implementation files. Not part of the public API.
 *
 * Internal number model
 * ---------------------
 * Both formats are handled by the same code, parameterised by `fmt` (RVF_F32 or RVF_F64); the
 * public wrappers pass a constant so that the compiler can specialise the inlined cores.
 *
 * An operand is unpacked into `rvf_unpacked`: class, sign, and for finite non-zero values a
 * significand `sig` normalised so that bit 52 is its leading one (binary32 significands are
 * shifted up by 29), with the unbiased exponent `exp`:
 *      value = (-1)^sign * sig * 2^(exp - 52),   2^52 <= sig < 2^53.
 * Subnormal inputs are normalised here, so the cores never see them.
 *
 * Results are produced through rvf_round_pack(), which takes a significand with its leading one at
 * bit 62 ("sticky" information from discarded bits ORed into bit 0):
 *      value = (-1)^sign * sig * 2^(exp - 62),   2^62 <= sig < 2^63,
 * or through the rvf_norm_round_pack64/128 helpers, which accept any non-zero magnitude
 * (value = mag * 2^scale) and normalise it first.
 */
#ifndef RVF_INTERNAL_H
#define RVF_INTERNAL_H

#include <stdint.h>
#include "CRISCVFloat.h"

typedef unsigned __int128 rvf_u128;

/* Operation cores are force-inlined into their public wrappers so that each wrapper gets a copy
 * specialised for its format (the `fmt` argument is a constant there). */
#define RVF_CORE static inline __attribute__((always_inline))

enum { RVF_F32 = 0, RVF_F64 = 1 };

enum {
    RVF_CLS_ZERO = 0,
    RVF_CLS_FINITE = 1, /* finite non-zero (normal or subnormal) */
    RVF_CLS_INF = 2,
    RVF_CLS_QNAN = 3,
    RVF_CLS_SNAN = 4,
};

typedef struct {
    uint64_t sig;  /* RVF_CLS_FINITE only: 2^52 <= sig < 2^53 */
    int32_t exp;   /* RVF_CLS_FINITE only: unbiased exponent */
    uint32_t sign; /* 0 or 1 */
    uint32_t cls;  /* RVF_CLS_* */
} rvf_unpacked;

#define RVF_IS_NAN_CLS(c) ((c) >= RVF_CLS_QNAN)

/* ---- format constants ---------------------------------------------------------------------- */

static inline int rvf_frac_bits(int fmt) { return fmt == RVF_F32 ? 23 : 52; }
static inline int rvf_sign_pos(int fmt) { return fmt == RVF_F32 ? 31 : 63; }

static inline uint64_t rvf_sign_bit(int fmt, uint32_t sign) {
    return (uint64_t)sign << rvf_sign_pos(fmt);
}
static inline uint64_t rvf_canonical_nan(int fmt) {
    return fmt == RVF_F32 ? RVF32_CANONICAL_NAN : RVF64_CANONICAL_NAN;
}
static inline uint64_t rvf_inf(int fmt, uint32_t sign) {
    return rvf_sign_bit(fmt, sign) | (fmt == RVF_F32 ? 0x7f800000ull : 0x7ff0000000000000ull);
}
static inline uint64_t rvf_zero(int fmt, uint32_t sign) { return rvf_sign_bit(fmt, sign); }

/* ---- bit helpers ---------------------------------------------------------------------------- */

/* Count leading zeros; x must be non-zero. */
static inline int rvf_clz64(uint64_t x) { return __builtin_clzll(x); }
static inline int rvf_clz128(rvf_u128 x) {
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

/* Shift right by n (any n >= 0), ORing every discarded bit into bit 0 ("jamming"). */
static inline uint64_t rvf_shr_jam64(uint64_t x, uint32_t n) {
    if (n == 0) return x;
    if (n < 64) return (x >> n) | (uint64_t)((x << (64 - n)) != 0);
    return (uint64_t)(x != 0);
}
static inline rvf_u128 rvf_shr_jam128(rvf_u128 x, uint32_t n) {
    if (n == 0) return x;
    if (n < 128) return (x >> n) | (rvf_u128)((x << (128 - n)) != 0);
    return (rvf_u128)(x != 0);
}

/* ---- unpacking ------------------------------------------------------------------------------ */

static inline rvf_unpacked rvf_unpack64(uint64_t a) {
    rvf_unpacked u;
    uint32_t e = (uint32_t)(a >> 52) & 0x7ff;
    uint64_t f = a & 0x000fffffffffffffull;
    u.sign = (uint32_t)(a >> 63);
    u.sig = 0;
    u.exp = 0;
    if (e == 0x7ff) {
        u.cls = f == 0 ? RVF_CLS_INF : ((f >> 51) ? RVF_CLS_QNAN : RVF_CLS_SNAN);
    } else if (e != 0) {
        u.cls = RVF_CLS_FINITE;
        u.sig = f | (1ull << 52);
        u.exp = (int32_t)e - 1023;
    } else if (f != 0) {
        int lz = rvf_clz64(f) - 11;
        u.cls = RVF_CLS_FINITE;
        u.sig = f << lz;
        u.exp = -1022 - lz;
    } else {
        u.cls = RVF_CLS_ZERO;
    }
    return u;
}

static inline rvf_unpacked rvf_unpack32(uint32_t a) {
    rvf_unpacked u;
    uint32_t e = (a >> 23) & 0xff;
    uint64_t f = a & 0x007fffffu;
    u.sign = a >> 31;
    u.sig = 0;
    u.exp = 0;
    if (e == 0xff) {
        u.cls = f == 0 ? RVF_CLS_INF : ((f >> 22) ? RVF_CLS_QNAN : RVF_CLS_SNAN);
    } else if (e != 0) {
        u.cls = RVF_CLS_FINITE;
        u.sig = (f | (1ull << 23)) << 29;
        u.exp = (int32_t)e - 127;
    } else if (f != 0) {
        int lz = rvf_clz64(f) - 11;
        u.cls = RVF_CLS_FINITE;
        u.sig = f << lz;
        u.exp = -97 - lz;
    } else {
        u.cls = RVF_CLS_ZERO;
    }
    return u;
}

static inline rvf_unpacked rvf_unpack(int fmt, uint64_t a) {
    return fmt == RVF_F32 ? rvf_unpack32((uint32_t)a) : rvf_unpack64(a);
}

/* ---- rounding and packing (rvf_round.c) ---------------------------------------------------- */

/* Round value = (-1)^sign * sig * 2^(exp - 62) (2^62 <= sig < 2^63, sticky in bit 0) to the format
 * with rounding mode rm, raising NX/UF/OF as needed, and return the packed bit pattern. */
uint64_t rvf_round_pack32(uint32_t sign, int32_t exp, uint64_t sig, uint32_t rm, uint32_t *flags);
uint64_t rvf_round_pack64(uint32_t sign, int32_t exp, uint64_t sig, uint32_t rm, uint32_t *flags);

static inline uint64_t rvf_round_pack(int fmt, uint32_t sign, int32_t exp, uint64_t sig,
                                      uint32_t rm, uint32_t *flags) {
    return fmt == RVF_F32 ? rvf_round_pack32(sign, exp, sig, rm, flags)
                          : rvf_round_pack64(sign, exp, sig, rm, flags);
}

/* Round value = (-1)^sign * mag * 2^scale for any non-zero mag (the lowest bit of mag may carry
 * sticky information as long as mag has at least two bits more than the format's precision). */
static inline uint64_t rvf_norm_round_pack64(int fmt, uint32_t sign, int32_t scale, uint64_t mag,
                                             uint32_t rm, uint32_t *flags) {
    int top = 63 - rvf_clz64(mag);
    uint64_t sig = top == 63 ? ((mag >> 1) | (mag & 1)) : (mag << (62 - top));
    return rvf_round_pack(fmt, sign, scale + top, sig, rm, flags);
}

static inline uint64_t rvf_norm_round_pack128(int fmt, uint32_t sign, int32_t scale, rvf_u128 mag,
                                              uint32_t rm, uint32_t *flags) {
    int top = 127 - rvf_clz128(mag);
    uint64_t sig = top > 62 ? (uint64_t)rvf_shr_jam128(mag, (uint32_t)(top - 62))
                            : (uint64_t)mag << (62 - top);
    return rvf_round_pack(fmt, sign, scale + top, sig, rm, flags);
}

#endif /* RVF_INTERNAL_H */
