/*
 * Comparisons (FEQ, FLT, FLE), FMIN/FMAX (RISC-V >= 2.2 semantics) and FCLASS.
 *
 * All of these work directly on the bit patterns: for non-NaN values, ordering sign-magnitude
 * patterns is an integer comparison once the sign is taken into account.
 */
#include "rvf_internal.h"

static inline uint64_t mag_mask(int fmt) {
    return fmt == RVF_F32 ? 0x7fffffffull : 0x7fffffffffffffffull;
}
static inline uint64_t inf_bits(int fmt) {
    return fmt == RVF_F32 ? 0x7f800000ull : 0x7ff0000000000000ull;
}
static inline uint64_t quiet_bit(int fmt) {
    return fmt == RVF_F32 ? 0x00400000ull : 0x0008000000000000ull;
}
static inline int is_nan(int fmt, uint64_t a) { return (a & mag_mask(fmt)) > inf_bits(fmt); }
static inline int is_snan(int fmt, uint64_t a) {
    return is_nan(fmt, a) && !(a & quiet_bit(fmt));
}

/* Strict order on non-NaN bit patterns in which -0 < +0. */
static inline int lt_total(int fmt, uint64_t a, uint64_t b) {
    uint32_t sa = (uint32_t)(a >> rvf_sign_pos(fmt)) & 1;
    uint32_t sb = (uint32_t)(b >> rvf_sign_pos(fmt)) & 1;
    if (sa != sb) return (int)sa;
    return sa ? a > b : a < b;
}
/* IEEE a < b on non-NaN bit patterns (-0 == +0). */
static inline int lt_ieee(int fmt, uint64_t a, uint64_t b) {
    if (((a | b) & mag_mask(fmt)) == 0) return 0;
    return lt_total(fmt, a, b);
}
static inline int eq_ieee(int fmt, uint64_t a, uint64_t b) {
    return a == b || ((a | b) & mag_mask(fmt)) == 0;
}

RVF_CORE uint64_t minmax_core(const int fmt, uint64_t a, uint64_t b, int want_max,
                              uint32_t *flags) {
    int na = is_nan(fmt, a), nb = is_nan(fmt, b);
    if (na || nb) {
        if (is_snan(fmt, a) || is_snan(fmt, b)) *flags |= RVF_FLAG_NV;
        if (na && nb) return rvf_canonical_nan(fmt);
        return na ? b : a;
    }
    int a_lt_b = lt_total(fmt, a, b);
    return (a_lt_b != want_max) ? a : b;
}

RVF_CORE int cmp_core(const int fmt, uint64_t a, uint64_t b, int kind, uint32_t *flags) {
    /* kind 0: eq (quiet), 1: lt, 2: le (signaling) */
    if (is_nan(fmt, a) || is_nan(fmt, b)) {
        if (kind != 0 || is_snan(fmt, a) || is_snan(fmt, b)) *flags |= RVF_FLAG_NV;
        return 0;
    }
    switch (kind) {
    case 0: return eq_ieee(fmt, a, b);
    case 1: return lt_ieee(fmt, a, b);
    default: return lt_ieee(fmt, a, b) || eq_ieee(fmt, a, b);
    }
}

RVF_CORE uint32_t classify_core(const int fmt, uint64_t a) {
    const int frac_bits = rvf_frac_bits(fmt);
    uint64_t mag = a & mag_mask(fmt);
    uint32_t neg = (uint32_t)(a >> rvf_sign_pos(fmt)) & 1;
    uint64_t inf = inf_bits(fmt);
    if (mag > inf) return (a & quiet_bit(fmt)) ? 1u << 9 : 1u << 8;
    if (mag == inf) return neg ? 1u << 0 : 1u << 7;
    if (mag == 0) return neg ? 1u << 3 : 1u << 4;
    if ((mag >> frac_bits) == 0) return neg ? 1u << 2 : 1u << 5; /* subnormal */
    return neg ? 1u << 1 : 1u << 6;
}

/* ---- public wrappers ------------------------------------------------------------------------ */

uint32_t rvf32_min(uint32_t a, uint32_t b, uint32_t *flags) {
    return (uint32_t)minmax_core(RVF_F32, a, b, 0, flags);
}
uint32_t rvf32_max(uint32_t a, uint32_t b, uint32_t *flags) {
    return (uint32_t)minmax_core(RVF_F32, a, b, 1, flags);
}
int rvf32_eq(uint32_t a, uint32_t b, uint32_t *flags) { return cmp_core(RVF_F32, a, b, 0, flags); }
int rvf32_lt(uint32_t a, uint32_t b, uint32_t *flags) { return cmp_core(RVF_F32, a, b, 1, flags); }
int rvf32_le(uint32_t a, uint32_t b, uint32_t *flags) { return cmp_core(RVF_F32, a, b, 2, flags); }
uint32_t rvf32_classify(uint32_t a) { return classify_core(RVF_F32, a); }

uint64_t rvf64_min(uint64_t a, uint64_t b, uint32_t *flags) {
    return minmax_core(RVF_F64, a, b, 0, flags);
}
uint64_t rvf64_max(uint64_t a, uint64_t b, uint32_t *flags) {
    return minmax_core(RVF_F64, a, b, 1, flags);
}
int rvf64_eq(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_core(RVF_F64, a, b, 0, flags); }
int rvf64_lt(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_core(RVF_F64, a, b, 1, flags); }
int rvf64_le(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_core(RVF_F64, a, b, 2, flags); }
uint32_t rvf64_classify(uint64_t a) { return classify_core(RVF_F64, a); }
