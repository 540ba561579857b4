import CRISCVFloat
import Testing

// Cross-host determinism check. The host-FPU comparisons only run on x86-64; this test runs
// everywhere (in particular on the AArch64 backup) and hashes the results and flags of every
// library function, in all five rounding modes, over a fixed pseudo-random operand stream built
// with integer operations only. The expected digest was produced on the x86-64 primary after the
// host-reference tests passed, so a matching digest on another host means bit-identical results
// and flags for all of these cases. If the semantics are deliberately changed, re-derive the
// digest on x86-64 (with the host-reference tests green) and update it here.

private struct FNV1a {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ v: UInt64) {
        var x = v
        for _ in 0..<8 {
            h = (h ^ (x & 0xff)) &* 0x0000_0100_0000_01b3
            x >>= 8
        }
    }
    mutating func add(_ v: UInt32) { add(UInt64(v)) }
    mutating func add(_ v: Int64) { add(UInt64(bitPattern: v)) }
    mutating func add(_ v: Int32) { add(UInt64(UInt32(bitPattern: v))) }
}

func determinismDigest(iterations: Int) -> UInt64 {
    var h = FNV1a()
    var r = SplitMix64(seed: 0x10c6_57e9)
    for _ in 0..<iterations {
        let (a, b) = F64.pair(&r)
        let c = r.chance(50) ? F64.operand(&r) : F64.partner(a, &r)
        let (x, y) = F32.pair(&r)
        let z = r.chance(50) ? F32.operand(&r) : F32.partner(x, &r)
        let n = F64.integer(&r)
        for rm: UInt32 in 0..<5 {
            var f: UInt32 = 0
            h.add(rvf64_add(a, b, rm, &f)); h.add(rvf64_sub(a, b, rm, &f))
            h.add(rvf64_mul(a, b, rm, &f)); h.add(rvf64_div(a, b, rm, &f))
            h.add(rvf64_sqrt(a, rm, &f))
            for op: UInt32 in 0..<4 { h.add(rvf64_muladd(a, b, c, op, rm, &f)) }
            h.add(rvf64_to_i32(a, rm, &f)); h.add(rvf64_to_u32(a, rm, &f))
            h.add(rvf64_to_i64(a, rm, &f)); h.add(rvf64_to_u64(a, rm, &f))
            h.add(rvf64_from_i32(Int32(truncatingIfNeeded: n), rm, &f))
            h.add(rvf64_from_u32(UInt32(truncatingIfNeeded: n), rm, &f))
            h.add(rvf64_from_i64(Int64(bitPattern: n), rm, &f)); h.add(rvf64_from_u64(n, rm, &f))
            h.add(rvf64_to_f32(a, rm, &f))
            h.add(f)
            f = 0
            h.add(rvf32_add(x, y, rm, &f)); h.add(rvf32_sub(x, y, rm, &f))
            h.add(rvf32_mul(x, y, rm, &f)); h.add(rvf32_div(x, y, rm, &f))
            h.add(rvf32_sqrt(x, rm, &f))
            for op: UInt32 in 0..<4 { h.add(rvf32_muladd(x, y, z, op, rm, &f)) }
            h.add(rvf32_to_i32(x, rm, &f)); h.add(rvf32_to_u32(x, rm, &f))
            h.add(rvf32_to_i64(x, rm, &f)); h.add(rvf32_to_u64(x, rm, &f))
            h.add(rvf32_from_i32(Int32(truncatingIfNeeded: n), rm, &f))
            h.add(rvf32_from_u32(UInt32(truncatingIfNeeded: n), rm, &f))
            h.add(rvf32_from_i64(Int64(bitPattern: n), rm, &f)); h.add(rvf32_from_u64(n, rm, &f))
            h.add(f)
        }
        var f: UInt32 = 0
        h.add(rvf64_min(a, b, &f)); h.add(rvf64_max(a, b, &f))
        h.add(rvf64_eq(a, b, &f)); h.add(rvf64_lt(a, b, &f)); h.add(rvf64_le(a, b, &f))
        h.add(rvf64_classify(a)); h.add(rvf32_to_f64(x, &f))
        h.add(rvf32_min(x, y, &f)); h.add(rvf32_max(x, y, &f))
        h.add(rvf32_eq(x, y, &f)); h.add(rvf32_lt(x, y, &f)); h.add(rvf32_le(x, y, &f))
        h.add(rvf32_classify(x))
        h.add(f)
    }
    return h.h
}

@Suite("Cross-host determinism")
struct DeterminismDigestTests {
    @Test func digestMatchesX86Reference() {
        let digest = determinismDigest(iterations: 2000)
        #expect(hex64(digest) == "0x94a79093a3cb7ce1", "determinism digest changed")
    }
}
