import CRISCVFloat
import CRISCVFloatHostReference
import Testing

// RMM (round to nearest, ties to max magnitude) has no host equivalent. The reference
// (Tests/CRISCVFloatHostReference/rmmref.c) derives it without the library under test:
//  - the result is the host's RTZ result t, or its successor in magnitude, chosen by comparing the
//    exact mathematical result with the exact midpoint |t| + ulp(t)/2 in a 4352-bit integer
//    accumulator (a tie goes to the successor). Division and square root are compared through
//    cross-multiplication (|a| vs m*|b|, a vs m^2), so nothing is ever rounded;
//  - the flags are the host's RNE flags (the two modes only differ on exact ties, and the overflow
//    and tininess thresholds are ties that both modes round up in magnitude);
//  - float -> integer uses C's round() (ties away from zero, exact) plus the RISC-V range rules.
// We chose this over "compute binary32 results exactly in binary64" because it covers binary64
// too, and every operation including division and square root, with a single exact primitive.
// Each test also counts the cases where RMM and RNE differ, to prove that ties were exercised.

@Suite("RMM vs exact reference", .enabled(if: hostAvailable))
struct RMMTests {
    static let rmm: UInt32 = 4

    @Test func exactComparatorSelfCheck() {
        let one: UInt64 = 0x3ff0_0000_0000_0000
        #expect(rmmref_exact_sign_f64(one, one, 0, one) == 0)
        #expect(rmmref_exact_sign_f64(1, 1, 0, 0) == 1)  // 2^-2148 > 0
        #expect(rmmref_exact_sign_f64(1, 0x8000_0000_0000_0001, 0, 0) == -1)
        #expect(rmmref_exact_sign_f64(one, one, 1, one) == 1)
        #expect(rmmref_exact_sign_f64(one, one, 0x8000_0000_0000_0001, one) == -1)
        // 3 * RNE(1/3) = 1 - 2^-54 < 1
        #expect(rmmref_exact_sign_f64((3.0).bitPattern, 0x3fd5_5555_5555_5555, 0, one) == -1)
        // max * max - max is huge and positive; -(max*max) + max negative.
        let mx: UInt64 = 0x7fef_ffff_ffff_ffff
        #expect(rmmref_exact_sign_f64(mx, mx, mx | (1 << 63), mx) == 1)
        #expect(rmmref_exact_sign_f64(mx, mx | (1 << 63), mx, mx) == -1)
        // 2^-1074 * 2^-1074 + 2^-1074 - 2^-1074 = 2^-2148 > 0
        #expect(rmmref_exact_sign_f64(1, 1, 1, 1) == 1)
    }

    @Test func arithmetic64() {
        var m = Mismatches()
        var differsFromRNE = 0
        func one(_ op: Int, _ a: UInt64, _ b: UInt64) {
            var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
            let got = lib64(op, a, b, Self.rmm, &f)
            let want = rmmref_f64_arith(UInt32(op), a, b, &rf)
            if want != hostref_f64_arith(UInt32(op), a, b, 0, &nf) { differsFromRNE += 1 }
            m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                    "f64 \(arithNames[op]) \(hex64(a)) \(hex64(b)) RMM")
        }
        for a in F64.specials {
            one(4, a, 0)
            for b in F64.specials { for op in 0..<4 { one(op, a, b) } }
        }
        var r = SplitMix64(seed: 0x64_4444)
        for _ in 0..<randomCases {
            let (a, b) = F64.pair(&r)
            for op in 0..<4 { one(op, a, b) }
            one(4, a, 0)
        }
        #expect(m.count == 0, "\(m.summary)")
        #expect(differsFromRNE > 200, "too few ties exercised: \(differsFromRNE)")
    }

    @Test func arithmetic32() {
        var m = Mismatches()
        var differsFromRNE = 0
        func one(_ op: Int, _ a: UInt32, _ b: UInt32) {
            var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
            let got = lib32(op, a, b, Self.rmm, &f)
            let want = rmmref_f32_arith(UInt32(op), a, b, &rf)
            if want != hostref_f32_arith(UInt32(op), a, b, 0, &nf) { differsFromRNE += 1 }
            m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                    "f32 \(arithNames[op]) \(hex32(a)) \(hex32(b)) RMM")
        }
        for a in F32.specials {
            one(4, a, 0)
            for b in F32.specials { for op in 0..<4 { one(op, a, b) } }
        }
        var r = SplitMix64(seed: 0x32_4444)
        for _ in 0..<randomCases {
            let (a, b) = F32.pair(&r)
            for op in 0..<4 { one(op, a, b) }
            one(4, a, 0)
        }
        #expect(m.count == 0, "\(m.summary)")
        #expect(differsFromRNE > 200, "too few ties exercised: \(differsFromRNE)")
    }

    @Test(.enabled(if: hostHasFMA)) func fusedMultiplyAdd() {
        var m = Mismatches()
        var differsFromRNE = 0
        var r = SplitMix64(seed: 0xf_4444)
        for a in F64.fewSpecials {
            for b in F64.fewSpecials {
                for c in F64.fewSpecials {
                    var f: UInt32 = 0, rf: UInt32 = 0
                    let got = rvf64_muladd(a, b, c, 0, Self.rmm, &f)
                    let want = rmmref_f64_muladd(a, b, c, 0, &rf)
                    m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                            "f64 fmadd \(hex64(a)) \(hex64(b)) \(hex64(c)) RMM")
                }
            }
        }
        for _ in 0..<randomCases {
            let op = UInt32(r.below(4))
            let (a, b, c) = F64.triple(&r)
            var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
            let got = rvf64_muladd(a, b, c, op, Self.rmm, &f)
            let want = rmmref_f64_muladd(a, b, c, op, &rf)
            if want != hostref_f64_muladd(a, b, c, op, 0, &nf) { differsFromRNE += 1 }
            m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                    "f64 \(fmaNames[Int(op)]) \(hex64(a)) \(hex64(b)) \(hex64(c)) RMM")

            let (x, y, z) = F32.triple(&r)
            var g: UInt32 = 0, sf: UInt32 = 0, mf: UInt32 = 0
            let got32 = rvf32_muladd(x, y, z, op, Self.rmm, &g)
            let want32 = rmmref_f32_muladd(x, y, z, op, &sf)
            if want32 != hostref_f32_muladd(x, y, z, op, 0, &mf) { differsFromRNE += 1 }
            m.check(got: got32, gotFlags: g, want: want32, wantFlags: sf,
                    "f32 \(fmaNames[Int(op)]) \(hex32(x)) \(hex32(y)) \(hex32(z)) RMM")
        }
        #expect(m.count == 0, "\(m.summary)")
        #expect(differsFromRNE > 100, "too few ties exercised: \(differsFromRNE)")
    }

    @Test func conversions() {
        var m = Mismatches()
        var differsFromRNE = 0
        var r = SplitMix64(seed: 0xc_4444)
        func toInt64(_ a: UInt64) {
            for kind in 0..<4 {
                var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
                let got = libToInt64(kind, a, Self.rmm, &f)
                let want = rmmref_f64_to_int(a, UInt32(kind), &rf)
                if want != hostref_f64_to_int(a, UInt32(kind), 0, &nf) { differsFromRNE += 1 }
                m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                        "fcvt.\(intKindNames[kind]).d \(hex64(a)) RMM")
            }
        }
        func toInt32(_ a: UInt32) {
            for kind in 0..<4 {
                var f: UInt32 = 0, rf: UInt32 = 0
                let got = libToInt32(kind, a, Self.rmm, &f)
                let want = rmmref_f32_to_int(a, UInt32(kind), &rf)
                m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                        "fcvt.\(intKindNames[kind]).s \(hex32(a)) RMM")
            }
        }
        func fromInt(_ v: UInt64) {
            for kind in 0..<4 {
                var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
                let got = libFromInt64(kind, v, Self.rmm, &f)
                let want = rmmref_f64_from_int(v, UInt32(kind), &rf)
                if want != hostref_f64_from_int(v, UInt32(kind), 0, &nf) { differsFromRNE += 1 }
                m.check(got: got, gotFlags: f, want: want, wantFlags: rf,
                        "fcvt.d.\(intKindNames[kind]) \(hex64(v)) RMM")
                var g: UInt32 = 0, sf: UInt32 = 0
                let got32 = libFromInt32(kind, v, Self.rmm, &g)
                let want32 = rmmref_f32_from_int(v, UInt32(kind), &sf)
                m.check(got: got32, gotFlags: g, want: want32, wantFlags: sf,
                        "fcvt.s.\(intKindNames[kind]) \(hex64(v)) RMM")
            }
        }
        func narrow(_ a: UInt64) {
            var f: UInt32 = 0, rf: UInt32 = 0, nf: UInt32 = 0
            let got = rvf64_to_f32(a, Self.rmm, &f)
            let want = rmmref_f64_to_f32(a, &rf)
            if want != hostref_f64_to_f32(a, 0, &nf) { differsFromRNE += 1 }
            m.check(got: got, gotFlags: f, want: want, wantFlags: rf, "fcvt.s.d \(hex64(a)) RMM")
        }
        F64.specials.forEach { toInt64($0); narrow($0) }
        F32.specials.forEach(toInt32)
        F64.intSpecials.forEach(fromInt)
        for _ in 0..<randomCases {
            toInt64(F64.make(sign: r.next() & 1, exp: 1023 + r.below(66) - 2, frac: F64.fraction(&r)))
            toInt32(F32.make(sign: UInt32(r.next() & 1), exp: 127 + r.below(66) - 2, frac: F32.fraction(&r)))
            fromInt(F64.integer(&r))
            narrow(F32.narrowingOperand(&r))
        }
        #expect(m.count == 0, "\(m.summary)")
        #expect(differsFromRNE > 200, "too few ties exercised: \(differsFromRNE)")
    }
}
