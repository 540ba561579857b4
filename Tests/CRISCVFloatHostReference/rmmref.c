/*
 * References for RMM (round to nearest, ties to max magnitude), which no host FPU implements.
 *
 * Method (independent of the library under test):
 *  - Flags: RMM raises exactly the same flags as RNE. The two modes only differ on exact ties,
 *    which are inexact in both. The overflow threshold (largest finite value + half an ulp) and
 *    the after-rounding tininess threshold (the midpoint between 2^emin and the largest p-bit
 *    number below it) are ties whose lower neighbour has an odd (all-ones) significand, so RNE
 *    and RMM both round them up in magnitude; hence OF and UF agree too, and the RMM flags are
 *    the host's RNE flags.
 *  - Result: if the host's RNE result is exact, it is also the RMM result. Otherwise take the
 *    host's RTZ result t (the truncation, already at the right precision including subnormals, and
 *    the largest finite value on overflow). The RMM result is t or its successor in magnitude
 *    (bit pattern + 1, which is infinity after the largest finite value), chosen by comparing the
 *    exact mathematical result with the exact midpoint m = |t| + ulp(t)/2: successor iff
 *    |exact| >= m. The comparison is done with a 4352-bit two's complement integer accumulator
 *    holding sums of terms (128-bit integer) * 2^k, so a+b, a*b, a*b+c, a - m*b (division) and
 *    a - m*m (square root) are all computed without any rounding.
 *  - Float -> integer: C's round() (ties away from zero, exact, independent of the rounding mode)
 *    followed by the RISC-V range/saturation rules.
 */
#include "CRISCVFloatHostReference.h"

#include <math.h>
#include <string.h>

typedef unsigned __int128 u128;

enum { NX = 1, NV = 16 };

/* ---- exact accumulator ---------------------------------------------------------------------- */

#define NLIMBS 68   /* 4352 bits */
#define BIAS 2176   /* bit index of 2^0; lowest term used is about 2^-2150 */

typedef struct {
    uint64_t w[NLIMBS];
} big;

static void big_clear(big *x) { memset(x, 0, sizeof *x); }

/* x += (neg ? -1 : 1) * mag * 2^e */
static void big_add(big *x, int neg, u128 mag, int e) {
    if (mag == 0) return;
    int pos = e + BIAS;
    int limb = pos / 64, sh = pos % 64;
    uint64_t lo = (uint64_t)mag, hi = (uint64_t)(mag >> 64);
    uint64_t t[3];
    t[0] = lo << sh;
    t[1] = sh ? (hi << sh) | (lo >> (64 - sh)) : hi;
    t[2] = sh ? hi >> (64 - sh) : 0;
    if (!neg) {
        unsigned carry = 0;
        for (int i = limb; i < NLIMBS; i++) {
            uint64_t add = (i - limb < 3) ? t[i - limb] : 0;
            if (i - limb >= 3 && carry == 0) break;
            u128 s = (u128)x->w[i] + add + carry;
            x->w[i] = (uint64_t)s;
            carry = (unsigned)(s >> 64);
        }
    } else {
        unsigned borrow = 0;
        for (int i = limb; i < NLIMBS; i++) {
            uint64_t sub = (i - limb < 3) ? t[i - limb] : 0;
            if (i - limb >= 3 && borrow == 0) break;
            uint64_t old = x->w[i];
            uint64_t r = old - sub - borrow;
            borrow = (old < sub) || (old - sub < borrow);
            x->w[i] = r;
        }
    }
}

static int big_sign(const big *x) {
    if (x->w[NLIMBS - 1] >> 63) return -1;
    for (int i = 0; i < NLIMBS; i++)
        if (x->w[i]) return 1;
    return 0;
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* Finite value = (-1)^sign * T * 2^e, where 2^e is also the ulp of the format at that value. */
typedef struct {
    int sign;
    uint64_t T;
    int e;
} dec;

static dec dec64(uint64_t u) {
    dec d;
    uint32_t E = (uint32_t)(u >> 52) & 0x7ff;
    uint64_t f = u & 0x000fffffffffffffull;
    d.sign = (int)(u >> 63);
    d.T = E ? (f | (1ull << 52)) : f;
    d.e = E ? (int)E - 1075 : -1074;
    return d;
}

static dec dec32(uint32_t u) {
    dec d;
    uint32_t E = (u >> 23) & 0xff;
    uint64_t f = u & 0x7fffffu;
    d.sign = (int)(u >> 31);
    d.T = E ? (f | (1ull << 23)) : f;
    d.e = E ? (int)E - 150 : -149;
    return d;
}

/* Midpoint above |t|: M * 2^em. */
static void midpoint(dec t, u128 *M, int *em) {
    *M = (u128)t.T * 2 + 1;
    *em = t.e - 1;
}

/* Sign of |E| - m where E is the exact (signed) value accumulated in *x. */
static int cmp_abs_with_mid(big *x, dec t) {
    u128 M;
    int em;
    midpoint(t, &M, &em);
    int s = big_sign(x);
    if (s == 0) return -1;
    /* |E| - m = s * (E - s*m) */
    big_add(x, s > 0, M, em);
    return s * big_sign(x);
}

/* ---- RMM arithmetic ------------------------------------------------------------------------- */

/* Sign of |a op b| - m (op 0..3) or sqrt(a) - m (op 4) for the midpoint above t. */
static int exact_vs_mid(int is64, uint32_t op, uint64_t a, uint64_t b, dec t) {
    dec x = is64 ? dec64(a) : dec32((uint32_t)a);
    dec y = is64 ? dec64(b) : dec32((uint32_t)b);
    big acc;
    big_clear(&acc);
    u128 M;
    int em;
    midpoint(t, &M, &em);
    switch (op) {
    case 0:
    case 1:
        big_add(&acc, x.sign, x.T, x.e);
        big_add(&acc, y.sign ^ (int)(op == 1), y.T, y.e);
        return cmp_abs_with_mid(&acc, t);
    case 2:
        big_add(&acc, x.sign ^ y.sign, (u128)x.T * y.T, x.e + y.e);
        return cmp_abs_with_mid(&acc, t);
    case 3: /* |a/b| - m has the sign of |a| - m*|b| */
        big_add(&acc, 0, x.T, x.e);
        big_add(&acc, 1, M * y.T, em + y.e);
        return big_sign(&acc);
    default: /* sqrt(a) - m has the sign of a - m^2 */
        big_add(&acc, 0, x.T, x.e);
        big_add(&acc, 1, M * M, 2 * em);
        return big_sign(&acc);
    }
}

uint64_t rmmref_f64_arith(uint32_t op, uint64_t a, uint64_t b, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint64_t rne = hostref_f64_arith(op, a, b, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint64_t t = hostref_f64_arith(op, a, b, 1, &fz);
    return exact_vs_mid(1, op, a, b, dec64(t)) >= 0 ? t + 1 : t;
}

uint32_t rmmref_f32_arith(uint32_t op, uint32_t a, uint32_t b, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint32_t rne = hostref_f32_arith(op, a, b, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint32_t t = hostref_f32_arith(op, a, b, 1, &fz);
    return exact_vs_mid(0, op, a, b, dec32(t)) >= 0 ? t + 1 : t;
}

static int fma_vs_mid(int is64, uint64_t a, uint64_t b, uint64_t c, uint32_t op, dec t) {
    dec x = is64 ? dec64(a) : dec32((uint32_t)a);
    dec y = is64 ? dec64(b) : dec32((uint32_t)b);
    dec z = is64 ? dec64(c) : dec32((uint32_t)c);
    big acc;
    big_clear(&acc);
    big_add(&acc, x.sign ^ y.sign ^ (int)((op >> 1) & 1), (u128)x.T * y.T, x.e + y.e);
    big_add(&acc, z.sign ^ (int)(op & 1), z.T, z.e);
    return cmp_abs_with_mid(&acc, t);
}

uint64_t rmmref_f64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint64_t rne = hostref_f64_muladd(a, b, c, op, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint64_t t = hostref_f64_muladd(a, b, c, op, 1, &fz);
    return fma_vs_mid(1, a, b, c, op, dec64(t)) >= 0 ? t + 1 : t;
}

uint32_t rmmref_f32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint32_t rne = hostref_f32_muladd(a, b, c, op, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint32_t t = hostref_f32_muladd(a, b, c, op, 1, &fz);
    return fma_vs_mid(0, a, b, c, op, dec32(t)) >= 0 ? t + 1 : t;
}

/* ---- RMM conversions ------------------------------------------------------------------------ */

static int int_vs_mid(uint64_t v, uint32_t kind, dec t) {
    uint64_t mag;
    int neg = 0;
    switch (kind & 3) {
    case 0: { int32_t s = (int32_t)(uint32_t)v; neg = s < 0; mag = neg ? (uint64_t)(-(int64_t)s) : (uint64_t)s; break; }
    case 1: mag = (uint32_t)v; break;
    case 2: { int64_t s = (int64_t)v; neg = s < 0; mag = neg ? 0 - v : v; break; }
    default: mag = v; break;
    }
    big acc;
    big_clear(&acc);
    big_add(&acc, neg, mag, 0);
    return cmp_abs_with_mid(&acc, t);
}

uint64_t rmmref_f64_from_int(uint64_t v, uint32_t kind, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint64_t rne = hostref_f64_from_int(v, kind, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint64_t t = hostref_f64_from_int(v, kind, 1, &fz);
    return int_vs_mid(v, kind, dec64(t)) >= 0 ? t + 1 : t;
}

uint32_t rmmref_f32_from_int(uint64_t v, uint32_t kind, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint32_t rne = hostref_f32_from_int(v, kind, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint32_t t = hostref_f32_from_int(v, kind, 1, &fz);
    return int_vs_mid(v, kind, dec32(t)) >= 0 ? t + 1 : t;
}

uint32_t rmmref_f64_to_f32(uint64_t a, uint32_t *flags) {
    uint32_t fne = 0, fz = 0;
    uint32_t rne = hostref_f64_to_f32(a, 0, &fne);
    *flags |= fne;
    if (!(fne & NX)) return rne;
    uint32_t t = hostref_f64_to_f32(a, 1, &fz);
    dec x = dec64(a);
    big acc;
    big_clear(&acc);
    big_add(&acc, x.sign, x.T, x.e);
    return cmp_abs_with_mid(&acc, dec32(t)) >= 0 ? t + 1 : t;
}

static uint64_t to_int_rmm(double x, uint32_t kind, uint32_t *flags) {
    static const uint64_t sat_pos[4] = {0x7fffffffull, 0xffffffffffffffffull,
                                        0x7fffffffffffffffull, 0xffffffffffffffffull};
    static const uint64_t sat_neg[4] = {0xffffffff80000000ull, 0, 0x8000000000000000ull, 0};
    kind &= 3;
    if (x != x) {
        *flags |= NV;
        return sat_pos[kind];
    }
    double r = round(x); /* ties away from zero; exact */
    int ok;
    switch (kind) {
    case 0: ok = r >= -2147483648.0 && r <= 2147483647.0; break;
    case 1: ok = r >= 0.0 && r <= 4294967295.0; break; /* r == -0.0 passes */
    case 2: ok = r >= -9223372036854775808.0 && r < 9223372036854775808.0; break;
    default: ok = r >= 0.0 && r < 18446744073709551616.0; break;
    }
    if (!ok) {
        *flags |= NV;
        return x < 0 ? sat_neg[kind] : sat_pos[kind];
    }
    if (r != x) *flags |= NX;
    switch (kind) {
    case 0: return (uint64_t)(int64_t)r;
    case 1: return (uint64_t)(int64_t)(int32_t)(uint32_t)(int64_t)r;
    case 2: return (uint64_t)(int64_t)r;
    default: return r == 0.0 ? 0 : (uint64_t)r;
    }
}

uint64_t rmmref_f64_to_int(uint64_t a, uint32_t kind, uint32_t *flags) {
    double x;
    memcpy(&x, &a, 8);
    return to_int_rmm(x, kind, flags);
}

uint64_t rmmref_f32_to_int(uint32_t a, uint32_t kind, uint32_t *flags) {
    float f;
    memcpy(&f, &a, 4);
    if ((a & 0x7fffffffu) > 0x7f800000u) return to_int_rmm(NAN, kind, flags);
    return to_int_rmm((double)f, kind, flags);
}

int rmmref_exact_sign_f64(uint64_t x, uint64_t y, uint64_t z, uint64_t w) {
    dec a = dec64(x), b = dec64(y), c = dec64(z), d = dec64(w);
    big acc;
    big_clear(&acc);
    big_add(&acc, a.sign ^ b.sign, (u128)a.T * b.T, a.e + b.e);
    big_add(&acc, c.sign, c.T, c.e);
    big_add(&acc, !d.sign, d.T, d.e);
    return big_sign(&acc);
}
