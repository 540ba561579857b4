/*
 * Host-FPU reference (x86-64 SSE2 + FMA3) for the CRISCVFloat tests.
 *
 * Every operation: set the rounding mode with fesetround, clear the flags with feclearexcept,
 * execute exactly one SSE instruction (through intrinsics, on volatile operands), read the flags
 * with fetestexcept, restore round-to-nearest. x86 SSE detects tininess after rounding and, with
 * the underflow exception masked, raises UE only for tiny *and* inexact results, which is exactly
 * the RISC-V rule. DAZ/FTZ are off in a normal Linux process (the tests check subnormal results).
 *
 * To make sure the compiler neither folds nor reorders the FP operations around the fenv calls
 * (SwiftPM compiles debug C code at -O0, but the file must also be right under -O2), the file uses
 * `#pragma STDC FENV_ACCESS ON`, volatile operands, and `optnone` + `noinline` on every function
 * that touches the FPU. The tests additionally check the host's behaviour on known cases
 * (directed rounding of 1/3, the after-rounding tininess case, flags).
 */
#include "CRISCVFloatHostReference.h"

#if defined(__x86_64__) && defined(__SSE2__)

#pragma STDC FENV_ACCESS ON

#include <fenv.h>
#include <immintrin.h>
#include <string.h>

#define HR_FN __attribute__((optnone, noinline))

enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };

static double d_of(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static uint64_t u_of_d(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static float f_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t u_of_f(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static int is_nan64(uint64_t u) { return (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }
static int is_nan32(uint32_t u) { return (u & 0x7fffffffu) > 0x7f800000u; }
static int is_qnan64(uint64_t u) { return is_nan64(u) && (u & 0x0008000000000000ull); }
static int is_qnan32(uint32_t u) { return is_nan32(u) && (u & 0x00400000u); }
static int is_inf64(uint64_t u) { return (u & 0x7fffffffffffffffull) == 0x7ff0000000000000ull; }
static int is_inf32(uint32_t u) { return (u & 0x7fffffffu) == 0x7f800000u; }
static int is_zero64(uint64_t u) { return (u & 0x7fffffffffffffffull) == 0; }
static int is_zero32(uint32_t u) { return (u & 0x7fffffffu) == 0; }

static const int fe_modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

HR_FN static void begin(uint32_t rm) {
    fesetround(fe_modes[rm & 3]);
    feclearexcept(FE_ALL_EXCEPT);
}

/* Reads the host flags (RISC-V encoding), clears them and restores round-to-nearest. */
HR_FN static uint32_t end(void) {
    int e = fetestexcept(FE_ALL_EXCEPT);
    uint32_t r = 0;
    if (e & FE_INEXACT) r |= NX;
    if (e & FE_UNDERFLOW) r |= UF;
    if (e & FE_OVERFLOW) r |= OF;
    if (e & FE_DIVBYZERO) r |= DZ;
    if (e & FE_INVALID) r |= NV;
    feclearexcept(FE_ALL_EXCEPT);
    fesetround(FE_TONEAREST);
    return r;
}

int hostref_available(void) { return 1; }

int hostref_has_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma");
}

uint32_t hostref_current_rm(void) {
    switch (fegetround()) {
    case FE_TOWARDZERO: return 1;
    case FE_DOWNWARD: return 2;
    case FE_UPWARD: return 3;
    default: return 0;
    }
}

/* ---- arithmetic ----------------------------------------------------------------------------- */

HR_FN static double sse_op64(uint32_t op, double a, double b) {
    volatile __m128d x = _mm_set_sd(a), y = _mm_set_sd(b);
    volatile __m128d r;
    switch (op) {
    case 0: r = _mm_add_sd(x, y); break;
    case 1: r = _mm_sub_sd(x, y); break;
    case 2: r = _mm_mul_sd(x, y); break;
    case 3: r = _mm_div_sd(x, y); break;
    default: r = _mm_sqrt_sd(x, x); break;
    }
    return _mm_cvtsd_f64(r);
}

HR_FN static float sse_op32(uint32_t op, float a, float b) {
    volatile __m128 x = _mm_set_ss(a), y = _mm_set_ss(b);
    volatile __m128 r;
    switch (op) {
    case 0: r = _mm_add_ss(x, y); break;
    case 1: r = _mm_sub_ss(x, y); break;
    case 2: r = _mm_mul_ss(x, y); break;
    case 3: r = _mm_div_ss(x, y); break;
    default: r = _mm_sqrt_ss(x); break;
    }
    return _mm_cvtss_f32(r);
}

HR_FN uint64_t hostref_f64_arith(uint32_t op, uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) {
    begin(rm);
    uint64_t r = u_of_d(sse_op64(op, d_of(a), d_of(b)));
    *flags |= end();
    return is_nan64(r) ? 0x7ff8000000000000ull : r;
}

HR_FN uint32_t hostref_f32_arith(uint32_t op, uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) {
    begin(rm);
    uint32_t r = u_of_f(sse_op32(op, f_of(a), f_of(b)));
    *flags |= end();
    return is_nan32(r) ? 0x7fc00000u : r;
}

/* ---- fused multiply-add ----------------------------------------------------------------------- */

__attribute__((target("fma"))) HR_FN static double fma64(double a, double b, double c) {
    volatile __m128d x = _mm_set_sd(a), y = _mm_set_sd(b), z = _mm_set_sd(c);
    volatile __m128d r = _mm_fmadd_sd(x, y, z);
    return _mm_cvtsd_f64(r);
}

__attribute__((target("fma"))) HR_FN static float fma32(float a, float b, float c) {
    volatile __m128 x = _mm_set_ss(a), y = _mm_set_ss(b), z = _mm_set_ss(c);
    volatile __m128 r = _mm_fmadd_ss(x, y, z);
    return _mm_cvtss_f32(r);
}

HR_FN uint32_t hostref_raw_fma_inf_zero_qnan_flags(void) {
    if (!hostref_has_fma()) return 0;
    begin(0);
    (void)fma64(d_of(0x7ff0000000000000ull), 0.0, d_of(0x7ff8000000000000ull));
    return end();
}

/* The negations are applied to the inputs, as the RISC-V ISA describes FNMSUB/FNMADD/FMSUB:
 * -(a*b) is computed as (-a)*b, which is exact. */
HR_FN uint64_t hostref_f64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t rm,
                                  uint32_t *flags) {
    if (!hostref_has_fma()) return 0;
    uint64_t na = a ^ ((uint64_t)((op >> 1) & 1) << 63);
    uint64_t nc = c ^ ((uint64_t)(op & 1) << 63);
    begin(rm);
    uint64_t r = u_of_d(fma64(d_of(na), d_of(b), d_of(nc)));
    uint32_t f = end();
    /* RISC-V: inf*0 is invalid even when the addend is a quiet NaN (x86 raises nothing then). */
    if (((is_inf64(a) && is_zero64(b)) || (is_zero64(a) && is_inf64(b))) && is_qnan64(c)) f |= NV;
    *flags |= f;
    return is_nan64(r) ? 0x7ff8000000000000ull : r;
}

HR_FN uint32_t hostref_f32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t rm,
                                  uint32_t *flags) {
    if (!hostref_has_fma()) return 0;
    uint32_t na = a ^ (((op >> 1) & 1) << 31);
    uint32_t nc = c ^ ((op & 1) << 31);
    begin(rm);
    uint32_t r = u_of_f(fma32(f_of(na), f_of(b), f_of(nc)));
    uint32_t f = end();
    if (((is_inf32(a) && is_zero32(b)) || (is_zero32(a) && is_inf32(b))) && is_qnan32(c)) f |= NV;
    *flags |= f;
    return is_nan32(r) ? 0x7fc00000u : r;
}

/* ---- float -> integer ----------------------------------------------------------------------- */

/* RISC-V saturation values (register values; 32-bit results sign-extended). */
static const uint64_t sat_pos[4] = {0x7fffffffull, 0xffffffffffffffffull, 0x7fffffffffffffffull,
                                    0xffffffffffffffffull};
static const uint64_t sat_neg[4] = {0xffffffff80000000ull, 0, 0x8000000000000000ull, 0};

HR_FN static int32_t cvt64_i32(double x) { volatile __m128d v = _mm_set_sd(x); return _mm_cvtsd_si32(v); }
HR_FN static int64_t cvt64_i64(double x) { volatile __m128d v = _mm_set_sd(x); return _mm_cvtsd_si64(v); }
HR_FN static int32_t cvt32_i32(float x) { volatile __m128 v = _mm_set_ss(x); return _mm_cvtss_si32(v); }
HR_FN static int64_t cvt32_i64(float x) { volatile __m128 v = _mm_set_ss(x); return _mm_cvtss_si64(v); }

/*
 * x86 defines the answer whenever the (rounded) value fits the signed destination; otherwise it
 * raises invalid and returns the "integer indefinite" (INT_MIN). In that case the RISC-V result is
 * derived from the operand: NaN -> largest positive, negative -> most negative, positive ->
 * largest positive, with NV only. Unsigned targets: SSE has no unsigned conversion, so uint32 uses
 * the int64 conversion plus a range check, and uint64 additionally shifts [2^63, 2^64) down by
 * 2^63 (an exact subtraction of an integer-valued operand, which raises nothing) first.
 */
HR_FN static uint64_t to_int_common(double x, int is_f32, float xf, uint32_t kind, uint32_t rm,
                                    uint32_t *flags) {
    uint64_t sat = (x != x || !(x < 0)) ? sat_pos[kind] : sat_neg[kind];
    uint64_t r;
    uint32_t f;
    switch (kind) {
    case 0: {
        begin(rm);
        int32_t v = is_f32 ? cvt32_i32(xf) : cvt64_i32(x);
        f = end();
        r = (uint64_t)(int64_t)v;
        break;
    }
    case 2: {
        begin(rm);
        int64_t v = is_f32 ? cvt32_i64(xf) : cvt64_i64(x);
        f = end();
        r = (uint64_t)v;
        break;
    }
    case 1: {
        begin(rm);
        int64_t v = is_f32 ? cvt32_i64(xf) : cvt64_i64(x);
        f = end();
        if (!(f & NV) && (v < 0 || v > 0xffffffffll)) f = NV;
        r = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
        break;
    }
    default: {
        if (x != x || x >= 18446744073709551616.0) {
            f = NV;
            r = 0;
            break;
        }
        if (x >= 9223372036854775808.0) {
            begin(rm);
            volatile double shifted = x - 9223372036854775808.0;
            int64_t v = cvt64_i64(shifted);
            f = end();
            r = (uint64_t)v + 0x8000000000000000ull;
            break;
        }
        begin(rm);
        int64_t v = is_f32 ? cvt32_i64(xf) : cvt64_i64(x);
        f = end();
        if (!(f & NV) && v < 0) f = NV;
        r = (uint64_t)v;
        break;
    }
    }
    if (f & NV) {
        *flags |= NV;
        return sat;
    }
    *flags |= f;
    return r;
}

HR_FN uint64_t hostref_f64_to_int(uint64_t a, uint32_t kind, uint32_t rm, uint32_t *flags) {
    return to_int_common(d_of(a), 0, 0.0f, kind & 3, rm, flags);
}

HR_FN uint64_t hostref_f32_to_int(uint32_t a, uint32_t kind, uint32_t rm, uint32_t *flags) {
    /* The float -> double widening is exact; a signaling NaN is invalid in both steps. */
    float xf = f_of(a);
    uint32_t dummy = 0;
    double x = d_of(hostref_f32_to_f64(a, &dummy));
    if (is_nan32(a)) x = d_of(0x7ff8000000000000ull);
    return to_int_common(x, 1, xf, kind & 3, rm, flags);
}

/* ---- integer -> float ----------------------------------------------------------------------- */

HR_FN static double cvt_i64_f64(int64_t v) { volatile __m128d z = _mm_setzero_pd(); return _mm_cvtsd_f64(_mm_cvtsi64_sd(z, v)); }
HR_FN static float cvt_i64_f32(int64_t v) { volatile __m128 z = _mm_setzero_ps(); return _mm_cvtss_f32(_mm_cvtsi64_ss(z, v)); }
HR_FN static float cvt_i32_f32(int32_t v) { volatile __m128 z = _mm_setzero_ps(); return _mm_cvtss_f32(_mm_cvtsi32_ss(z, v)); }
HR_FN static double cvt_i32_f64(int32_t v) { volatile __m128d z = _mm_setzero_pd(); return _mm_cvtsd_f64(_mm_cvtsi32_sd(z, v)); }

/*
 * SSE has no unsigned 64-bit source conversion. For v >= 2^63 we convert (v >> 1) | (v & 1) and
 * double the result: the discarded bit is ORed into a bit that lies at least 9 places below the
 * rounding position, so the single rounding (and its inexact flag) is unchanged for every mode,
 * and the doubling is exact.
 */
HR_FN uint64_t hostref_f64_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags) {
    double r;
    begin(rm);
    switch (kind & 3) {
    case 0: r = cvt_i32_f64((int32_t)(uint32_t)v); break;
    case 1: r = cvt_i64_f64((int64_t)(uint32_t)v); break;
    case 2: r = cvt_i64_f64((int64_t)v); break;
    default:
        if ((int64_t)v >= 0) {
            r = cvt_i64_f64((int64_t)v);
        } else {
            volatile double h = cvt_i64_f64((int64_t)((v >> 1) | (v & 1)));
            r = h + h;
        }
        break;
    }
    *flags |= end();
    return u_of_d(r);
}

HR_FN uint32_t hostref_f32_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags) {
    float r;
    begin(rm);
    switch (kind & 3) {
    case 0: r = cvt_i32_f32((int32_t)(uint32_t)v); break;
    case 1: r = cvt_i64_f32((int64_t)(uint32_t)v); break;
    case 2: r = cvt_i64_f32((int64_t)v); break;
    default:
        if ((int64_t)v >= 0) {
            r = cvt_i64_f32((int64_t)v);
        } else {
            volatile float h = cvt_i64_f32((int64_t)((v >> 1) | (v & 1)));
            r = h + h;
        }
        break;
    }
    *flags |= end();
    return u_of_f(r);
}

/* ---- binary32 <-> binary64 ------------------------------------------------------------------ */

HR_FN static float cvt_f64_f32(double x) { volatile __m128d v = _mm_set_sd(x); volatile __m128 z = _mm_setzero_ps(); return _mm_cvtss_f32(_mm_cvtsd_ss(z, v)); }
HR_FN static double cvt_f32_f64(float x) { volatile __m128 v = _mm_set_ss(x); volatile __m128d z = _mm_setzero_pd(); return _mm_cvtsd_f64(_mm_cvtss_sd(z, v)); }

HR_FN uint32_t hostref_f64_to_f32(uint64_t a, uint32_t rm, uint32_t *flags) {
    begin(rm);
    uint32_t r = u_of_f(cvt_f64_f32(d_of(a)));
    *flags |= end();
    return is_nan32(r) ? 0x7fc00000u : r;
}

HR_FN uint64_t hostref_f32_to_f64(uint32_t a, uint32_t *flags) {
    begin(0);
    uint64_t r = u_of_d(cvt_f32_f64(f_of(a)));
    *flags |= end();
    return is_nan64(r) ? 0x7ff8000000000000ull : r;
}

#else /* not x86-64: no host reference */

int hostref_available(void) { return 0; }
int hostref_has_fma(void) { return 0; }
uint32_t hostref_raw_fma_inf_zero_qnan_flags(void) { return 0; }
uint32_t hostref_current_rm(void) { return 0; }
uint64_t hostref_f64_arith(uint32_t op, uint64_t a, uint64_t b, uint32_t rm, uint32_t *flags) { (void)op; (void)a; (void)b; (void)rm; (void)flags; return 0; }
uint32_t hostref_f32_arith(uint32_t op, uint32_t a, uint32_t b, uint32_t rm, uint32_t *flags) { (void)op; (void)a; (void)b; (void)rm; (void)flags; return 0; }
uint64_t hostref_f64_muladd(uint64_t a, uint64_t b, uint64_t c, uint32_t op, uint32_t rm, uint32_t *flags) { (void)a; (void)b; (void)c; (void)op; (void)rm; (void)flags; return 0; }
uint32_t hostref_f32_muladd(uint32_t a, uint32_t b, uint32_t c, uint32_t op, uint32_t rm, uint32_t *flags) { (void)a; (void)b; (void)c; (void)op; (void)rm; (void)flags; return 0; }
uint64_t hostref_f64_to_int(uint64_t a, uint32_t kind, uint32_t rm, uint32_t *flags) { (void)a; (void)kind; (void)rm; (void)flags; return 0; }
uint64_t hostref_f32_to_int(uint32_t a, uint32_t kind, uint32_t rm, uint32_t *flags) { (void)a; (void)kind; (void)rm; (void)flags; return 0; }
uint64_t hostref_f64_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags) { (void)v; (void)kind; (void)rm; (void)flags; return 0; }
uint32_t hostref_f32_from_int(uint64_t v, uint32_t kind, uint32_t rm, uint32_t *flags) { (void)v; (void)kind; (void)rm; (void)flags; return 0; }
uint32_t hostref_f64_to_f32(uint64_t a, uint32_t rm, uint32_t *flags) { (void)a; (void)rm; (void)flags; return 0; }
uint64_t hostref_f32_to_f64(uint32_t a, uint32_t *flags) { (void)a; (void)flags; return 0; }

#endif
