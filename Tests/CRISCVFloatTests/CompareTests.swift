import CRISCVFloat
import Testing

// FMIN/FMAX, FEQ/FLT/FLE and FCLASS have no rounding, so their expected behaviour is written here
// straight from the RISC-V specification (>= 2.2), using Swift's IEEE comparisons on the decoded
// values (exact on every host) only to order non-NaN operands.

private func isSignalingNaN64(_ a: UInt64) -> Bool { Double(bitPattern: a).isSignalingNaN }
private func isSignalingNaN32(_ a: UInt32) -> Bool { Float(bitPattern: a).isSignalingNaN }

/// FMIN/FMAX: -0 < +0; one NaN -> the other operand; two NaNs -> canonical NaN; sNaN -> NV.
private func specMinMax<F: BinaryFloatingPoint, T>(
    _ x: F, _ y: F, _ a: T, _ b: T, max: Bool, canonical: T
) -> (T, UInt32) {
    let flags: UInt32 = (x.isSignalingNaN || y.isSignalingNaN) ? NV : 0
    if x.isNaN && y.isNaN { return (canonical, flags) }
    if x.isNaN { return (b, flags) }
    if y.isNaN { return (a, flags) }
    if x == y {
        // Equal values: only +0/-0 can differ in their bits.
        let xNeg = x.sign == .minus
        return ((xNeg != max) ? a : b, flags)
    }
    return ((x < y) != max ? a : b, flags)
}

/// FEQ (quiet: NV for sNaN only), FLT/FLE (signaling: NV for any NaN).
private func specCompare<F: BinaryFloatingPoint>(_ x: F, _ y: F, kind: Int) -> (Int32, UInt32) {
    if x.isNaN || y.isNaN {
        let nv = kind != 0 || x.isSignalingNaN || y.isSignalingNaN
        return (0, nv ? NV : 0)
    }
    switch kind {
    case 0: return (x == y ? 1 : 0, 0)
    case 1: return (x < y ? 1 : 0, 0)
    default: return (x <= y ? 1 : 0, 0)
    }
}

private func specClass<F: BinaryFloatingPoint>(_ x: F) -> UInt32 {
    let neg = x.sign == .minus
    if x.isSignalingNaN { return 1 << 8 }
    if x.isNaN { return 1 << 9 }
    if x.isInfinite { return neg ? 1 << 0 : 1 << 7 }
    if x.isZero { return neg ? 1 << 3 : 1 << 4 }
    if x.isSubnormal { return neg ? 1 << 2 : 1 << 5 }
    return neg ? 1 << 1 : 1 << 6
}

@Suite("Compare, min/max, classify vs the specification")
struct CompareTests {
    @Test func binary64() {
        var m = Mismatches()
        func one(_ a: UInt64, _ b: UInt64) {
            let x = Double(bitPattern: a), y = Double(bitPattern: b)
            for isMax in [false, true] {
                var f: UInt32 = 0
                let got = isMax ? rvf64_max(a, b, &f) : rvf64_min(a, b, &f)
                let (want, wf) = specMinMax(x, y, a, b, max: isMax, canonical: RVF64_CANONICAL_NAN)
                m.check(got: got, gotFlags: f, want: want, wantFlags: wf,
                        "f64 \(isMax ? "max" : "min") \(hex64(a)) \(hex64(b))")
            }
            for kind in 0..<3 {
                var f: UInt32 = 0
                let got: Int32
                switch kind {
                case 0: got = rvf64_eq(a, b, &f)
                case 1: got = rvf64_lt(a, b, &f)
                default: got = rvf64_le(a, b, &f)
                }
                let (want, wf) = specCompare(x, y, kind: kind)
                m.check(got: got, gotFlags: f, want: want, wantFlags: wf,
                        "f64 \(["feq", "flt", "fle"][kind]) \(hex64(a)) \(hex64(b))")
            }
        }
        for a in F64.specials {
            m.check(got: rvf64_classify(a), gotFlags: 0, want: specClass(Double(bitPattern: a)),
                    wantFlags: 0, "fclass.d \(hex64(a))")
            for b in F64.specials { one(a, b) }
        }
        var r = SplitMix64(seed: 0xc0_64)
        for _ in 0..<randomCases {
            let (a, b) = F64.pair(&r)
            one(a, b)
            m.check(got: rvf64_classify(a), gotFlags: 0, want: specClass(Double(bitPattern: a)),
                    wantFlags: 0, "fclass.d \(hex64(a))")
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test func binary32() {
        var m = Mismatches()
        func one(_ a: UInt32, _ b: UInt32) {
            let x = Float(bitPattern: a), y = Float(bitPattern: b)
            for isMax in [false, true] {
                var f: UInt32 = 0
                let got = isMax ? rvf32_max(a, b, &f) : rvf32_min(a, b, &f)
                let (want, wf) = specMinMax(x, y, a, b, max: isMax, canonical: RVF32_CANONICAL_NAN)
                m.check(got: got, gotFlags: f, want: want, wantFlags: wf,
                        "f32 \(isMax ? "max" : "min") \(hex32(a)) \(hex32(b))")
            }
            for kind in 0..<3 {
                var f: UInt32 = 0
                let got: Int32
                switch kind {
                case 0: got = rvf32_eq(a, b, &f)
                case 1: got = rvf32_lt(a, b, &f)
                default: got = rvf32_le(a, b, &f)
                }
                let (want, wf) = specCompare(x, y, kind: kind)
                m.check(got: got, gotFlags: f, want: want, wantFlags: wf,
                        "f32 \(["feq", "flt", "fle"][kind]) \(hex32(a)) \(hex32(b))")
            }
        }
        for a in F32.specials {
            m.check(got: rvf32_classify(a), gotFlags: 0, want: specClass(Float(bitPattern: a)),
                    wantFlags: 0, "fclass.s \(hex32(a))")
            for b in F32.specials { one(a, b) }
        }
        var r = SplitMix64(seed: 0xc0_32)
        for _ in 0..<randomCases {
            let (a, b) = F32.pair(&r)
            one(a, b)
            m.check(got: rvf32_classify(a), gotFlags: 0, want: specClass(Float(bitPattern: a)),
                    wantFlags: 0, "fclass.s \(hex32(a))")
        }
        #expect(m.count == 0, "\(m.summary)")
    }
}
