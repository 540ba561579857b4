import Machine

/// What a recorded session started from: enough to build the same machine again and to check
/// that the images are the same ones (by content hash, not by name).
public struct SessionDescription: Equatable, Sendable {
    /// What the machine booted.
    public enum Boot: Equatable, Sendable {
        /// A bare-metal ELF program.
        case elf(path: String, hash: UInt64)
        /// A Linux kernel Image, an optional initrd and a command line.
        case linux(kernelPath: String, kernelHash: UInt64, initrdPath: String?, initrdHash: UInt64?, commandLine: String)
    }

    /// A disk image attached as virtio-blk, as it was when the session started: where it was,
    /// its size and a hash of its contents.
    public struct Disk: Equatable, Sendable {
        public var path: String
        public var byteCount: UInt64
        public var hash: UInt64
        public init(path: String, byteCount: UInt64, hash: UInt64) {
            self.path = path
            self.byteCount = byteCount
            self.hash = hash
        }
    }

    public var configuration: MachineConfiguration
    public var boot: Boot
    /// The disks, in the machine's order (the first is `/dev/vda` in Linux); at most
    /// ``Machine/maximumDiskCount``.
    public var disks: [Disk]
    /// ``Machine/stateHash()`` before the first instruction.
    public var initialStateHash: UInt64

    public init(configuration: MachineConfiguration, boot: Boot, disks: [Disk], initialStateHash: UInt64) {
        self.configuration = configuration
        self.boot = boot
        self.disks = disks
        self.initialStateHash = initialStateHash
    }

    /// The content hash used for images and disks.
    public static func contentHash(_ bytes: [UInt8]) -> UInt64 {
        var hasher = StateHasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
