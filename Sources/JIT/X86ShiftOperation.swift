/// The rotates and shifts of the C0/C1, D0/D1 and D2/D3 groups (the raw value is the `/digit`).
///
/// `rcl`/`rcr` rotate through the carry flag. Counts are masked by the processor to 5 bits
/// (6 for `qword`).
public enum X86ShiftOperation: UInt8, CaseIterable, Sendable {
    case rol = 0, ror, rcl, rcr, shl, shr
    case sar = 7
}
