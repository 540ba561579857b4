import RISCV

/// The RISC-V Supervisor Binary Interface (SBI v1.0), served by Lockstep itself instead of by
/// M-mode firmware such as OpenSBI.
///
/// Why here and not OpenSBI (see docs/design.md): no firmware image to ship or emulate, no M-mode
/// state to snapshot and replay, fewer instructions per timer tick, and every call is a
/// deterministic function of the machine's state. The kernel runs in S-mode from its first
/// instruction.
///
/// Extensions: BASE, TIME, IPI, RFENCE, HSM, SRST and the legacy (v0.1) calls Linux uses for
/// `earlycon=sbi` and `hvc0` (console put/get, set_timer, shutdown). One hart, so IPIs go to
/// hart 0 and remote fences are local.
public final class SupervisorBinaryInterface {
    /// SBI error codes (returned in a0).
    public enum Status: Int64 {
        case success = 0
        case failed = -1
        case notSupported = -2
        case invalidParameter = -3
        case alreadyAvailable = -6
    }

    /// Extension IDs (a7).
    public enum Extension: UInt64, CaseIterable {
        case legacySetTimer = 0x00
        case legacyConsolePutchar = 0x01
        case legacyConsoleGetchar = 0x02
        case legacyClearIPI = 0x03
        case legacySendIPI = 0x04
        case legacyRemoteFenceI = 0x05
        case legacyRemoteSfenceVMA = 0x06
        case legacyRemoteSfenceVMAASID = 0x07
        case legacyShutdown = 0x08
        case base = 0x10
        case time = 0x5449_4D45
        case ipi = 0x0073_5049
        case rfence = 0x5246_4E43
        case hsm = 0x0048_534D
        case systemReset = 0x5352_5354
    }

    /// What the guest asked the machine to do.
    public enum SystemRequest: Equatable, Sendable {
        case shutdown(failure: Bool)
        case reboot
    }

    /// `mvendorid`-style implementation ID reported by BASE: not a registered ID; chosen to be
    /// distinct from the registered ones (0 BBL, 1 OpenSBI, ... up to the low teens).
    public static let implementationID: Int64 = 0x4C53   // "LS"
    public static let specificationVersion: Int64 = 1 << 24   // v1.0

    unowned let hart: Hart
    /// Bytes written with the legacy console call.
    public var consoleOutput: (UInt8) -> Void = { _ in }
    /// Returns the next console input byte for the legacy getchar call, if any.
    public var consoleInput: () -> UInt8? = { nil }
    /// Shutdown and reboot requests (SRST and legacy shutdown).
    public var onSystemRequest: ((SystemRequest) -> Void)?

    public init(hart: Hart) {
        self.hart = hart
    }

    /// Serves the call in the hart's registers (a7 extension, a6 function, a0-a5 arguments) and
    /// writes the result (a0 error, a1 value; legacy calls: a0 only). Always handles the call:
    /// unknown extensions get `notSupported`, as the specification requires.
    public func handleCall() -> Bool {
        let a = (0...5).map { hart.register(10 + $0) }
        let extensionID = hart.register(17)
        let function = hart.register(16)

        if let ext = Extension(rawValue: extensionID), ext.rawValue <= Extension.legacyShutdown.rawValue {
            hart.setRegister(10, UInt64(bitPattern: legacy(ext, a)))
            return true
        }
        let (status, value) = call(extensionID, function, a)
        hart.setRegister(10, UInt64(bitPattern: status.rawValue))
        hart.setRegister(11, UInt64(bitPattern: value))
        return true
    }

    private func legacy(_ ext: Extension, _ a: [UInt64]) -> Int64 {
        switch ext {
        case .legacySetTimer: hart.timerCompare = a[0]
        case .legacyConsolePutchar: consoleOutput(UInt8(truncatingIfNeeded: a[0]))
        case .legacyConsoleGetchar: return consoleInput().map { Int64($0) } ?? -1
        case .legacyClearIPI: hart.setInterruptPending(.supervisorSoftware, false)
        case .legacySendIPI: hart.setInterruptPending(.supervisorSoftware, true)
        case .legacyRemoteFenceI: break   // decoded instructions are kept coherent with every store
        case .legacyRemoteSfenceVMA, .legacyRemoteSfenceVMAASID: hart.flushTranslationCache()
        case .legacyShutdown: onSystemRequest?(.shutdown(failure: false))
        default: return Status.notSupported.rawValue
        }
        return 0
    }

    private func call(_ extensionID: UInt64, _ function: UInt64, _ a: [UInt64]) -> (Status, Int64) {
        guard let ext = Extension(rawValue: extensionID) else { return (.notSupported, 0) }
        switch (ext, function) {
        // BASE
        case (.base, 0): return (.success, Self.specificationVersion)
        case (.base, 1): return (.success, Self.implementationID)
        case (.base, 2): return (.success, 1)
        case (.base, 3): return (.success, Extension(rawValue: a[0]) == nil ? 0 : 1)
        case (.base, 4), (.base, 5), (.base, 6): return (.success, 0)   // mvendorid, marchid, mimpid
        // TIME
        case (.time, 0):
            hart.timerCompare = a[0]   // also clears a pending STIP: it is derived from the compare
            return (.success, 0)
        // IPI: send_ipi(hart_mask, hart_mask_base)
        case (.ipi, 0):
            if targetsHartZero(mask: a[0], base: a[1]) { hart.setInterruptPending(.supervisorSoftware, true) }
            return (.success, 0)
        // RFENCE: remote_fence_i, remote_sfence_vma(_asid), hypervisor variants unsupported
        case (.rfence, 0): return (.success, 0)
        case (.rfence, 1), (.rfence, 2):
            if targetsHartZero(mask: a[0], base: a[1]) { hart.flushTranslationCache() }
            return (.success, 0)
        // HSM: hart 0 is always started; there are no other harts.
        case (.hsm, 0): return (a[0] == 0 ? .alreadyAvailable : .invalidParameter, 0)
        case (.hsm, 1): return (.failed, 0)
        case (.hsm, 2): return a[0] == 0 ? (.success, 0) : (.invalidParameter, 0)
        // SRST: system_reset(type, reason)
        case (.systemReset, 0):
            switch a[0] {
            case 0: onSystemRequest?(.shutdown(failure: a[1] != 0))
            case 1, 2: onSystemRequest?(.reboot)
            default: return (.invalidParameter, 0)
            }
            return (.success, 0)
        default:
            return (.notSupported, 0)
        }
    }

    /// Whether a hart mask (with base; base = -1 means all harts) includes hart 0.
    private func targetsHartZero(mask: UInt64, base: UInt64) -> Bool {
        base == ~0 || (base == 0 && mask & 1 != 0)
    }
}
