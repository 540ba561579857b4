import CRISCVFloat
import CRISCVFloatHostReference
import Testing

// Differential tests against the host FPU (x86-64 SSE/FMA3, see Tests/CRISCVFloatHostReference)
// for the four rounding modes the host has: RNE, RTZ, RDN, RUP. Result bits and fflags must match
// exactly. Every test enumerates the special operands exhaustively (pairs, or triples of a smaller
// set for FMA) and then a deterministic stream of random and "related" operands.

let arithNames = ["add", "sub", "mul", "div", "sqrt"]
let intKindNames = ["w", "wu", "l", "lu"]
let fmaNames = ["fmadd", "fmsub", "fnmsub", "fnmadd"]

func lib64(_ op: Int, _ a: UInt64, _ b: UInt64, _ rm: UInt32, _ f: inout UInt32) -> UInt64 {
    switch op {
    case 0: return rvf64_add(a, b, rm, &f)
    case 1: return rvf64_sub(a, b, rm, &f)
    case 2: return rvf64_mul(a, b, rm, &f)
    case 3: return rvf64_div(a, b, rm, &f)
    default: return rvf64_sqrt(a, rm, &f)
    }
}

func lib32(_ op: Int, _ a: UInt32, _ b: UInt32, _ rm: UInt32, _ f: inout UInt32) -> UInt32 {
    switch op {
    case 0: return rvf32_add(a, b, rm, &f)
    case 1: return rvf32_sub(a, b, rm, &f)
    case 2: return rvf32_mul(a, b, rm, &f)
    case 3: return rvf32_div(a, b, rm, &f)
    default: return rvf32_sqrt(a, rm, &f)
    }
}

func libToInt64(_ kind: Int, _ a: UInt64, _ rm: UInt32, _ f: inout UInt32) -> UInt64 {
    switch kind {
    case 0: return UInt64(bitPattern: rvf64_to_i32(a, rm, &f))
    case 1: return rvf64_to_u32(a, rm, &f)
    case 2: return UInt64(bitPattern: rvf64_to_i64(a, rm, &f))
    default: return rvf64_to_u64(a, rm, &f)
    }
}

func libToInt32(_ kind: Int, _ a: UInt32, _ rm: UInt32, _ f: inout UInt32) -> UInt64 {
    switch kind {
    case 0: return UInt64(bitPattern: rvf32_to_i32(a, rm, &f))
    case 1: return rvf32_to_u32(a, rm, &f)
    case 2: return UInt64(bitPattern: rvf32_to_i64(a, rm, &f))
    default: return rvf32_to_u64(a, rm, &f)
    }
}

func libFromInt64(_ kind: Int, _ v: UInt64, _ rm: UInt32, _ f: inout UInt32) -> UInt64 {
    switch kind {
    case 0: return rvf64_from_i32(Int32(truncatingIfNeeded: v), rm, &f)
    case 1: return rvf64_from_u32(UInt32(truncatingIfNeeded: v), rm, &f)
    case 2: return rvf64_from_i64(Int64(bitPattern: v), rm, &f)
    default: return rvf64_from_u64(v, rm, &f)
    }
}

func libFromInt32(_ kind: Int, _ v: UInt64, _ rm: UInt32, _ f: inout UInt32) -> UInt32 {
    switch kind {
    case 0: return rvf32_from_i32(Int32(truncatingIfNeeded: v), rm, &f)
    case 1: return rvf32_from_u32(UInt32(truncatingIfNeeded: v), rm, &f)
    case 2: return rvf32_from_i64(Int64(bitPattern: v), rm, &f)
    default: return rvf32_from_u64(v, rm, &f)
    }
}

/// Random cases per operation and rounding mode (on top of the exhaustive special cases).
let randomCases = 25_000

@Suite("Host FPU reference self-check", .enabled(if: hostAvailable))
struct HostSelfCheckTests {
    /// The reference really switches rounding modes (the compiler did not fold or hoist the
    /// operations across fesetround) and restores round-to-nearest afterwards.
    @Test func roundingModesAreHonoured() {
        let one = (1.0).bitPattern, three = (3.0).bitPattern
        var expected: [UInt64] = [0x3fd5_5555_5555_5555, 0x3fd5_5555_5555_5555, 0x3fd5_5555_5555_5555,
                                  0x3fd5_5555_5555_5556]
        for rm in 0..<4 {
            var f: UInt32 = 0
            let r = hostref_f64_arith(3, one, three, UInt32(rm), &f)
            #expect(hex64(r) == hex64(expected[rm]), "1/3 in \(roundingModeNames[rm])")
            #expect(f == NX)
            #expect(hostref_current_rm() == 0)
        }
        // -1/3 rounds the other way in RDN/RUP.
        expected = [0xbfd5_5555_5555_5555, 0xbfd5_5555_5555_5555, 0xbfd5_5555_5555_5556,
                    0xbfd5_5555_5555_5555]
        for rm in 0..<4 {
            var f: UInt32 = 0
            let r = hostref_f64_arith(3, (-1.0).bitPattern, three, UInt32(rm), &f)
            #expect(hex64(r) == hex64(expected[rm]), "-1/3 in \(roundingModeNames[rm])")
        }
        var f: UInt32 = 0
        #expect(hostref_f32_arith(3, Float(1).bitPattern, Float(3).bitPattern, 3, &f) == 0x3eaa_aaab)
        #expect(hostref_f64_from_int(UInt64.max, 3, 1, &f) == 0x43ef_ffff_ffff_ffff)
        #expect(hostref_f64_from_int(UInt64.max, 3, 0, &f) == 0x43f0_0000_0000_0000)
        #expect(hostref_f64_to_int((2.5).bitPattern, 2, 0, &f) == 2)
        #expect(hostref_f64_to_int((2.5).bitPattern, 2, 3, &f) == 3)
    }

    /// The host detects tininess after rounding (x86 does; this is the RISC-V rule), raises UF
    /// only for inexact tiny results, and does not flush subnormals.
    @Test func tininessAfterRoundingAndSubnormals() {
        // (1 - 2^-52) * (2^-1022 (1 + 2^-52)) = 2^-1022 (1 - 2^-104): below 2^-1022, but it
        // rounds to 2^-1022 at 53 bits with an unbounded exponent -> not tiny in RNE.
        var f: UInt32 = 0
        var r = hostref_f64_arith(2, 0x3fef_ffff_ffff_fffe, 0x0010_0000_0000_0001, 0, &f)
        #expect(hex64(r) == "0x0010000000000000")
        #expect(f == NX, "after-rounding tininess: no UF expected, got \(flagString(f))")
        f = 0
        r = hostref_f64_arith(2, 0x3fef_ffff_ffff_fffe, 0x0010_0000_0000_0001, 1, &f)
        #expect(hex64(r) == "0x000fffffffffffff")
        #expect(f == NX | UF)
        // Exact subnormal result: no UF.
        f = 0
        r = hostref_f64_arith(2, 0x0000_0000_0000_0002, 0x3fe0_0000_0000_0000, 0, &f)
        #expect(r == 1 && f == 0)
        // Subnormal operands are not treated as zero (no DAZ).
        f = 0
        r = hostref_f64_arith(0, 1, 1, 0, &f)
        #expect(r == 2 && f == 0)
        f = 0
        r = UInt64(hostref_f32_arith(0, 1, 1, 0, &f))
        #expect(r == 2 && f == 0)
    }

    /// Documents the one place where x86 differs from RISC-V and the reference patches it:
    /// fma(inf, 0, qNaN) raises no invalid on x86, but must raise NV on RISC-V.
    @Test(.enabled(if: hostHasFMA)) func fmaInfTimesZeroPlusQuietNaN() {
        #expect(hostref_raw_fma_inf_zero_qnan_flags() & NV == 0)
        var f: UInt32 = 0
        let r = hostref_f64_muladd(0x7ff0_0000_0000_0000, 0, 0x7ff8_0000_0000_0000, 0, 0, &f)
        #expect(r == RVF64_CANONICAL_NAN && f == NV)
    }
}

@Suite("CRISCVFloat vs host FPU", .enabled(if: hostAvailable))
struct HostComparisonTests {
    @Test("binary64 add/sub/mul/div/sqrt", arguments: 0..<4)
    func arithmetic64(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one(_ op: Int, _ a: UInt64, _ b: UInt64) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = lib64(op, a, b, mode, &f)
            let want = hostref_f64_arith(UInt32(op), a, b, mode, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                    "f64 \(arithNames[op]) \(hex64(a)) \(hex64(b)) \(roundingModeNames[rm])")
        }
        for a in F64.specials {
            one(4, a, 0)
            for b in F64.specials { for op in 0..<4 { one(op, a, b) } }
        }
        var r = SplitMix64(seed: 0x64_0000 + UInt64(rm))
        for _ in 0..<randomCases {
            let (a, b) = F64.pair(&r)
            for op in 0..<4 { one(op, a, b) }
            one(4, a, 0)
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("binary32 add/sub/mul/div/sqrt", arguments: 0..<4)
    func arithmetic32(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one(_ op: Int, _ a: UInt32, _ b: UInt32) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = lib32(op, a, b, mode, &f)
            let want = hostref_f32_arith(UInt32(op), a, b, mode, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                    "f32 \(arithNames[op]) \(hex32(a)) \(hex32(b)) \(roundingModeNames[rm])")
        }
        for a in F32.specials {
            one(4, a, 0)
            for b in F32.specials { for op in 0..<4 { one(op, a, b) } }
        }
        var r = SplitMix64(seed: 0x32_0000 + UInt64(rm))
        for _ in 0..<randomCases {
            let (a, b) = F32.pair(&r)
            for op in 0..<4 { one(op, a, b) }
            one(4, a, 0)
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("binary64 fused multiply-add (all four variants)", .enabled(if: hostHasFMA), arguments: 0..<4)
    func fma64(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt32) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = rvf64_muladd(a, b, c, op, mode, &f)
            let want = hostref_f64_muladd(a, b, c, op, mode, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                    "f64 \(fmaNames[Int(op)]) \(hex64(a)) \(hex64(b)) \(hex64(c)) \(roundingModeNames[rm])")
        }
        for a in F64.fewSpecials {
            for b in F64.fewSpecials { for c in F64.fewSpecials { for op: UInt32 in 0..<4 { one(a, b, c, op) } } }
        }
        var r = SplitMix64(seed: 0xf64_0000 + UInt64(rm))
        for _ in 0..<randomCases {
            let (a, b, c) = F64.triple(&r)
            for op: UInt32 in 0..<4 { one(a, b, c, op) }
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("binary32 fused multiply-add (all four variants)", .enabled(if: hostHasFMA), arguments: 0..<4)
    func fma32(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ op: UInt32) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = rvf32_muladd(a, b, c, op, mode, &f)
            let want = hostref_f32_muladd(a, b, c, op, mode, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                    "f32 \(fmaNames[Int(op)]) \(hex32(a)) \(hex32(b)) \(hex32(c)) \(roundingModeNames[rm])")
        }
        for a in F32.fewSpecials {
            for b in F32.fewSpecials { for c in F32.fewSpecials { for op: UInt32 in 0..<4 { one(a, b, c, op) } } }
        }
        var r = SplitMix64(seed: 0xf32_0000 + UInt64(rm))
        for _ in 0..<randomCases {
            let (a, b, c) = F32.triple(&r)
            for op: UInt32 in 0..<4 { one(a, b, c, op) }
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("float -> integer (W, WU, L, LU from S and D)", arguments: 0..<4)
    func floatToInt(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one64(_ a: UInt64) {
            for kind in 0..<4 {
                var f: UInt32 = 0, hf: UInt32 = 0
                let got = libToInt64(kind, a, mode, &f)
                let want = hostref_f64_to_int(a, UInt32(kind), mode, &hf)
                m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                        "fcvt.\(intKindNames[kind]).d \(hex64(a)) \(roundingModeNames[rm])")
            }
        }
        func one32(_ a: UInt32) {
            for kind in 0..<4 {
                var f: UInt32 = 0, hf: UInt32 = 0
                let got = libToInt32(kind, a, mode, &f)
                let want = hostref_f32_to_int(a, UInt32(kind), mode, &hf)
                m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                        "fcvt.\(intKindNames[kind]).s \(hex32(a)) \(roundingModeNames[rm])")
            }
        }
        F64.specials.forEach(one64)
        F32.specials.forEach(one32)
        var r = SplitMix64(seed: 0x2_1000 + UInt64(rm))
        for _ in 0..<randomCases {
            one64(F64.operand(&r))
            one32(F32.operand(&r))
            // Dense coverage of the integer range with halves and near-halves.
            let e = 1023 + r.below(66) - 2
            one64(F64.make(sign: r.next() & 1, exp: e, frac: F64.fraction(&r)))
            let e32 = 127 + r.below(66) - 2
            one32(F32.make(sign: UInt32(r.next() & 1), exp: e32, frac: F32.fraction(&r)))
        }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("integer -> float (S and D from W, WU, L, LU)", arguments: 0..<4)
    func intToFloat(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func one(_ v: UInt64) {
            for kind in 0..<4 {
                var f: UInt32 = 0, hf: UInt32 = 0
                let got = libFromInt64(kind, v, mode, &f)
                let want = hostref_f64_from_int(v, UInt32(kind), mode, &hf)
                m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                        "fcvt.d.\(intKindNames[kind]) \(hex64(v)) \(roundingModeNames[rm])")
                var f2: UInt32 = 0, hf2: UInt32 = 0
                let got2 = libFromInt32(kind, v, mode, &f2)
                let want2 = hostref_f32_from_int(v, UInt32(kind), mode, &hf2)
                m.check(got: got2, gotFlags: f2, want: want2, wantFlags: hf2,
                        "fcvt.s.\(intKindNames[kind]) \(hex64(v)) \(roundingModeNames[rm])")
            }
        }
        F64.intSpecials.forEach(one)
        var r = SplitMix64(seed: 0x1_2000 + UInt64(rm))
        for _ in 0..<randomCases { one(F64.integer(&r)) }
        #expect(m.count == 0, "\(m.summary)")
    }

    @Test("binary64 <-> binary32 (FCVT.S.D, FCVT.D.S)", arguments: 0..<4)
    func formatConversions(rm: Int) {
        let mode = UInt32(rm)
        var m = Mismatches()
        func narrow(_ a: UInt64) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = rvf64_to_f32(a, mode, &f)
            let want = hostref_f64_to_f32(a, mode, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf,
                    "fcvt.s.d \(hex64(a)) \(roundingModeNames[rm])")
        }
        func widen(_ a: UInt32) {
            var f: UInt32 = 0, hf: UInt32 = 0
            let got = rvf32_to_f64(a, &f)
            let want = hostref_f32_to_f64(a, &hf)
            m.check(got: got, gotFlags: f, want: want, wantFlags: hf, "fcvt.d.s \(hex32(a))")
        }
        F64.specials.forEach(narrow)
        F32.specials.forEach(widen)
        var r = SplitMix64(seed: 0xd5_0000 + UInt64(rm))
        for _ in 0..<randomCases {
            narrow(F32.narrowingOperand(&r))
            widen(F32.operand(&r))
        }
        #expect(m.count == 0, "\(m.summary)")
    }
}
