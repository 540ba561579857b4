/// Synchronous exception causes (mcause values with the interrupt bit clear).
public enum ExceptionCause: UInt64, Sendable {
    case instructionAddressMisaligned = 0
    case instructionAccessFault = 1
    case illegalInstruction = 2
    case breakpoint = 3
    case loadAddressMisaligned = 4
    case loadAccessFault = 5
    case storeAddressMisaligned = 6
    case storeAccessFault = 7
    case environmentCallFromU = 8
    case environmentCallFromS = 9
    case environmentCallFromM = 11
    case instructionPageFault = 12
    case loadPageFault = 13
    case storePageFault = 15
}

/// Interrupt numbers (bit positions in mip/mie; mcause values with the interrupt bit set).
public enum InterruptCause: UInt64, Sendable, CaseIterable {
    case supervisorSoftware = 1
    case machineSoftware = 3
    case supervisorTimer = 5
    case machineTimer = 7
    case supervisorExternal = 9
    case machineExternal = 11

    /// Bit in mip/mie.
    public var mask: UInt64 { 1 << rawValue }
}
