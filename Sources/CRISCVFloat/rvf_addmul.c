/*
 * Addition, subtraction, multiplication and fused multiply-add.
 */
#include "rvf_internal.h"

/* Sign of an exact zero produced by adding operands of opposite signs: +0, except -0 in RDN. */
static inline uint32_t exact_zero_sign(uint32_t rm) { return rm == RVF_RM_RDN; }

/* a + (-1)^negate_b * b. */
RVF_CORE uint64_t add_core(const int fmt, uint64_t a, uint64_t b, uint32_t negate_b,
                           uint32_t rm, uint32_t *flags) {
    rvf_unpacked x = rvf_unpack(fmt, a);
    rvf_unpacked y = rvf_unpack(fmt, b);
    y.sign ^= negate_b;

    if (RVF_IS_NAN_CLS(x.cls) || RVF_IS_NAN_CLS(y.cls)) {
        if (x.cls == RVF_CLS_SNAN || y.cls == RVF_CLS_SNAN) *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (x.cls == RVF_CLS_INF) {
        if (y.cls == RVF_CLS_INF && x.sign != y.sign) {
            *flags |= RVF_FLAG_NV;
            return rvf_canonical_nan(fmt);
        }
        return a;
    }
    if (y.cls == RVF_CLS_INF) return rvf_inf(fmt, y.sign);
    if (y.cls == RVF_CLS_ZERO) {
        if (x.cls == RVF_CLS_ZERO && x.sign != y.sign) return rvf_zero(fmt, exact_zero_sign(rm));
        return a; /* x + 0 = x exactly (also (-0) + (-0) and (+0) + (+0)) */
    }
    if (x.cls == RVF_CLS_ZERO) return b ^ rvf_sign_bit(fmt, negate_b); /* 0 + y = y exactly */

    /* Both finite and non-zero. Order so that |x| >= |y|. */
    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
        rvf_unpacked t = x;
        x = y;
        y = t;
    }
    /* Leading ones at bit 62 (10 spare low bits). If the alignment shift is large enough to
     * discard bits of y, the result keeps its leading one at bit 61 or 62, so jamming the
     * discarded bits into bit 0 is exact enough for every rounding mode. */
    uint64_t xs = x.sig << 10;
    uint64_t ys = rvf_shr_jam64(y.sig << 10, (uint32_t)(x.exp - y.exp));
    int32_t e = x.exp;
    if (x.sign == y.sign) {
        uint64_t s = xs + ys; /* < 2^64 */
        if (s >> 63) {
            s = (s >> 1) | (s & 1);
            e += 1;
        }
        return rvf_round_pack(fmt, x.sign, e, s, rm, flags);
    }
    uint64_t d = xs - ys;
    if (d == 0) return rvf_zero(fmt, exact_zero_sign(rm));
    int lz = rvf_clz64(d) - 1;
    return rvf_round_pack(fmt, x.sign, e - lz, d << lz, rm, flags);
}

RVF_CORE uint64_t mul_core(const int fmt, uint64_t a, uint64_t b, uint32_t rm,
                           uint32_t *flags) {
    rvf_unpacked x = rvf_unpack(fmt, a);
    rvf_unpacked y = rvf_unpack(fmt, b);
    uint32_t sign = x.sign ^ y.sign;

    if (RVF_IS_NAN_CLS(x.cls) || RVF_IS_NAN_CLS(y.cls)) {
        if (x.cls == RVF_CLS_SNAN || y.cls == RVF_CLS_SNAN) *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (x.cls == RVF_CLS_INF || y.cls == RVF_CLS_INF) {
        if (x.cls == RVF_CLS_ZERO || y.cls == RVF_CLS_ZERO) {
            *flags |= RVF_FLAG_NV;
            return rvf_canonical_nan(fmt);
        }
        return rvf_inf(fmt, sign);
    }
    if (x.cls == RVF_CLS_ZERO || y.cls == RVF_CLS_ZERO) return rvf_zero(fmt, sign);

    /* Exact 106-bit product, value = p * 2^(ex + ey - 104). */
    rvf_u128 p = (rvf_u128)x.sig * y.sig;
    return rvf_norm_round_pack128(fmt, sign, x.exp + y.exp - 104, p, rm, flags);
}

/* op bit 0: negate the addend; op bit 1: negate the product (see RVF_FMADD...). */
RVF_CORE uint64_t muladd_core(const int fmt, uint64_t a, uint64_t b, uint64_t c, uint32_t op,
                              uint32_t rm, uint32_t *flags) {
    rvf_unpacked x = rvf_unpack(fmt, a);
    rvf_unpacked y = rvf_unpack(fmt, b);
    rvf_unpacked z = rvf_unpack(fmt, c);
    uint32_t psign = x.sign ^ y.sign ^ ((op >> 1) & 1);
    uint32_t csign = z.sign ^ (op & 1);

    if (x.cls == RVF_CLS_SNAN || y.cls == RVF_CLS_SNAN || z.cls == RVF_CLS_SNAN)
        *flags |= RVF_FLAG_NV;
    /* inf * 0 is invalid even if the addend is a quiet NaN (RISC-V unprivileged spec). */
    if ((x.cls == RVF_CLS_INF && y.cls == RVF_CLS_ZERO) ||
        (x.cls == RVF_CLS_ZERO && y.cls == RVF_CLS_INF)) {
        *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (RVF_IS_NAN_CLS(x.cls) || RVF_IS_NAN_CLS(y.cls) || RVF_IS_NAN_CLS(z.cls))
        return rvf_canonical_nan(fmt);
    if (x.cls == RVF_CLS_INF || y.cls == RVF_CLS_INF) {
        if (z.cls == RVF_CLS_INF && csign != psign) {
            *flags |= RVF_FLAG_NV;
            return rvf_canonical_nan(fmt);
        }
        return rvf_inf(fmt, psign);
    }
    if (z.cls == RVF_CLS_INF) return rvf_inf(fmt, csign);
    if (x.cls == RVF_CLS_ZERO || y.cls == RVF_CLS_ZERO) {
        /* The product is an exact (signed) zero. */
        if (z.cls == RVF_CLS_ZERO)
            return rvf_zero(fmt, psign == csign ? psign : exact_zero_sign(rm));
        return (c & ~rvf_sign_bit(fmt, 1)) | rvf_sign_bit(fmt, csign);
    }

    rvf_u128 p = (rvf_u128)x.sig * y.sig; /* [2^104, 2^106), value p * 2^(ex + ey - 104) */
    int32_t ep = x.exp + y.exp;
    if (z.cls == RVF_CLS_ZERO) /* a non-zero product plus a zero is just the rounded product */
        return rvf_norm_round_pack128(fmt, psign, ep - 104, p, rm, flags);

    /* Align the product P (leading one at bit 124 or 125, value P * 2^(ep - 124)) and the addend
     * C (leading one at bit 124, value C * 2^(ez - 124)). The operand with the smaller exponent
     * is shifted right with jamming; bits are only lost when it is so much smaller that the
     * result keeps its leading one within two bits of bit 124, far above the rounding point. */
    rvf_u128 P = p << 20;
    rvf_u128 C = (rvf_u128)z.sig << 72;
    int32_t e;
    if (ep >= z.exp) {
        C = rvf_shr_jam128(C, (uint32_t)(ep - z.exp));
        e = ep;
    } else {
        P = rvf_shr_jam128(P, (uint32_t)(z.exp - ep));
        e = z.exp;
    }
    rvf_u128 r;
    uint32_t sign;
    if (psign == csign) {
        r = P + C; /* < 2^127 */
        sign = psign;
    } else if (P >= C) {
        r = P - C;
        sign = psign;
    } else {
        r = C - P;
        sign = csign;
    }
    if (r == 0) return rvf_zero(fmt, exact_zero_sign(rm));
    return rvf_norm_round_pack128(fmt, sign, e - 124, r, rm, flags);
}

/* ---- public wrappers ------------------------------------------------------------------------ */

uint32_t rvf32_add(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) {
    return (uint32_t)add_core(RVF_F32, a, b, 0, rm, flags);
}
uint32_t rvf32_sub(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) {
    return (uint32_t)add_core(RVF_F32, a, b, 1, rm, flags);
}
uint32_t rvf32_mul(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) {
    return (uint32_t)mul_core(RVF_F32, a, b, rm, flags);
}
uint32_t rvf32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t rm, uint32_t *flags) {
    return (uint32_t)muladd_core(RVF_F32, a, b, c, op, rm, flags);
}

uint64_t rvf64_add(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) {
    return add_core(RVF_F64, a, b, 0, rm, flags);
}
uint64_t rvf64_sub(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) {
    return add_core(RVF_F64, a, b, 1, rm, flags);
}
uint64_t rvf64_mul(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) {
    return mul_core(RVF_F64, a, b, rm, flags);
}
uint64_t rvf64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t rm, uint32_t *flags) {
    return muladd_core(RVF_F64, a, b, c, op, rm, flags);
}
