import CRISCVFloat
import CRISCVFloatHostReference

// Shared helpers for the CRISCVFloat tests: a deterministic PRNG, operand generators that hit
// the interesting corners (specials, boundaries, cancellation, ties), and a mismatch collector.

let NX: UInt32 = 1, UF: UInt32 = 2, OF: UInt32 = 4, DZ: UInt32 = 8, NV: UInt32 = 16

/// The host FPU reference exists (x86-64 only).
let hostAvailable = hostref_available() != 0
/// The host FPU reference can also do fused multiply-add (FMA3).
let hostHasFMA = hostref_available() != 0 && hostref_has_fma() != 0

let roundingModeNames = ["RNE", "RTZ", "RDN", "RUP", "RMM"]

func hex64(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - s.count)) + s
}

func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}

func flagString(_ f: UInt32) -> String {
    var parts: [String] = []
    if f & NV != 0 { parts.append("NV") }
    if f & DZ != 0 { parts.append("DZ") }
    if f & OF != 0 { parts.append("OF") }
    if f & UF != 0 { parts.append("UF") }
    if f & NX != 0 { parts.append("NX") }
    return parts.isEmpty ? "-" : parts.joined(separator: "|")
}

/// SplitMix64: small, fast, deterministic on every host.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n (n > 0; the tiny modulo bias is irrelevant here).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Collects mismatches; keeps the first few descriptions for the failure message.
struct Mismatches {
    var compared = 0
    var count = 0
    var examples: [String] = []

    mutating func check<T: FixedWidthInteger>(
        got: T, gotFlags: UInt32, want: T, wantFlags: UInt32, _ describe: @autoclosure () -> String
    ) {
        compared += 1
        if got != want || gotFlags != wantFlags {
            count += 1
            if examples.count < 12 {
                let w = T.bitWidth / 4
                func h(_ v: T) -> String {
                    let s = String(v, radix: 16)
                    return "0x" + String(repeating: "0", count: max(0, w - s.count)) + s
                }
                examples.append(
                    "\(describe()): got \(h(got)) [\(flagString(gotFlags))], want \(h(want)) [\(flagString(wantFlags))]")
            }
        }
    }

    var summary: String {
        "\(count) of \(compared) cases differ:\n" + examples.joined(separator: "\n")
    }
}

// MARK: - binary64 operands

enum F64 {
    static let specials: [UInt64] = {
        var v: [UInt64] = [
            0x0000_0000_0000_0000, 0x8000_0000_0000_0000,  // +-0
            0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000,  // +-inf
            0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000, 0x7ff8_0000_dead_beef,  // qNaN
            0x7ff0_0000_0000_0001, 0xfff4_0000_0000_0000,  // sNaN
            0x0000_0000_0000_0001, 0x8000_0000_0000_0001,  // smallest subnormal
            0x0000_0000_0000_0002, 0x0000_0000_0000_0003,
            0x000f_ffff_ffff_ffff, 0x800f_ffff_ffff_ffff,  // largest subnormal
            0x0008_0000_0000_0000, 0x0008_0000_0000_0001,
            0x0010_0000_0000_0000, 0x8010_0000_0000_0000,  // smallest normal
            0x0010_0000_0000_0001, 0x001f_ffff_ffff_ffff, 0x0020_0000_0000_0000,
            0x7fef_ffff_ffff_ffff, 0xffef_ffff_ffff_ffff,  // largest normal
            0x7fef_ffff_ffff_fffe, 0x7fe0_0000_0000_0000, 0x7fd0_0000_0000_0000,
            0x3ff0_0000_0000_0001, 0x3fef_ffff_ffff_ffff, 0x3fef_ffff_ffff_fffe,
            0x4000_0000_0000_0001, 0x3fff_ffff_ffff_ffff,
            0x3ca0_0000_0000_0000, 0x3c90_0000_0000_0000,  // 2^-53, 2^-54
        ]
        let doubles: [Double] = [
            1, -1, 2, -2, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, 0.4, -0.4, 0.6, -0.6, 0.1, 10, 1e300,
            -1e-300, 1.0 / 3.0,
            2147483647, 2147483648, 2147483647.5, 2147483646.5, 2147483648.5, 2147483647.4,
            -2147483648, -2147483649, -2147483648.5, -2147483647.5, -2147483648.4,
            4294967295, 4294967296, 4294967295.5, 4294967294.5, 4294967295.4, -0.9, -1.0000001,
            9223372036854775808.0, -9223372036854775808.0, 18446744073709551616.0,
            4503599627370496.0, 4503599627370495.5, 4503599627370497.0, 9007199254740992.0,
            9007199254740993.0, 16777216.0, 16777217.0, 8388608.5,
        ]
        v += doubles.map(\.bitPattern)
        // Neighbours of 2^63 and 2^64 (the int64/uint64 limits), both signs.
        for b: UInt64 in [0x43e0_0000_0000_0000, 0x43f0_0000_0000_0000] {
            v += [b - 1, b + 1, (b - 1) | 0x8000_0000_0000_0000, b | 0x8000_0000_0000_0000,
                  (b + 1) | 0x8000_0000_0000_0000]
        }
        return v
    }()

    /// A smaller set for triples (FMA), where all combinations are enumerated.
    static let fewSpecials: [UInt64] = [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000, 0x7ff0_0000_0000_0001, 0x0000_0000_0000_0001, 0x800f_ffff_ffff_ffff,
        0x0010_0000_0000_0000, 0x7fef_ffff_ffff_ffff, 0xffef_ffff_ffff_ffff, 0x3ff0_0000_0000_0000,
        0xbff0_0000_0000_0000, 0x3fef_ffff_ffff_ffff, 0x3ff0_0000_0000_0001, 0x3ca0_0000_0000_0000,
        0x4000_0000_0000_0000,
    ]

    static func make(sign: UInt64, exp: Int, frac: UInt64) -> UInt64 {
        (sign << 63) | (UInt64(exp) << 52) | (frac & 0x000f_ffff_ffff_ffff)
    }

    /// Random fraction: full width, or only a few leading bits (so results are often exact or ties).
    static func fraction(_ r: inout SplitMix64) -> UInt64 {
        let f = r.next() & 0x000f_ffff_ffff_ffff
        switch r.below(4) {
        case 0: return f
        case 1: return f & ~((1 << UInt64(r.below(52))) - 1)  // short significand
        case 2: return f | ((1 << UInt64(r.below(52))) - 1)  // run of trailing ones
        default: return f & (0x000f_ffff_ffff_ffff << UInt64(40 + r.below(12)))
        }
    }

    static func operand(_ r: inout SplitMix64) -> UInt64 {
        let sign = r.next() & 1
        switch r.below(10) {
        case 0, 1: return specials[r.below(specials.count)]
        case 2: return r.next()  // any bit pattern
        case 3: return make(sign: sign, exp: r.below(3), frac: fraction(&r))  // subnormal / tiny
        case 4: return make(sign: sign, exp: 2046 - r.below(3), frac: fraction(&r))  // huge
        case 5: return make(sign: sign, exp: 1023 + r.below(70) - 5, frac: fraction(&r))  // int range
        default: return make(sign: sign, exp: 1023 + r.below(120) - 60, frac: fraction(&r))
        }
    }

    /// An operand related to `a`: nearby exponent (cancellation, ties), a few ulps away from +-a,
    /// or an exponent that makes a*b or a/b land near the subnormal or overflow boundary.
    static func partner(_ a: UInt64, _ r: inout SplitMix64) -> UInt64 {
        let ea = Int((a >> 52) & 0x7ff)
        let sign = r.next() & 1
        switch r.below(6) {
        case 0:
            let d = Int64(r.below(9)) - 4
            return (a &+ UInt64(bitPattern: d)) ^ (sign << 63)
        case 1, 2:
            let e = min(2046, max(0, ea + r.below(9) - 4))
            return make(sign: sign, exp: e, frac: fraction(&r))
        case 3:
            let e = min(2046, max(0, ea + r.below(121) - 60))
            return make(sign: sign, exp: e, frac: fraction(&r))
        case 4:  // a*b near the subnormal range: ea + eb - 1023 ~ 0
            let e = min(2046, max(0, 1023 - ea + r.below(60) - 55))
            return make(sign: sign, exp: e, frac: fraction(&r))
        default:  // a*b near overflow
            let e = min(2046, max(0, 3069 - ea + r.below(6) - 3))
            return make(sign: sign, exp: e, frac: fraction(&r))
        }
    }

    static func pair(_ r: inout SplitMix64) -> (UInt64, UInt64) {
        let a = operand(&r)
        let b = r.chance(50) ? operand(&r) : partner(a, &r)
        return r.chance(50) ? (a, b) : (b, a)
    }

    /// (a, b, c) where c is often close to +-(a*b) so that the fused addition cancels.
    static func triple(_ r: inout SplitMix64) -> (UInt64, UInt64, UInt64) {
        let (a, b) = pair(&r)
        let c: UInt64
        switch r.below(4) {
        case 0: c = operand(&r)
        case 1: c = partner(a, &r)
        default:
            let p = (Double(bitPattern: a) * Double(bitPattern: b)).bitPattern  // test-side only
            let d = Int64(r.below(7)) - 3
            c = r.chance(70) ? (p &+ UInt64(bitPattern: d)) ^ ((r.next() & 1) << 63) : partner(p, &r)
        }
        return (a, b, c)
    }

    static let intSpecials: [UInt64] = {
        var v: [UInt64] = [0, 1, 2, 3, 0xffff_ffff_ffff_ffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
                           0x8000_0001, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000,
                           0x8000_0000_0000_0001, 0x0010_0000_0000_0001, 0x0020_0000_0000_0001,
                           0x0020_0000_0000_0003, 0x00ff_ffff, 0x0100_0001, 0x0100_0003]
        for k in 0..<64 {
            let p: UInt64 = 1 << UInt64(k)
            v += [p, p &- 1, p &+ 1, 0 &- p, (p << 1) | p]
        }
        return v
    }()

    /// Integers of random bit length, also with long runs and half-way patterns for rounding.
    static func integer(_ r: inout SplitMix64) -> UInt64 {
        switch r.below(5) {
        case 0: return intSpecials[r.below(intSpecials.count)]
        case 1: return r.next()
        case 2:
            let bits = UInt64(1 + r.below(64))
            return bits == 64 ? r.next() : r.next() & ((1 << bits) - 1)
        case 3:  // random top bits, then a tie/near-tie pattern at a random position
            let shift = UInt64(r.below(40))
            return (r.next() << shift) | (r.chance(50) ? 0 : (1 << shift) >> 1)
        default:
            let v = r.next() >> UInt64(r.below(64))
            return r.chance(50) ? v : 0 &- v
        }
    }
}

// MARK: - binary32 operands

enum F32 {
    static let specials: [UInt32] = {
        var v: [UInt32] = [
            0x0000_0000, 0x8000_0000, 0x7f80_0000, 0xff80_0000,  // +-0, +-inf
            0x7fc0_0000, 0xffc0_0000, 0x7fc0_1234,  // qNaN
            0x7f80_0001, 0xffa0_0000,  // sNaN
            0x0000_0001, 0x8000_0001, 0x0000_0002, 0x0000_0003,  // tiny subnormals
            0x007f_ffff, 0x807f_ffff, 0x0040_0000, 0x0040_0001,  // large subnormals
            0x0080_0000, 0x8080_0000, 0x0080_0001, 0x00ff_ffff, 0x0100_0000,  // small normals
            0x7f7f_ffff, 0xff7f_ffff, 0x7f7f_fffe, 0x7f00_0000, 0x7e80_0000,  // large normals
            0x3f80_0001, 0x3f7f_ffff, 0x3f7f_fffe, 0x4000_0001, 0x3fff_ffff,
            0x3380_0000, 0x3300_0000,  // 2^-24, 2^-25
        ]
        let floats: [Float] = [
            1, -1, 2, -2, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, 0.4, -0.4, 0.6, -0.6, 0.1, 10, 1e30,
            -1e-30, 1.0 / 3.0,
            2147483648, -2147483648, 2147483520, 2147483904, -2147483904, -2147483520,
            4294967296, 4294967040, 4294967808, -0.9, -1.0000001,
            9223372036854775808.0, -9223372036854775808.0, 18446744073709551616.0,
            9223371487098961920.0, 18446742974197923840.0, -9223373136366403584.0,
            8388608, 8388607.5, 8388609, 16777216, 16777218, 4194303.5, 4194304.5,
        ]
        v += floats.map(\.bitPattern)
        return v
    }()

    static let fewSpecials: [UInt32] = [
        0x0000_0000, 0x8000_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0x7f80_0001, 0x0000_0001,
        0x807f_ffff, 0x0080_0000, 0x7f7f_ffff, 0xff7f_ffff, 0x3f80_0000, 0xbf80_0000, 0x3f7f_ffff,
        0x3f80_0001, 0x3380_0000, 0x4000_0000,
    ]

    static func make(sign: UInt32, exp: Int, frac: UInt32) -> UInt32 {
        (sign << 31) | (UInt32(exp) << 23) | (frac & 0x007f_ffff)
    }

    static func fraction(_ r: inout SplitMix64) -> UInt32 {
        let f = UInt32(truncatingIfNeeded: r.next()) & 0x007f_ffff
        switch r.below(4) {
        case 0: return f
        case 1: return f & ~((1 << UInt32(r.below(23))) - 1)
        case 2: return f | ((1 << UInt32(r.below(23))) - 1)
        default: return f & (0x007f_ffff << UInt32(14 + r.below(9)))
        }
    }

    static func operand(_ r: inout SplitMix64) -> UInt32 {
        let sign = UInt32(r.next() & 1)
        switch r.below(10) {
        case 0, 1: return specials[r.below(specials.count)]
        case 2: return UInt32(truncatingIfNeeded: r.next())
        case 3: return make(sign: sign, exp: r.below(3), frac: fraction(&r))
        case 4: return make(sign: sign, exp: 254 - r.below(3), frac: fraction(&r))
        case 5: return make(sign: sign, exp: 127 + r.below(70) - 5, frac: fraction(&r))
        default: return make(sign: sign, exp: 127 + r.below(60) - 30, frac: fraction(&r))
        }
    }

    static func partner(_ a: UInt32, _ r: inout SplitMix64) -> UInt32 {
        let ea = Int((a >> 23) & 0xff)
        let sign = UInt32(r.next() & 1)
        switch r.below(6) {
        case 0:
            let d = Int32(r.below(9)) - 4
            return (a &+ UInt32(bitPattern: d)) ^ (sign << 31)
        case 1, 2:
            return make(sign: sign, exp: min(254, max(0, ea + r.below(9) - 4)), frac: fraction(&r))
        case 3:
            return make(sign: sign, exp: min(254, max(0, ea + r.below(61) - 30)), frac: fraction(&r))
        case 4:
            return make(sign: sign, exp: min(254, max(0, 127 - ea + r.below(30) - 26)), frac: fraction(&r))
        default:
            return make(sign: sign, exp: min(254, max(0, 381 - ea + r.below(6) - 3)), frac: fraction(&r))
        }
    }

    static func pair(_ r: inout SplitMix64) -> (UInt32, UInt32) {
        let a = operand(&r)
        let b = r.chance(50) ? operand(&r) : partner(a, &r)
        return r.chance(50) ? (a, b) : (b, a)
    }

    static func triple(_ r: inout SplitMix64) -> (UInt32, UInt32, UInt32) {
        let (a, b) = pair(&r)
        let c: UInt32
        switch r.below(4) {
        case 0: c = operand(&r)
        case 1: c = partner(a, &r)
        default:
            let p = (Float(bitPattern: a) * Float(bitPattern: b)).bitPattern  // test-side only
            let d = Int32(r.below(7)) - 3
            c = r.chance(70) ? (p &+ UInt32(bitPattern: d)) ^ (UInt32(r.next() & 1) << 31) : partner(p, &r)
        }
        return (a, b, c)
    }

    /// binary64 values that land near binary32 boundaries when narrowed (FCVT.S.D).
    static func narrowingOperand(_ r: inout SplitMix64) -> UInt64 {
        let sign = r.next() & 1
        switch r.below(5) {
        case 0: return F64.operand(&r)
        case 1:  // around the binary32 subnormal range (binary32 exponents -150 ... -120)
            return F64.make(sign: sign, exp: 1023 - 152 + r.below(34), frac: F64.fraction(&r))
        case 2:  // around binary32 overflow
            return F64.make(sign: sign, exp: 1023 + 125 + r.below(5), frac: F64.fraction(&r))
        case 3:  // ties: 24 significant bits plus a half-ulp pattern
            let f = (r.next() & 0x000f_ffff_e000_0000) | (r.chance(50) ? 0x1000_0000 : 0x1000_0001)
            return F64.make(sign: sign, exp: 1023 + r.below(200) - 100, frac: f)
        default:
            return F64.make(sign: sign, exp: 1023 + r.below(300) - 150, frac: F64.fraction(&r))
        }
    }
}
