import CRISCVFloat
import Testing

// Hand-picked known answers, taken from the RISC-V unprivileged ISA manual (F/D chapters: FCVT
// saturation table, FMIN/FMAX, NaN generation, FMA sign rules, FSQRT of -0) and from IEEE 754
// rules that the manual relies on (exact zero sums, overflow per rounding mode, tininess after
// rounding). These run on every host.

private let RNE: UInt32 = 0, RTZ: UInt32 = 1, RDN: UInt32 = 2, RUP: UInt32 = 3, RMM: UInt32 = 4
private let qNaN64: UInt64 = 0x7ff8_0000_0000_0000, sNaN64: UInt64 = 0x7ff0_0000_0000_0001
private let qNaN32: UInt32 = 0x7fc0_0000, sNaN32: UInt32 = 0x7f80_0001
private let inf64: UInt64 = 0x7ff0_0000_0000_0000, ninf64: UInt64 = 0xfff0_0000_0000_0000
private let inf32: UInt32 = 0x7f80_0000, ninf32: UInt32 = 0xff80_0000
private let max64: UInt64 = 0x7fef_ffff_ffff_ffff
private func d(_ x: Double) -> UInt64 { x.bitPattern }
private func s(_ x: Float) -> UInt32 { x.bitPattern }

/// Runs `body` with fresh flags and returns (result, flags).
private func run<T>(_ body: (inout UInt32) -> T) -> (T, UInt32) {
    var f: UInt32 = 0
    let r = body(&f)
    return (r, f)
}

@Suite("Known answers from the ISA manual")
struct KnownAnswerTests {
    @Test func fcvtWordSaturation() {
        // FCVT.W.S: NaN -> 2^31-1, +inf / too large -> 2^31-1, -inf / too small -> -2^31, NV only.
        #expect(run { rvf32_to_i32(qNaN32, RNE, &$0) } == (0x7fff_ffff, NV))
        #expect(run { rvf32_to_i32(sNaN32, RNE, &$0) } == (0x7fff_ffff, NV))
        #expect(run { rvf32_to_i32(0xffc0_0000, RNE, &$0) } == (0x7fff_ffff, NV))  // negative NaN
        #expect(run { rvf32_to_i32(ninf32, RNE, &$0) } == (-0x8000_0000, NV))
        #expect(run { rvf32_to_i32(inf32, RNE, &$0) } == (0x7fff_ffff, NV))
        #expect(run { rvf32_to_i32(s(2147483648), RNE, &$0) } == (0x7fff_ffff, NV))
        #expect(run { rvf32_to_i32(s(-2147483648), RNE, &$0) } == (-0x8000_0000, 0))
        #expect(run { rvf64_to_i32(d(2147483647.5), RNE, &$0) } == (0x7fff_ffff, NV))
        #expect(run { rvf64_to_i32(d(2147483647.5), RTZ, &$0) } == (0x7fff_ffff, NX))
        #expect(run { rvf64_to_i32(d(-2147483648.5), RNE, &$0) } == (-0x8000_0000, NX))
        #expect(run { rvf64_to_i32(d(-2147483648.5), RMM, &$0) } == (-0x8000_0000, NV))
        // Rounding of halves in every mode.
        #expect(run { rvf32_to_i32(s(2.5), RNE, &$0) } == (2, NX))
        #expect(run { rvf32_to_i32(s(2.5), RMM, &$0) } == (3, NX))
        #expect(run { rvf32_to_i32(s(-2.5), RMM, &$0) } == (-3, NX))
        #expect(run { rvf32_to_i32(s(-2.5), RDN, &$0) } == (-3, NX))
        #expect(run { rvf32_to_i32(s(-2.5), RUP, &$0) } == (-2, NX))
        #expect(run { rvf32_to_i32(s(-2.5), RTZ, &$0) } == (-2, NX))
        #expect(run { rvf32_to_i32(s(3.5), RNE, &$0) } == (4, NX))
    }

    @Test func fcvtUnsignedWordSaturationAndSignExtension() {
        // FCVT.WU: the 32-bit result is sign-extended into the 64-bit register.
        #expect(run { rvf32_to_u32(qNaN32, RNE, &$0) } == (0xffff_ffff_ffff_ffff, NV))
        #expect(run { rvf32_to_u32(inf32, RNE, &$0) } == (0xffff_ffff_ffff_ffff, NV))
        #expect(run { rvf32_to_u32(ninf32, RNE, &$0) } == (0, NV))
        #expect(run { rvf32_to_u32(s(-1), RNE, &$0) } == (0, NV))
        #expect(run { rvf32_to_u32(s(3e9), RNE, &$0) } == (0xffff_ffff_b2d0_5e00, 0))
        #expect(run { rvf64_to_u32(d(4294967295), RNE, &$0) } == (0xffff_ffff_ffff_ffff, 0))
        #expect(run { rvf64_to_u32(d(4294967295.5), RNE, &$0) } == (0xffff_ffff_ffff_ffff, NV))
        #expect(run { rvf64_to_u32(d(4294967295.5), RTZ, &$0) } == (0xffff_ffff_ffff_ffff, NX))
        #expect(run { rvf64_to_u32(d(2147483648), RNE, &$0) } == (0xffff_ffff_8000_0000, 0))
        // Negative values that round to 0 are fine (NX), those rounding to <= -1 are invalid.
        #expect(run { rvf32_to_u32(s(-0.4), RNE, &$0) } == (0, NX))
        #expect(run { rvf32_to_u32(s(-0.5), RNE, &$0) } == (0, NX))
        #expect(run { rvf32_to_u32(s(-0.5), RMM, &$0) } == (0, NV))
        #expect(run { rvf32_to_u32(s(-0.9), RTZ, &$0) } == (0, NX))
        #expect(run { rvf32_to_u32(s(-0.9), RUP, &$0) } == (0, NX))
        #expect(run { rvf32_to_u32(s(-0.1), RDN, &$0) } == (0, NV))
        #expect(run { rvf64_to_u64(d(-0.4), RNE, &$0) } == (0, NX))
        #expect(run { rvf64_to_u64(d(-0.6), RNE, &$0) } == (0, NV))
        #expect(run { rvf64_to_u32(0x8000_0000_0000_0000, RNE, &$0) } == (0, 0))  // -0
    }

    @Test func fcvtLongSaturation() {
        #expect(run { rvf64_to_i64(qNaN64, RNE, &$0) } == (Int64.max, NV))
        #expect(run { rvf64_to_i64(ninf64, RNE, &$0) } == (Int64.min, NV))
        #expect(run { rvf64_to_i64(d(9223372036854775808.0), RNE, &$0) } == (Int64.max, NV))
        #expect(run { rvf64_to_i64(d(-9223372036854775808.0), RNE, &$0) } == (Int64.min, 0))
        #expect(run { rvf64_to_u64(qNaN64, RNE, &$0) } == (UInt64.max, NV))
        #expect(run { rvf64_to_u64(ninf64, RNE, &$0) } == (0, NV))
        #expect(run { rvf64_to_u64(d(18446744073709551616.0), RNE, &$0) } == (UInt64.max, NV))
        #expect(run { rvf64_to_u64(0x43ef_ffff_ffff_ffff, RNE, &$0) } == (0xffff_ffff_ffff_f800, 0))
        #expect(run { rvf32_to_u64(sNaN32, RTZ, &$0) } == (UInt64.max, NV))
        #expect(run { rvf32_to_i64(s(-0.5), RDN, &$0) } == (-1, NX))
        #expect(run { rvf64_to_i64(1, RUP, &$0) } == (1, NX))  // smallest subnormal
        #expect(run { rvf64_to_i64(0x8000_0000_0000_0001, RDN, &$0) } == (-1, NX))
        #expect(run { rvf64_to_i64(0x8000_0000_0000_0001, RNE, &$0) } == (0, NX))
    }

    @Test func minMax() {
        let nz32: UInt32 = 0x8000_0000, nz64: UInt64 = 0x8000_0000_0000_0000
        #expect(run { rvf32_min(nz32, 0, &$0) } == (nz32, 0))
        #expect(run { rvf32_min(0, nz32, &$0) } == (nz32, 0))
        #expect(run { rvf32_max(nz32, 0, &$0) } == (0, 0))
        #expect(run { rvf32_max(0, nz32, &$0) } == (0, 0))
        #expect(run { rvf64_min(nz64, 0, &$0) } == (nz64, 0))
        #expect(run { rvf64_max(0, nz64, &$0) } == (0, 0))
        // One NaN: the other operand; NV only for signaling NaNs.
        #expect(run { rvf32_min(qNaN32, s(1), &$0) } == (s(1), 0))
        #expect(run { rvf32_max(s(-1), 0xffc0_0001, &$0) } == (s(-1), 0))
        #expect(run { rvf32_min(sNaN32, s(1), &$0) } == (s(1), NV))
        #expect(run { rvf64_max(d(2), sNaN64, &$0) } == (d(2), NV))
        // Two NaNs: canonical NaN.
        #expect(run { rvf32_max(0x7fc0_1234, 0xffc0_0000, &$0) } == (RVF32_CANONICAL_NAN, 0))
        #expect(run { rvf64_min(0xfff8_0000_0000_0001, sNaN64, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_min(d(-3), d(2), &$0) } == (d(-3), 0))
        #expect(run { rvf64_max(ninf64, inf64, &$0) } == (inf64, 0))
    }

    @Test func comparisons() {
        #expect(run { rvf32_eq(0x8000_0000, 0, &$0) } == (1, 0))
        #expect(run { rvf32_lt(0x8000_0000, 0, &$0) } == (0, 0))
        #expect(run { rvf32_le(0x8000_0000, 0, &$0) } == (1, 0))
        #expect(run { rvf32_eq(qNaN32, qNaN32, &$0) } == (0, 0))  // FEQ is quiet
        #expect(run { rvf32_eq(sNaN32, s(1), &$0) } == (0, NV))
        #expect(run { rvf32_lt(qNaN32, s(1), &$0) } == (0, NV))  // FLT/FLE signal on any NaN
        #expect(run { rvf64_le(d(1), qNaN64, &$0) } == (0, NV))
        #expect(run { rvf64_lt(d(-2), d(-1), &$0) } == (1, 0))
        #expect(run { rvf64_le(ninf64, ninf64, &$0) } == (1, 0))
    }

    @Test func fmaZeroSignsComeFromNegatedInputs() {
        let one32 = s(1), z32: UInt32 = 0, nz32: UInt32 = 0x8000_0000
        // FNMADD computes -(a*b) - c. With a*b = +0 and c = -0: (-0) + (+0) = +0 (RNE), -0 (RDN).
        // Negating the rounded FMADD result instead would wrongly give -0 in RNE.
        #expect(run { rvf32_muladd(one32, z32, nz32, RVF_FNMADD, RNE, &$0) } == (z32, 0))
        #expect(run { rvf32_muladd(one32, z32, nz32, RVF_FNMADD, RDN, &$0) } == (nz32, 0))
        // FNMSUB: -(a*b) + c = (-0) + (+0) = +0.
        #expect(run { rvf32_muladd(one32, z32, z32, RVF_FNMSUB, RNE, &$0) } == (z32, 0))
        // Same-signed zeros keep their sign in every mode.
        #expect(run { rvf32_muladd(one32, z32, z32, RVF_FNMADD, RNE, &$0) } == (nz32, 0))
        #expect(run { rvf32_muladd(s(-1), z32, nz32, RVF_FMADD, RUP, &$0) } == (nz32, 0))
        #expect(run { rvf32_muladd(z32, one32, nz32, RVF_FNMSUB, RNE, &$0) } == (nz32, 0))
        // Exact cancellation of non-zero values: +0, or -0 in RDN.
        #expect(run { rvf32_muladd(one32, one32, s(-1), RVF_FNMADD, RNE, &$0) } == (z32, 0))
        #expect(run { rvf32_muladd(one32, one32, s(-1), RVF_FNMADD, RDN, &$0) } == (nz32, 0))
        #expect(run { rvf64_muladd(d(1), d(1), d(1), RVF_FMSUB, RNE, &$0) } == (0, 0))
        #expect(run { rvf64_muladd(d(1), d(1), d(1), RVF_FMSUB, RDN, &$0) } == (0x8000_0000_0000_0000, 0))
        #expect(run { rvf64_muladd(d(2), d(3), d(1), RVF_FNMSUB, RNE, &$0) } == (d(-5), 0))
        #expect(run { rvf64_muladd(d(2), d(3), d(1), RVF_FNMADD, RNE, &$0) } == (d(-7), 0))
        #expect(run { rvf64_muladd(d(2), d(3), d(1), RVF_FMSUB, RNE, &$0) } == (d(5), 0))
        // inf * 0 is invalid even when the addend is a quiet NaN.
        #expect(run { rvf64_muladd(inf64, 0, qNaN64, RVF_FMADD, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf32_muladd(z32, ninf32, qNaN32, RVF_FNMADD, RNE, &$0) } == (RVF32_CANONICAL_NAN, NV))
        #expect(run { rvf64_muladd(qNaN64, d(1), d(1), RVF_FMADD, RNE, &$0) } == (RVF64_CANONICAL_NAN, 0))
        #expect(run { rvf64_muladd(inf64, d(1), ninf64, RVF_FMADD, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_muladd(inf64, d(1), ninf64, RVF_FMSUB, RNE, &$0) } == (inf64, 0))
        // A single rounding: (1 + 2^-30)^2 - 1 = 2^-29 + 2^-60 exactly (an unfused multiply would
        // lose the 2^-60 term).
        #expect(run { rvf64_muladd(0x3ff0_0000_0040_0000, 0x3ff0_0000_0040_0000, d(-1), RVF_FMADD, RNE, &$0) }
                == (0x3e20_0000_0020_0000, 0))
    }

    @Test func exactZeroSums() {
        let nz: UInt64 = 0x8000_0000_0000_0000
        #expect(run { rvf64_add(d(1.5), d(-1.5), RNE, &$0) } == (0, 0))
        #expect(run { rvf64_add(d(1.5), d(-1.5), RDN, &$0) } == (nz, 0))
        #expect(run { rvf64_sub(d(1.5), d(1.5), RUP, &$0) } == (0, 0))
        #expect(run { rvf64_sub(d(1.5), d(1.5), RDN, &$0) } == (nz, 0))
        #expect(run { rvf64_add(0, nz, RNE, &$0) } == (0, 0))
        #expect(run { rvf64_add(0, nz, RDN, &$0) } == (nz, 0))
        #expect(run { rvf64_add(nz, nz, RUP, &$0) } == (nz, 0))
        #expect(run { rvf64_sub(0, 0, RDN, &$0) } == (nz, 0))
        #expect(run { rvf32_add(0x8000_0000, 0x8000_0000, RNE, &$0) } == (0x8000_0000, 0))
        #expect(run { rvf32_sub(0x8000_0000, 0, RMM, &$0) } == (0x8000_0000, 0))
    }

    @Test func divisionAndSquareRoot() {
        #expect(run { rvf64_div(d(1), 0, RNE, &$0) } == (inf64, DZ))
        #expect(run { rvf64_div(d(-1), 0, RNE, &$0) } == (ninf64, DZ))
        #expect(run { rvf32_div(s(1), 0x8000_0000, RNE, &$0) } == (ninf32, DZ))
        #expect(run { rvf64_div(0, 0, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_div(inf64, ninf64, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_div(inf64, 0, RNE, &$0) } == (inf64, 0))  // DZ only for finite dividends
        #expect(run { rvf64_div(d(1), d(3), RNE, &$0) } == (0x3fd5_5555_5555_5555, NX))
        #expect(run { rvf64_div(d(1), d(3), RUP, &$0) } == (0x3fd5_5555_5555_5556, NX))
        #expect(run { rvf64_sqrt(0x8000_0000_0000_0000, RNE, &$0) } == (0x8000_0000_0000_0000, 0))
        #expect(run { rvf32_sqrt(0x8000_0000, RNE, &$0) } == (0x8000_0000, 0))
        #expect(run { rvf64_sqrt(d(-1), RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_sqrt(ninf64, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_sqrt(0x8000_0000_0000_0001, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_sqrt(inf64, RNE, &$0) } == (inf64, 0))
        #expect(run { rvf64_sqrt(d(4), RNE, &$0) } == (d(2), 0))
        #expect(run { rvf64_sqrt(d(2), RNE, &$0) } == (0x3ff6_a09e_667f_3bcd, NX))
        #expect(run { rvf32_sqrt(s(2), RNE, &$0) } == (0x3fb5_04f3, NX))
        #expect(run { rvf64_sqrt(1, RNE, &$0) } == (0x1e60_0000_0000_0000, 0))  // sqrt(2^-1074) = 2^-537
    }

    @Test func nanHandling() {
        // Results are always the canonical NaN; payloads are not propagated.
        #expect(run { rvf64_add(0x7ff8_dead_beef_0000, d(1), RNE, &$0) } == (RVF64_CANONICAL_NAN, 0))
        #expect(run { rvf64_add(sNaN64, d(1), RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf32_mul(0xffc0_0001, s(1), RNE, &$0) } == (RVF32_CANONICAL_NAN, 0))
        #expect(run { rvf64_add(inf64, ninf64, RNE, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf32_mul(inf32, 0x8000_0000, RNE, &$0) } == (RVF32_CANONICAL_NAN, NV))
        #expect(run { rvf32_to_f64(0x7fc1_2345, &$0) } == (RVF64_CANONICAL_NAN, 0))
        #expect(run { rvf32_to_f64(sNaN32, &$0) } == (RVF64_CANONICAL_NAN, NV))
        #expect(run { rvf64_to_f32(0xfff8_0000_0000_1234, RNE, &$0) } == (RVF32_CANONICAL_NAN, 0))
        #expect(run { rvf64_to_f32(sNaN64, RNE, &$0) } == (RVF32_CANONICAL_NAN, NV))
    }

    @Test func overflowPerRoundingMode() {
        let nmax = max64 | 0x8000_0000_0000_0000
        let positive: [UInt64] = [inf64, max64, max64, inf64, inf64]  // RNE RTZ RDN RUP RMM
        let negative: [UInt64] = [ninf64, nmax, ninf64, nmax, ninf64]
        for rm in 0..<5 {
            #expect(run { rvf64_mul(max64, d(2), UInt32(rm), &$0) } == (positive[rm], OF | NX))
            #expect(run { rvf64_mul(max64, d(-2), UInt32(rm), &$0) } == (negative[rm], OF | NX))
        }
        #expect(run { rvf64_to_f32(d(3.5e38), RTZ, &$0) } == (0x7f7f_ffff, OF | NX))
        #expect(run { rvf32_add(0x7f7f_ffff, 0x7300_0000, RNE, &$0) } == (inf32, OF | NX))  // max + half ulp
        #expect(run { rvf32_add(0x7f7f_ffff, 0x72ff_ffff, RNE, &$0) } == (0x7f7f_ffff, NX))  // just below
        // In RTZ the same sum rounds to the largest finite value: no overflow, just inexact.
        #expect(run { rvf32_add(0x7f7f_ffff, 0x7300_0000, RTZ, &$0) } == (0x7f7f_ffff, NX))
    }

    @Test func underflowAndTininessAfterRounding() {
        // 2^-1022 (1 - 2^-104) rounds to 2^-1022 with an unbounded exponent: not tiny, no UF.
        #expect(run { rvf64_mul(0x3fef_ffff_ffff_fffe, 0x0010_0000_0000_0001, RNE, &$0) }
                == (0x0010_0000_0000_0000, NX))
        #expect(run { rvf64_mul(0x3fef_ffff_ffff_fffe, 0x0010_0000_0000_0001, RTZ, &$0) }
                == (0x000f_ffff_ffff_ffff, NX | UF))
        // Halving the smallest subnormal: a tie between 0 and 2^-149.
        #expect(run { rvf32_mul(1, s(0.5), RNE, &$0) } == (0, UF | NX))
        #expect(run { rvf32_mul(1, s(0.5), RMM, &$0) } == (1, UF | NX))
        #expect(run { rvf32_mul(1, s(0.5), RUP, &$0) } == (1, UF | NX))
        #expect(run { rvf32_mul(0x8000_0001, s(0.5), RDN, &$0) } == (0x8000_0001, UF | NX))
        // Exact subnormal results raise nothing.
        #expect(run { rvf32_mul(2, s(0.5), RNE, &$0) } == (1, 0))
        #expect(run { rvf64_sub(0x0010_0000_0000_0000, 1, RNE, &$0) } == (0x000f_ffff_ffff_ffff, 0))
        // FCVT.S.D of 2^-150 (half the smallest binary32 subnormal).
        #expect(run { rvf64_to_f32(0x3690_0000_0000_0000, RNE, &$0) } == (0, UF | NX))
        #expect(run { rvf64_to_f32(0x3690_0000_0000_0000, RMM, &$0) } == (1, UF | NX))
    }

    @Test func integerToFloat() {
        #expect(run { rvf32_from_u64(UInt64.max, RNE, &$0) } == (0x5f80_0000, NX))
        #expect(run { rvf32_from_u64(UInt64.max, RTZ, &$0) } == (0x5f7f_ffff, NX))
        #expect(run { rvf64_from_i64(Int64.min, RNE, &$0) } == (0xc3e0_0000_0000_0000, 0))
        #expect(run { rvf64_from_i32(-1, RNE, &$0) } == (d(-1), 0))
        #expect(run { rvf64_from_u32(UInt32.max, RNE, &$0) } == (d(4294967295), 0))
        #expect(run { rvf32_from_i32(16777217, RNE, &$0) } == (s(16777216), NX))
        #expect(run { rvf32_from_i32(16777217, RMM, &$0) } == (s(16777218), NX))
        #expect(run { rvf32_from_i32(-16777217, RMM, &$0) } == (s(-16777218), NX))
        #expect(run { rvf32_from_i32(16777219, RNE, &$0) } == (s(16777220), NX))
        #expect(run { rvf64_from_i64(0, RDN, &$0) } == (0, 0))  // +0 in every mode
        #expect(run { rvf64_from_u64((1 << 53) + 1, RMM, &$0) } == (d(9007199254740994), NX))
    }

    @Test func classify() {
        let cases64: [(UInt64, UInt32)] = [
            (ninf64, 1 << 0), (d(-1), 1 << 1), (0x800f_ffff_ffff_ffff, 1 << 2), (0x8000_0000_0000_0000, 1 << 3),
            (0, 1 << 4), (1, 1 << 5), (0x0010_0000_0000_0000, 1 << 6), (inf64, 1 << 7), (sNaN64, 1 << 8),
            (qNaN64, 1 << 9), (0xfff8_0000_0000_0000, 1 << 9), (0xfff0_0000_0000_0001, 1 << 8),
        ]
        for (v, want) in cases64 { #expect(rvf64_classify(v) == want, "fclass.d \(hex64(v))") }
        let cases32: [(UInt32, UInt32)] = [
            (ninf32, 1 << 0), (s(-1), 1 << 1), (0x8000_0001, 1 << 2), (0x8000_0000, 1 << 3), (0, 1 << 4),
            (0x007f_ffff, 1 << 5), (0x7f7f_ffff, 1 << 6), (inf32, 1 << 7), (sNaN32, 1 << 8), (qNaN32, 1 << 9),
        ]
        for (v, want) in cases32 { #expect(rvf32_classify(v) == want, "fclass.s \(hex32(v))") }
    }

    @Test func flagsAccumulate() {
        var f: UInt32 = NX | DZ
        _ = rvf64_add(d(1), d(2), RNE, &f)  // exact: adds nothing, clears nothing
        #expect(f == NX | DZ)
        _ = rvf64_sqrt(d(-1), RNE, &f)
        #expect(f == NX | DZ | NV)
        _ = rvf32_mul(0x7f7f_ffff, s(2), RNE, &f)
        #expect(f == NX | DZ | NV | OF)
        _ = rvf64_to_f32(1, RNE, &f)
        #expect(f == NX | DZ | NV | OF | UF)
    }
}
