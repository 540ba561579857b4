/*
 * Conversions: float <-> integer (FCVT.{W,WU,L,LU}.{S,D}, FCVT.{S,D}.{W,WU,L,LU}) and
 * binary32 <-> binary64 (FCVT.D.S, FCVT.S.D).
 */
#include "rvf_internal.h"

/* ---- float -> integer ----------------------------------------------------------------------- */

enum { TO_I32, TO_U32, TO_I64, TO_U64 };

/* Returns the 64-bit register value. Out-of-range and NaN inputs saturate as RISC-V specifies and
 * raise NV only; in-range inexact results raise NX. */
RVF_CORE uint64_t to_int_core(const int fmt, uint64_t a, const int kind, uint32_t rm,
                              uint32_t *flags) {
    static const uint64_t max_pos[4] = {
        0x7fffffffull, 0xffffffffffffffffull /* 0xffffffff sign-extended */,
        0x7fffffffffffffffull, 0xffffffffffffffffull};
    static const uint64_t max_neg[4] = {
        0xffffffff80000000ull, 0, 0x8000000000000000ull, 0};
    rvf_unpacked x = rvf_unpack(fmt, a);

    if (x.cls == RVF_CLS_ZERO) return 0;
    if (RVF_IS_NAN_CLS(x.cls)) goto invalid_pos; /* NaN -> largest positive value */
    if (x.cls == RVF_CLS_INF || x.exp >= 64) goto invalid; /* |x| >= 2^64 */

    /* Integer part `mag` and the fraction as a 64-bit binary fixed-point number `frac`. */
    uint64_t mag, frac;
    if (x.exp >= 52) {
        mag = x.sig << (x.exp - 52);
        frac = 0;
    } else {
        uint32_t sh = (uint32_t)(52 - x.exp);
        if (sh < 64) {
            mag = x.sig >> sh;
            frac = x.sig << (64 - sh);
        } else {
            mag = 0;
            frac = sh == 64 ? x.sig : 1; /* non-zero and below one half */
        }
    }
    if (frac) {
        const uint64_t half = 1ull << 63;
        int up;
        switch (rm) {
        case RVF_RM_RNE: up = frac > half || (frac == half && (mag & 1)); break;
        case RVF_RM_RTZ: up = 0; break;
        case RVF_RM_RDN: up = x.sign; break;
        case RVF_RM_RUP: up = !x.sign; break;
        default: up = frac >= half; break; /* RMM */
        }
        mag += (uint64_t)up; /* mag < 2^52 here, cannot wrap */
    }

    switch (kind) {
    case TO_I32:
        if (mag > (x.sign ? 0x80000000ull : 0x7fffffffull)) goto invalid;
        break;
    case TO_U32:
        if (x.sign ? mag != 0 : mag > 0xffffffffull) goto invalid;
        break;
    case TO_I64:
        if (mag > (x.sign ? 0x8000000000000000ull : 0x7fffffffffffffffull)) goto invalid;
        break;
    default: /* TO_U64: every positive value below 2^64 fits */
        if (x.sign && mag != 0) goto invalid;
        break;
    }
    if (frac) *flags |= RVF_FLAG_NX;
    uint64_t r = x.sign ? (uint64_t)0 - mag : mag;
    if (kind == TO_U32) r = (uint64_t)(int64_t)(int32_t)(uint32_t)r; /* sign-extend */
    return r;

invalid:
    if (x.sign) {
        *flags |= RVF_FLAG_NV;
        return max_neg[kind];
    }
invalid_pos:
    *flags |= RVF_FLAG_NV;
    return max_pos[kind];
}

int64_t rvf32_to_i32(uint32_t a, uint32_t rm, uint32_t *flags) {
    return (int64_t)to_int_core(RVF_F32, a, TO_I32, rm, flags);
}
uint64_t rvf32_to_u32(uint32_t a, uint32_t rm, uint32_t *flags) {
    return to_int_core(RVF_F32, a, TO_U32, rm, flags);
}
int64_t rvf32_to_i64(uint32_t a, uint32_t rm, uint32_t *flags) {
    return (int64_t)to_int_core(RVF_F32, a, TO_I64, rm, flags);
}
uint64_t rvf32_to_u64(uint32_t a, uint32_t rm, uint32_t *flags) {
    return to_int_core(RVF_F32, a, TO_U64, rm, flags);
}
int64_t rvf64_to_i32(uint64_t a, uint32_t rm, uint32_t *flags) {
    return (int64_t)to_int_core(RVF_F64, a, TO_I32, rm, flags);
}
uint64_t rvf64_to_u32(uint64_t a, uint32_t rm, uint32_t *flags) {
    return to_int_core(RVF_F64, a, TO_U32, rm, flags);
}
int64_t rvf64_to_i64(uint64_t a, uint32_t rm, uint32_t *flags) {
    return (int64_t)to_int_core(RVF_F64, a, TO_I64, rm, flags);
}
uint64_t rvf64_to_u64(uint64_t a, uint32_t rm, uint32_t *flags) {
    return to_int_core(RVF_F64, a, TO_U64, rm, flags);
}

/* ---- integer -> float ----------------------------------------------------------------------- */

RVF_CORE uint64_t from_int_core(const int fmt, uint32_t sign, uint64_t mag, uint32_t rm,
                                uint32_t *flags) {
    if (mag == 0) return 0; /* +0 */
    return rvf_norm_round_pack64(fmt, sign, 0, mag, rm, flags);
}

static inline uint64_t abs64(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

uint32_t rvf32_from_i32(int32_t v, uint32_t rm, uint32_t *flags) {
    return (uint32_t)from_int_core(RVF_F32, v < 0, abs64(v), rm, flags);
}
uint32_t rvf32_from_u32(uint32_t v, uint32_t rm, uint32_t *flags) {
    return (uint32_t)from_int_core(RVF_F32, 0, v, rm, flags);
}
uint32_t rvf32_from_i64(int64_t v, uint32_t rm, uint32_t *flags) {
    return (uint32_t)from_int_core(RVF_F32, v < 0, abs64(v), rm, flags);
}
uint32_t rvf32_from_u64(uint64_t v, uint32_t rm, uint32_t *flags) {
    return (uint32_t)from_int_core(RVF_F32, 0, v, rm, flags);
}
uint64_t rvf64_from_i32(int32_t v, uint32_t rm, uint32_t *flags) {
    return from_int_core(RVF_F64, v < 0, abs64(v), rm, flags);
}
uint64_t rvf64_from_u32(uint32_t v, uint32_t rm, uint32_t *flags) {
    return from_int_core(RVF_F64, 0, v, rm, flags);
}
uint64_t rvf64_from_i64(int64_t v, uint32_t rm, uint32_t *flags) {
    return from_int_core(RVF_F64, v < 0, abs64(v), rm, flags);
}
uint64_t rvf64_from_u64(uint64_t v, uint32_t rm, uint32_t *flags) {
    return from_int_core(RVF_F64, 0, v, rm, flags);
}

/* ---- binary32 <-> binary64 ------------------------------------------------------------------ */

uint64_t rvf32_to_f64(uint32_t a, uint32_t *flags) {
    rvf_unpacked x = rvf_unpack32(a);
    switch (x.cls) {
    case RVF_CLS_SNAN: *flags |= RVF_FLAG_NV; /* fall through */
    case RVF_CLS_QNAN: return RVF64_CANONICAL_NAN;
    case RVF_CLS_INF: return rvf_inf(RVF_F64, x.sign);
    case RVF_CLS_ZERO: return rvf_zero(RVF_F64, x.sign);
    default:
        /* Every binary32 value (subnormals included) is a normal binary64 value. */
        return ((uint64_t)x.sign << 63) | ((uint64_t)(x.exp + 1023) << 52) |
               (x.sig & 0x000fffffffffffffull);
    }
}

uint32_t rvf64_to_f32(uint64_t a, uint32_t rm, uint32_t *flags) {
    rvf_unpacked x = rvf_unpack64(a);
    switch (x.cls) {
    case RVF_CLS_SNAN: *flags |= RVF_FLAG_NV; /* fall through */
    case RVF_CLS_QNAN: return RVF32_CANONICAL_NAN;
    case RVF_CLS_INF: return (uint32_t)rvf_inf(RVF_F32, x.sign);
    case RVF_CLS_ZERO: return (uint32_t)rvf_zero(RVF_F32, x.sign);
    default:
        return (uint32_t)rvf_round_pack32(x.sign, x.exp, x.sig << 10, rm, flags);
    }
}
