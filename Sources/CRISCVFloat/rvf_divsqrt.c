/*
 * Division and square root.
 */
#include "rvf_internal.h"

RVF_CORE uint64_t div_core(const int fmt, uint64_t a, uint64_t b, uint32_t rm,
                           uint32_t *flags) {
    rvf_unpacked x = rvf_unpack(fmt, a);
    rvf_unpacked y = rvf_unpack(fmt, b);
    uint32_t sign = x.sign ^ y.sign;

    if (RVF_IS_NAN_CLS(x.cls) || RVF_IS_NAN_CLS(y.cls)) {
        if (x.cls == RVF_CLS_SNAN || y.cls == RVF_CLS_SNAN) *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (x.cls == RVF_CLS_INF) {
        if (y.cls == RVF_CLS_INF) {
            *flags |= RVF_FLAG_NV;
            return rvf_canonical_nan(fmt);
        }
        return rvf_inf(fmt, sign);
    }
    if (y.cls == RVF_CLS_INF) return rvf_zero(fmt, sign);
    if (y.cls == RVF_CLS_ZERO) {
        if (x.cls == RVF_CLS_ZERO) {
            *flags |= RVF_FLAG_NV;
            return rvf_canonical_nan(fmt);
        }
        *flags |= RVF_FLAG_DZ;
        return rvf_inf(fmt, sign);
    }
    if (x.cls == RVF_CLS_ZERO) return rvf_zero(fmt, sign);

    /* Quotient of the significands with a non-zero remainder jammed into bit 0. The quotient has
     * at least 40 (binary32) or 63 (binary64) significant bits: more than precision + 2. */
    uint64_t q;
    int32_t scale;
    if (fmt == RVF_F32) {
        uint64_t n = (x.sig >> 29) << 40; /* 24-bit significand: n < 2^64 */
        uint64_t d = y.sig >> 29;
        q = n / d; /* 2^39 < q < 2^41 */
        q |= (uint64_t)(n % d != 0);
        scale = x.exp - y.exp - 40;
    } else {
        rvf_u128 n = (rvf_u128)x.sig << 63;
        q = (uint64_t)(n / y.sig); /* 2^62 < q < 2^64 */
        q |= (uint64_t)(n - (rvf_u128)q * y.sig != 0);
        scale = x.exp - y.exp - 63;
    }
    return rvf_norm_round_pack64(fmt, sign, scale, q, rm, flags);
}

/*
 * Square root: an integer Newton iteration gives a close estimate of floor(sqrt(n)), and an exact
 * integer correction step makes it exact; the estimate's accuracy only affects speed, never the
 * result.
 *
 * rsqrt_table[i] ~ 2^15 / sqrt((i + 64.5) / 256): an 8-bit-accurate seed for 1/sqrt(a), indexed
 * by the top 8 bits of a in [1/4, 1). (Integer constants: round(sqrt(2^39 / (2(i + 64) + 1))).)
 */
static const uint16_t rsqrt_table[192] = {
    65281, 64781, 64292, 63814, 63347, 62889, 62442, 62004, 61575, 61154, 60742, 60339,
    59943, 59555, 59175, 58801, 58435, 58075, 57722, 57376, 57035, 56700, 56372, 56049,
    55731, 55419, 55112, 54810, 54513, 54221, 53933, 53650, 53371, 53097, 52826, 52560,
    52298, 52040, 51785, 51535, 51288, 51044, 50804, 50567, 50333, 50103, 49876, 49652,
    49430, 49212, 48997, 48784, 48574, 48367, 48163, 47961, 47761, 47564, 47370, 47178,
    46988, 46800, 46615, 46432, 46251, 46072, 45895, 45720, 45547, 45376, 45207, 45040,
    44875, 44711, 44550, 44390, 44232, 44075, 43920, 43767, 43615, 43465, 43316, 43169,
    43024, 42879, 42737, 42595, 42456, 42317, 42180, 42044, 41910, 41776, 41644, 41514,
    41384, 41256, 41129, 41003, 40878, 40754, 40631, 40510, 40390, 40270, 40152, 40035,
    39919, 39803, 39689, 39576, 39464, 39352, 39242, 39133, 39024, 38916, 38810, 38704,
    38599, 38494, 38391, 38289, 38187, 38086, 37986, 37887, 37788, 37690, 37593, 37497,
    37401, 37307, 37213, 37119, 37027, 36935, 36843, 36753, 36663, 36573, 36485, 36397,
    36309, 36222, 36136, 36051, 35966, 35882, 35798, 35715, 35632, 35550, 35469, 35388,
    35307, 35228, 35148, 35070, 34991, 34914, 34837, 34760, 34684, 34608, 34533, 34458,
    34384, 34310, 34237, 34164, 34092, 34020, 33949, 33878, 33807, 33737, 33668, 33599,
    33530, 33461, 33393, 33326, 33259, 33192, 33126, 33060, 32994, 32929, 32864, 32800,
};

/* Q62 approximation of 1/sqrt(a), a = A / 2^64 in [1/4, 1), by Newton steps
 * y' = y (3 - a y^2) / 2 in fixed point. After the first step every iterate is <= 1/sqrt(a) <= 2
 * (the step's maximum is the fixed point itself and truncation only lowers it), so all
 * intermediate values fit: y <= 2^63 (Q62), y^2 <= 2^63 (Q61), 3 - a y^2 < 3 * 2^61 (Q61). */
static inline uint64_t rsqrt_q62(uint64_t A, int steps) {
    uint64_t y = (uint64_t)rsqrt_table[(A >> 56) - 64] << 47;
    for (int i = 0; i < steps; i++) {
        uint64_t y2 = (uint64_t)(((rvf_u128)y * y) >> 63);                /* y^2, Q61 */
        uint64_t t = (uint64_t)(((rvf_u128)A * y2) >> 64);                /* a y^2, Q61 */
        y = (uint64_t)(((rvf_u128)y * ((3ull << 61) - t)) >> 62);         /* Q62 */
    }
    return y;
}

/* Turns an estimate r of floor(sqrt(n)) into the exact value; *inexact = (n is not a square).
 * Needs floor(sqrt(n)) + 1 < 2^64. The estimates used below are off by at most a few units
 * (sampling shows <= 4 for binary64 after 4 Newton steps, <= 1 for binary32 after 3), so the
 * loops run only a few times; a worse estimate would only be slower, never wrong. */
static inline uint64_t isqrt_fix(rvf_u128 n, uint64_t r, int *inexact) {
    rvf_u128 sq = (rvf_u128)r * r;
    while (sq > n) { /* too large: step down, (r-1)^2 = r^2 - (2r - 1) */
        sq -= ((rvf_u128)r << 1) - 1;
        r -= 1;
    }
    for (;;) { /* too small? (r+1)^2 = r^2 + 2r + 1 */
        rvf_u128 next = sq + ((rvf_u128)r << 1) + 1;
        if (next > n) break;
        sq = next;
        r += 1;
    }
    *inexact = sq != n;
    return r;
}

RVF_CORE uint64_t sqrt_core(const int fmt, uint64_t a, uint32_t rm, uint32_t *flags) {
    rvf_unpacked x = rvf_unpack(fmt, a);

    if (RVF_IS_NAN_CLS(x.cls)) {
        if (x.cls == RVF_CLS_SNAN) *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (x.cls == RVF_CLS_ZERO) return a; /* sqrt(+-0) = +-0 */
    if (x.sign) {
        *flags |= RVF_FLAG_NV;
        return rvf_canonical_nan(fmt);
    }
    if (x.cls == RVF_CLS_INF) return a;

    /* Make the exponent even: value = sig * 2^(e - 52), 2^52 <= sig < 2^54, e even. */
    uint64_t sig = x.sig;
    int32_t e = x.exp;
    if (e & 1) {
        sig <<= 1;
        e -= 1;
    }
    /* A = sig * 2^10 in [2^62, 2^64), i.e. a = A / 2^64 in [1/4, 1). */
    uint64_t A = sig << 10;
    int inexact;
    uint64_t r;
    if (fmt == RVF_F32) {
        /* n = A = sig32 * 2^39; sqrt(value) = sqrt(n) * 2^(e/2 - 31), 2^31 <= sqrt(n) < 2^32.
         * sqrt(n) = sqrt(a) * 2^32 = A * rsqrt(a) / 2^32. */
        uint64_t y = rsqrt_q62(A, 3);
        r = isqrt_fix(A, (uint64_t)(((rvf_u128)A * y) >> 94), &inexact);
        return rvf_norm_round_pack64(fmt, 0, e / 2 - 31, r | (uint64_t)inexact, rm, flags);
    }
    /* n = sig * 2^72 = A * 2^62 < 2^126; sqrt(value) = sqrt(n) * 2^(e/2 - 62) with
     * 2^62 <= sqrt(n) < 2^63, and sqrt(n) = sqrt(a) * 2^63 = A * rsqrt(a) / 2^63. */
    uint64_t y = rsqrt_q62(A, 4);
    r = isqrt_fix((rvf_u128)A << 62, (uint64_t)(((rvf_u128)A * y) >> 63), &inexact);
    return rvf_round_pack(fmt, 0, e / 2, r | (uint64_t)inexact, rm, flags);
}

/* ---- public wrappers ------------------------------------------------------------------------ */

uint32_t rvf32_div(uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) {
    return (uint32_t)div_core(RVF_F32, a, b, rm, flags);
}
uint32_t rvf32_sqrt(uint32_t a, uint32_t rm, uint32_t *flags) {
    return (uint32_t)sqrt_core(RVF_F32, a, rm, flags);
}
uint64_t rvf64_div(uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) {
    return div_core(RVF_F64, a, b, rm, flags);
}
uint64_t rvf64_sqrt(uint64_t a, uint32_t rm, uint32_t *flags) {
    return sqrt_core(RVF_F64, a, rm, flags);
}
