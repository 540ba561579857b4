// Interesting operand values: integer edge cases and IEEE-754 corner cases for both formats.

enum CornerValues {
    /// Integer values around every boundary the integer, M and conversion instructions care about.
    static let integers: [UInt64] = [
        0, 1, 2, 3, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFE,
        0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x1_0000_0000, 0x1_FFFF_FFFF,
        0xFFFF_FFFF_8000_0000, 0xFFFF_FFFF_7FFF_FFFF, 0xFFFF_FFFF_0000_0000, 0x0000_0001_8000_0000,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0x8000_0000_0000_0001, 0x7FFF_FFFF_FFFF_FFFE,
        31, 32, 33, 63, 64, 65, 0x7FF, 0x800, 0xFFF, 0x1000,
        0xFFFF_FFFF_FFFF_F800, 0xFFFF_FFFF_FFFF_F7FF,
        0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210,
        // Conversion rounding boundaries (ties and near-ties for binary32 / binary64).
        0x100_0001, 0x100_0003, 0x100_0002, 0xFFFF_FFFF_FEFF_FFFF, 0x7FFF_FF80, 0x7FFF_FFC0, 0x7FFF_FFBF,
        0xFFFF_FF80, 0xFFFF_FFC0, 0x20_0000_0000_0001, 0x20_0000_0000_0003, 0xFFDF_FFFF_FFFF_FFFF,
        0x7FFF_FFFF_FFFF_FC00, 0x7FFF_FFFF_FFFF_FE00, 0x7FFF_FFFF_FFFF_FDFF, 0xFFFF_FFFF_FFFF_FC00,
        0xFFFF_FFFF_FFFF_FE00, 0x8000_0000_0000_0200, 0x8000_0080_0000_0000,
    ]

    static func d(_ x: Double) -> UInt64 { x.bitPattern }

    /// binary64 corner values as bit patterns.
    static let doubles: [UInt64] = {
        let p63 = 9_223_372_036_854_775_808.0, p64 = 18_446_744_073_709_551_616.0
        let fltMax = Double(Float.greatestFiniteMagnitude)
        let fltTie = 340_282_356_779_733_661_637_539_395_458_142_568_448.0  // 2^128 - 2^103
        var v: [Double] = [
            0, -0.0, .infinity, -.infinity, 1, -1, 2, -2, 3, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5,
            0.75, -0.75, 0.25, -0.25, 1.0 / 3, -2.0 / 3, .pi, 10, 100, 1e16, -1e16, 1e308, -1e-308,
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Double.leastNormalMagnitude.nextDown,
            .leastNormalMagnitude, -Double.leastNormalMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, Double.greatestFiniteMagnitude.nextDown,
            1.0.nextUp, 1.0.nextDown, -(1.0.nextUp), 2.0.nextDown,
            0.5.nextDown, 0.5.nextUp, 1.5.nextDown, 1.5.nextUp, 2.5.nextDown, 2.5.nextUp,
            (-0.5).nextDown, (-0.5).nextUp, (-1.5).nextDown, (-2.5).nextUp,
            // Integer conversion limits.
            2_147_483_647, 2_147_483_647.5, 2_147_483_647.25, 2_147_483_648, 2_147_483_648.5,
            -2_147_483_648, -2_147_483_648.5, -2_147_483_648.75, -2_147_483_649,
            4_294_967_295, 4_294_967_295.5, 4_294_967_296, 4_294_967_296.5, -0.999, -1e-300,
            p63, p63.nextDown, p63.nextUp, -p63, (-p63).nextDown, (-p63).nextUp,
            p64, p64.nextDown, p64.nextUp, 4_503_599_627_370_496, 4_503_599_627_370_495.5,
            9_007_199_254_740_992, -4_503_599_627_370_495.5,
            // binary32 rounding/overflow/underflow boundaries, seen from binary64.
            fltMax, fltMax.nextUp, fltTie, fltTie.nextDown, fltTie.nextUp, -fltTie, 0x1p128,
            0x1p-149, 0x1p-150, Double(0x1p-150).nextUp, Double(0x1p-150).nextDown, 0x1.8p-149,
            0x1p-126, 0x1.fffffffp-127, 0x1.fffffep-127, 0x1.ffffffp-127, -0x1.ffffffp-127,
            0x1.000001p0, 0x1.0000010000001p0, 0x1.000003p0, 0x1.000002p0, 0x1.fffffep-1, 0x1.ffffffp-1,
            16_777_217, 8_388_607.5, 8_388_608.5,
        ]
        v.append(contentsOf: [0x1.8p-1022, Double(bitPattern: 0x8000_0000_0000_0003)])
        var bits = v.map(\.bitPattern)
        bits += [
            0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF8_0000_0000_0001, 0x7FFF_FFFF_FFFF_FFFF,
            0xFFFF_FFFF_FFFF_FFFF, 0x7FFC_0000_0000_1234, 0x7FF0_0000_0000_0001, 0x7FF4_0000_0000_0000,
            0xFFF0_0000_0000_0001, 0x7FF7_FFFF_FFFF_FFFF, 0x8000_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF,
            0x000F_FFFF_FFFF_FFFF, 0x0010_0000_0000_0001,
        ]
        return bits
    }()

    /// binary32 corner values as bit patterns.
    static let singles: [UInt32] = {
        let p31: Float = 2_147_483_648, p32: Float = 4_294_967_296
        let p63: Float = 9_223_372_036_854_775_808, p64: Float = 18_446_744_073_709_551_616
        let v: [Float] = [
            0, -0.0, .infinity, -.infinity, 1, -1, 2, -2, 3, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5,
            0.75, -0.75, 0.25, 1.0 / 3, .pi, 10, 1e10, -1e-30,
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Float.leastNormalMagnitude.nextDown,
            .leastNormalMagnitude, -Float.leastNormalMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, Float.greatestFiniteMagnitude.nextDown,
            Float(1).nextUp, Float(1).nextDown, Float(0.5).nextDown, Float(0.5).nextUp,
            Float(1.5).nextDown, Float(1.5).nextUp, Float(2.5).nextDown, Float(2.5).nextUp,
            Float(-0.5).nextDown, Float(-2.5).nextUp,
            p31, p31.nextDown, p31.nextUp, -p31, (-p31).nextDown, (-p31).nextUp,
            p32, p32.nextDown, p32.nextUp, p63, p63.nextDown, -p63, (-p63).nextDown, p64, p64.nextDown,
            8_388_607.5, 8_388_608, 16_777_216, 4_194_303.5, -8_388_607.5, -0.999, -1e-30,
            0x1p-100, 0x1.fffffep-64, 0x1p-148, 0x1.4p-128,
        ]
        var bits = v.map(\.bitPattern)
        bits += [
            0x7FC0_0000, 0xFFC0_0000, 0x7FC0_0001, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x7FE0_1234, 0x7F80_0001,
            0x7FA0_0000, 0xFF80_0001, 0x7FBF_FFFF, 0x8000_0001, 0x807F_FFFF, 0x007F_FFFF, 0x0080_0001,
        ]
        return bits
    }()

    /// Upper halves for binary32 values that are *not* properly NaN-boxed.
    static let badBoxes: [UInt64] = [0, 0x7FF8_0000, 0xFFFF_FFFE, 0x7FFF_FFFF, 0x8000_0000, 0x0000_0001]
}

extension Xoshiro256 {
    mutating func cornerInteger() -> UInt64 {
        switch below(8) {
        case 0: return next()
        case 1: return UInt64(bitPattern: Int64(int(-64...64)))
        case 2: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: next())))
        default: return pick(CornerValues.integers)
        }
    }

    mutating func randomDouble() -> UInt64 {
        let sign = next() & (1 << 63)
        switch below(4) {
        case 0: return next()
        case 1: return sign | (UInt64(int(1023 - 70...1023 + 70)) << 52) | (next() >> 12)
        case 2:
            let x = Double(int(-100...100)) / Double(pick([1, 2, 4, 8, 3]))
            return x.bitPattern
        default:
            let e = pick([0, 1, 2, 2045, 2046, int(0...2047)])
            return sign | (UInt64(e) << 52) | (next() >> 12)
        }
    }

    mutating func randomSingle() -> UInt32 {
        let sign = UInt32(truncatingIfNeeded: next()) & 0x8000_0000
        let mant = UInt32(truncatingIfNeeded: next()) & 0x7F_FFFF
        switch below(4) {
        case 0: return UInt32(truncatingIfNeeded: next())
        case 1: return sign | (UInt32(int(127 - 30...127 + 30)) << 23) | mant
        case 2:
            let x = Float(int(-100...100)) / Float(pick([1, 2, 4, 8, 3]))
            return x.bitPattern
        default:
            let e = pick([0, 1, 2, 253, 254, int(0...255)])
            return sign | (UInt32(e) << 23) | mant
        }
    }

    mutating func cornerDouble() -> UInt64 {
        chance(7, in: 10) ? pick(CornerValues.doubles) : randomDouble()
    }

    mutating func cornerSingle() -> UInt32 {
        chance(7, in: 10) ? pick(CornerValues.singles) : randomSingle()
    }

    /// A 64-bit FP register image: a double, a NaN-boxed single, or (rarely) an improperly boxed single.
    mutating func cornerFPRegister() -> UInt64 {
        switch below(10) {
        case 0..<4: return cornerDouble()
        case 4..<8: return 0xFFFF_FFFF_0000_0000 | UInt64(cornerSingle())
        case 8: return (pick(CornerValues.badBoxes) << 32) | UInt64(cornerSingle())
        default: return next()
        }
    }
}
