/// The container of a snapshot file (documented in docs/snapshots.md): a header, then sections in
/// a fixed order, each with a tag, a length and a CRC-32 of its payload, then an `END ` section.
enum SnapshotFormat {
    /// "LOCKSNAP".
    static let magic: [UInt8] = Array("LOCKSNAP".utf8)
    /// The version this build writes. Version 5 ends `CONF` with the network card's MAC
    /// address; version 4 lists every disk in `DISK` (a count, then an identity per disk);
    /// version 3 held one disk at most (a presence flag and an identity).
    static let version: UInt32 = 5
    /// The versions this build reads: 3 (snapshots of machines with at most one disk), 4 and 5
    /// (3 and 4 were taken on machines with ``VirtioNetwork/defaultMAC``).
    static let readableVersions: ClosedRange<UInt32> = 3...5
    /// The first version whose `CONF` holds the MAC address.
    static let macVersion: UInt32 = 5
    /// Magic, version, kind, header CRC.
    static let headerSize = 20
    /// Bytes before a section's payload: tag, length, CRC.
    static let sectionHeaderSize = 16

    /// The sections of a snapshot of `kind`, in file order.
    static func sections(_ kind: SnapshotKind) -> [SnapshotSection] {
        switch kind {
        case .full: [.configuration, .disk, .boot] + SnapshotSection.machineState + [.ram, .end]
        case .incremental: [.configuration, .base, .disk] + SnapshotSection.machineState + [.ram, .end]
        case .liveCopy: [.configuration, .disk, .boot] + SnapshotSection.machineState + [.ram, .end]
        }
    }

    /// Writes the header of a snapshot of `kind`.
    static func writeHeader(_ kind: SnapshotKind, to writer: inout StateWriter) {
        writer.writeBytes(magic)
        writer.writeUInt32(version)
        writer.writeUInt32(kind.rawValue)
        writer.writeUInt32(CRC32.checksum(Array(writer.bytes.suffix(16))))
    }

    /// Writes one section: tag, length, CRC-32, then what `body` writes.
    static func writeSection(_ section: SnapshotSection, to writer: inout StateWriter, _ body: (inout StateWriter) -> Void) {
        writer.writeUInt32(section.rawValue)
        let lengthOffset = writer.count
        writer.writeUInt64(0)
        let checksumOffset = writer.count
        writer.writeUInt32(0)
        let start = writer.count
        body(&writer)
        let end = writer.count
        writer.patchUInt64(UInt64(end - start), at: lengthOffset)
        let checksum = writer.bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
        writer.patchUInt32(checksum, at: checksumOffset)
    }

    /// Reads the header and the sections of `bytes` up to and including `last` (all of them if
    /// nil), checking the magic, the version, every checksum, the order and that nothing follows
    /// the `END ` section. Returns the kind, the format version and a reader for each section's
    /// payload.
    static func parse(_ bytes: [UInt8], through last: SnapshotSection? = nil) throws(SnapshotError) -> (SnapshotKind, UInt32, [SnapshotSection: StateReader]) {
        var reader = StateReader(bytes)
        guard bytes.count >= magic.count else {
            if bytes.elementsEqual(magic.prefix(bytes.count)) {
                throw .truncated(offset: 0, expected: "the snapshot magic", needed: magic.count, available: bytes.count)
            }
            throw .notASnapshot
        }
        guard Array(try reader.readBytes(count: magic.count, "the snapshot magic")) == magic else { throw .notASnapshot }
        let found = try reader.readUInt32("the format version")
        guard readableVersions.contains(found) else { throw .unsupportedVersion(found: found, supported: version) }
        let kindValue = try reader.readUInt32("the snapshot kind")
        let kindOffset = reader.fieldOffset
        let stored = try reader.readUInt32("the header checksum")
        let computed = CRC32.checksum(Array(bytes[0..<16]))
        guard stored == computed else { throw .checksumMismatch(offset: 0, section: "header", stored: stored, computed: computed) }
        guard let kind = SnapshotKind(rawValue: kindValue) else {
            throw .invalidValue(offset: kindOffset, what: "snapshot kind \(kindValue), expected 1 (full), 2 (incremental) or 3 (live copy)")
        }
        var readers: [SnapshotSection: StateReader] = [:]
        for section in sections(kind) {
            let tagOffset = reader.offset
            let tag = try reader.readUInt32("the tag of section \(section.name)")
            guard tag == section.rawValue else {
                throw .unexpectedSection(offset: tagOffset, found: SnapshotSection.name(of: tag), expected: "section \(section.name)")
            }
            let length = try reader.readUInt64("the length of section \(section.name)")
            let stored = try reader.readUInt32("the checksum of section \(section.name)")
            guard length <= UInt64(reader.remaining) else {
                throw .truncated(offset: reader.offset, expected: "section \(section.name)", needed: Int(clamping: length), available: reader.remaining)
            }
            let payload = try reader.subReader(count: Int(length), "section \(section.name)")
            let computed = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[payload.offset..<payload.end])) }
            guard stored == computed else {
                throw .checksumMismatch(offset: tagOffset, section: section.name, stored: stored, computed: computed)
            }
            readers[section] = payload
            if section == last { return (kind, found, readers) }
        }
        try reader.expectEnd("the END section")
        return (kind, found, readers)
    }
}

/// Whether a snapshot holds all of RAM or only the pages written since its base.
public enum SnapshotKind: UInt32, Sendable {
    /// Everything: restores onto any machine with the same configuration and disk.
    case full = 1
    /// Machine state plus the RAM pages dirtied since dirty-page tracking started: applies only
    /// to a machine in that base state (restored from the base snapshot).
    case incremental = 2
    /// The end of a live copy (``Machine/saveLiveCopySnapshot()``): machine state plus the RAM
    /// pages written since the copy last took them; applies to a machine whose RAM received
    /// every page the copy sent (``Machine/writeRAMPages(_:_:)``). The checkpoint that follows
    /// in a replication log proves the result.
    case liveCopy = 3
}

/// A section of a snapshot file; the raw value is its tag, four ASCII characters read in file order.
enum SnapshotSection: UInt32, CaseIterable {
    case configuration = 0x464E_4F43   // "CONF"
    case base = 0x4553_4142            // "BASE"
    case disk = 0x4B53_4944            // "DISK"
    case boot = 0x544F_4F42            // "BOOT"
    case machine = 0x4843_414D         // "MACH"
    case hart = 0x5452_4148            // "HART"
    case clint = 0x544E_4C43           // "CLNT"
    case plic = 0x4349_4C50            // "PLIC"
    case uart = 0x5452_4155            // "UART"
    case virtio = 0x5452_4956          // "VIRT"
    case ram = 0x204D_4152             // "RAM "
    case end = 0x2044_4E45             // "END "

    /// The sections holding everything but RAM (what a state hash and a base digest cover).
    static let machineState: [SnapshotSection] = [.machine, .hart, .clint, .plic, .uart, .virtio]

    var name: String { SnapshotSection.name(of: rawValue) }

    /// A tag as text (non-printable bytes as `?`).
    static func name(of tag: UInt32) -> String {
        String((0..<4).map { i -> Character in
            let byte = UInt8(truncatingIfNeeded: tag >> (8 * UInt32(i)))
            return byte >= 0x20 && byte < 0x7F ? Character(Unicode.Scalar(byte)) : "?"
        })
    }
}

/// What a snapshot file says about itself, read without restoring it: enough to build a machine
/// to restore it onto.
public struct SnapshotInfo: Equatable, Sendable {
    /// The format version of the file (3, 4 or 5).
    public var formatVersion: UInt32
    public var kind: SnapshotKind
    /// The configuration of the machine it was taken on (a restoring machine needs the same).
    public var configuration: MachineConfiguration
    /// The instruction count at which it was taken.
    public var instructionCount: UInt64
    /// The identities of the machine's disks, in order (a restoring machine needs disks with the
    /// same identities, in the same order).
    public var disks: [DiskIdentity]

    /// Reads the header, the configuration section and the disks' identities (checking their
    /// checksums only).
    public init(_ bytes: [UInt8]) throws(SnapshotError) {
        let (kind, version, sections) = try SnapshotFormat.parse(bytes, through: .disk)
        var reader = sections[.configuration]!
        let (configuration, count) = try Machine.readConfiguration(&reader, version: version)
        var diskReader = sections[.disk]!
        disks = try DiskIdentity.read(from: &diskReader, version: version)
        try diskReader.expectEnd("section DISK")
        formatVersion = version
        self.kind = kind
        self.configuration = configuration
        instructionCount = count
    }
}

/// The state an incremental snapshot applies to: the instruction count and a digest of the
/// machine state outside RAM when dirty-page tracking started.
struct SnapshotBase: Equatable {
    var instructionCount: UInt64
    var digest: UInt64
    /// ``GuestMemory/dirtyTrackingGeneration`` when it was taken.
    var trackingGeneration: UInt64
}
