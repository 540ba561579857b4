/*
 * Rounding and packing: the single place where results are rounded to binary32/binary64 and where
 * NX, UF and OF are raised.
 */
#include "rvf_internal.h"

/*
 * Generic round-and-pack. Input: value = (-1)^sign * sig * 2^(exp - 62) with 2^62 <= sig < 2^63
 * (bit 0 may be a sticky bit). FRAC is the number of stored fraction bits, BIAS the exponent bias,
 * EMAX the all-ones exponent field.
 *
 * Tininess is detected after rounding, as RISC-V (and x86 SSE) specify: the value is tiny when
 * rounding it to the format's precision with an unbounded exponent range gives a magnitude below
 * the smallest normal number. UF is raised only when the value is tiny and the delivered
 * (denormalised) result is inexact.
 */
static inline uint64_t round_pack_generic(uint32_t sign, int32_t exp, uint64_t sig, uint32_t rm,
                                          uint32_t *flags, const int FRAC, const int BIAS,
                                          const uint32_t EMAX, const int SIGNPOS) {
    const int shift = 62 - FRAC; /* discarded bits of a normal result */
    const uint64_t mask = ((uint64_t)1 << shift) - 1;
    const uint64_t half = (uint64_t)1 << (shift - 1);
    const uint64_t sign_bit = (uint64_t)sign << SIGNPOS;

    /* Increment added to the discarded bits before truncation. */
    uint64_t inc;
    switch (rm) {
    case RVF_RM_RTZ: inc = 0; break;
    case RVF_RM_RDN: inc = sign ? mask : 0; break;
    case RVF_RM_RUP: inc = sign ? 0 : mask; break;
    default: inc = half; break; /* RNE (ties fixed below), RMM */
    }

    int32_t e = exp + BIAS; /* biased exponent if the result is normal */
    if (e >= (int32_t)EMAX) goto overflow;
    if (e >= 1) {
        uint64_t dropped = sig & mask;
        uint64_t m = (sig + inc) >> shift; /* 2^FRAC <= m <= 2^(FRAC+1) */
        if (rm == RVF_RM_RNE && dropped == half) m &= ~(uint64_t)1;
        /* Adding m (which includes the hidden bit) to (e - 1) << FRAC yields the right exponent
         * field, including the carry when rounding reaches the next power of two. */
        uint64_t bits = ((uint64_t)(uint32_t)(e - 1) << FRAC) + m;
        if (bits >= ((uint64_t)EMAX << FRAC)) goto overflow;
        if (dropped) *flags |= RVF_FLAG_NX;
        return sign_bit | bits;
    }

    /* Below the normal range before rounding. It is tiny unless rounding at full precision (with
     * an unbounded exponent) carries up to 2^emin, which is only possible when e == 0. */
    int tiny = e < 0 || sig + inc < ((uint64_t)1 << 63);
    sig = rvf_shr_jam64(sig, (uint32_t)(1 - e));
    uint64_t dropped = sig & mask;
    uint64_t m = (sig + inc) >> shift; /* a carry into bit FRAC gives the smallest normal */
    if (rm == RVF_RM_RNE && dropped == half) m &= ~(uint64_t)1;
    if (dropped) {
        *flags |= RVF_FLAG_NX;
        if (tiny) *flags |= RVF_FLAG_UF;
    }
    return sign_bit | m;

overflow:
    /* Overflow: infinity, or the largest finite number when rounding towards zero. */
    *flags |= RVF_FLAG_OF | RVF_FLAG_NX;
    if (rm == RVF_RM_RTZ || (rm == RVF_RM_RDN && !sign) || (rm == RVF_RM_RUP && sign))
        return sign_bit | (((uint64_t)EMAX << FRAC) - 1);
    return sign_bit | ((uint64_t)EMAX << FRAC);
}

uint64_t rvf_round_pack32(uint32_t sign, int32_t exp, uint64_t sig, uint32_t rm, uint32_t *flags) {
    return round_pack_generic(sign, exp, sig, rm, flags, 23, 127, 0xff, 31);
}

uint64_t rvf_round_pack64(uint32_t sign, int32_t exp, uint64_t sig, uint32_t rm, uint32_t *flags) {
    return round_pack_generic(sign, exp, sig, rm, flags, 52, 1023, 0x7ff, 63);
}
