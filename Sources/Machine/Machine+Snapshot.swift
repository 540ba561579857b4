import RISCV

/// Snapshots of the whole machine (format in docs/snapshots.md).
///
/// A snapshot holds the hart (every architectural register and CSR), every device including
/// virtio queues in flight, the identity of each disk (capacity and a hash of its contents) and
/// RAM (pages that are all zero are left out). Restored into a machine with the same configuration
/// and disks, in this process or another, the machine continues exactly as the original would:
/// same output, same ``stateHash()`` at the same instruction count.
///
/// Take and restore snapshots between runs (when ``run(instructionLimit:)`` has returned), not
/// from a callback during a run. The owner's wiring is not part of a snapshot: console and
/// network callbacks, ``skipsIdleTime``, an entropy source that is not a ``SeededEntropySource``.
extension Machine {
    // MARK: Saving

    /// A full snapshot of the machine.
    ///
    /// Throws only when a disk cannot be read (its contents are hashed).
    public func saveSnapshot() throws(SnapshotError) -> [UInt8] {
        try writeSnapshot(.full, base: nil)
    }

    /// An incremental snapshot: the machine state outside RAM plus the RAM pages written since
    /// ``startDirtyTracking()``. ``restoreSnapshot(_:)`` applies it to a machine in the state
    /// tracking started from (typically restored from the full snapshot taken then). Tracking goes
    /// on; call ``startDirtyTracking()`` again to make this snapshot the base of the next one.
    public func saveIncrementalSnapshot() throws(SnapshotError) -> [UInt8] {
        guard let base = dirtyTrackingBase, memory.isTrackingDirtyPages,
              memory.dirtyTrackingGeneration == base.trackingGeneration else {
            throw .dirtyTrackingNotStarted
        }
        return try writeSnapshot(.incremental, base: base)
    }

    func writeSnapshot(_ kind: SnapshotKind, base: SnapshotBase?) throws(SnapshotError) -> [UInt8] {
        var diskIdentities: [DiskIdentity] = []
        for device in disks { diskIdentities.append(try DiskIdentity(of: device)) }
        var writer = StateWriter(reservingCapacity: 1 << 20)
        SnapshotFormat.writeHeader(kind, to: &writer)
        for section in SnapshotFormat.sections(kind) {
            SnapshotFormat.writeSection(section, to: &writer) { w in
                switch section {
                case .configuration:
                    w.writeUInt64(configuration.memorySize)
                    w.writeUInt64(configuration.instructionsPerTick)
                    w.writeUInt64(configuration.entropySeed)
                    w.writeUInt64(instructionCount)
                    w.writeBytes(configuration.mac)
                case .base:
                    w.writeUInt64(base?.instructionCount ?? 0)
                    w.writeUInt64(base?.digest ?? 0)
                case .disk:
                    DiskIdentity.save(diskIdentities, to: &w)
                case .boot:
                    bootImage.save(to: &w)
                case .ram:
                    writeRAM(kind, to: &w)
                case .end:
                    break
                case .machine, .hart, .clint, .plic, .uart, .virtio:
                    saveMachineSection(section, to: &w)
                }
            }
        }
        return writer.bytes
    }

    /// Page size, page count, entry count, then per entry the page index, an encoding (0: all
    /// zero, 1: raw) and the bytes. Full snapshots list the pages that are not all zero;
    /// incremental ones list the dirty pages.
    private func writeRAM(_ kind: SnapshotKind, to writer: inout StateWriter) {
        let pageSize = Int(GuestMemory.pageSize)
        writer.writeUInt32(UInt32(pageSize))
        writer.writeUInt32(UInt32(memory.pageCount))
        let countOffset = writer.count
        writer.writeUInt32(0)
        var entries: UInt32 = 0
        memory.withRAMBytes { ram in
            func page(_ index: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: ram[index * pageSize..<(index + 1) * pageSize])
            }
            switch kind {
            case .full:
                for index in 0..<memory.pageCount where !memory.isUntouched(page: index) && !Machine.isZero(page(index)) {
                    writer.writeUInt32(UInt32(index))
                    writer.writeUInt8(RAMEncoding.raw.rawValue)
                    writer.writeBytes(page(index))
                    entries += 1
                }
            case .incremental, .liveCopy:
                for index in memory.dirtyPages ?? [] {
                    writer.writeUInt32(UInt32(index))
                    if Machine.isZero(page(index)) {
                        writer.writeUInt8(RAMEncoding.zero.rawValue)
                    } else {
                        writer.writeUInt8(RAMEncoding.raw.rawValue)
                        writer.writeBytes(page(index))
                    }
                    entries += 1
                }
            }
        }
        writer.patchUInt32(entries, at: countOffset)
    }

    /// How a page is stored in the RAM section.
    enum RAMEncoding: UInt8 {
        case zero = 0
        case raw = 1
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let words = bytes.count / 8
        while i + 8 <= words {
            var any: UInt64 = 0
            for j in 0..<8 { any |= bytes.loadUnaligned(fromByteOffset: (i + j) * 8, as: UInt64.self) }
            if any != 0 { return false }
            i += 8
        }
        for j in (i * 8)..<bytes.count where bytes[j] != 0 { return false }
        return true
    }

    // MARK: Machine state outside RAM

    /// Writes one of ``SnapshotSection/machineState``.
    func saveMachineSection(_ section: SnapshotSection, to writer: inout StateWriter) {
        switch section {
        case .machine:
            writer.writeBool(servesSBI)
            writer.writeBool(htif != nil)
            writer.writeUInt64(htif?.toHost ?? 0)
            writer.writeBool(htif?.fromHost != nil)
            writer.writeUInt64(htif?.fromHost ?? 0)
            writer.writeBool(isResetRequested)
            writer.writeUInt64(bootImage.digest)
        case .hart:
            hart.exportState().save(to: &writer)
        case .clint:
            clint.save(to: &writer)
        case .plic:
            plic.save(to: &writer)
        case .uart:
            uart.save(to: &writer)
        case .virtio:
            writer.writeUInt32(UInt32(virtioSlots.count))
            for slot in virtioSlots { slot.save(to: &writer) }
        case .configuration, .base, .disk, .boot, .ram, .end:
            preconditionFailure("\(section.name) is not machine state")
        }
    }

    /// The order sections are restored in: the PLIC last, so that its restored line levels and
    /// outputs win over what the devices drove while they were restored.
    static let restoreOrder: [SnapshotSection] = [.machine, .hart, .clint, .uart, .virtio, .plic]

    /// Reads one of ``SnapshotSection/machineState`` into the machine, all of it.
    func restoreMachineSection(_ section: SnapshotSection, from reader: inout StateReader) throws(SnapshotError) {
        switch section {
        case .machine:
            let sbi = try reader.readBool("SBI flag")
            let hasHTIF = try reader.readBool("HTIF flag")
            let toHost = try reader.readUInt64("HTIF tohost address")
            if hasHTIF && !memory.contains(toHost, count: 8) {
                throw reader.invalid("HTIF tohost address 0x\(String(toHost, radix: 16)) lies outside RAM")
            }
            let hasFromHost = try reader.readBool("HTIF fromhost flag")
            let fromHost = try reader.readUInt64("HTIF fromhost address")
            let resetRequested = try reader.readBool("reset request flag")
            let bootDigest = try reader.readUInt64("boot image digest")
            guard bootDigest == bootImage.digest else {
                throw reader.invalid("the boot image digest is 0x\(String(bootDigest, radix: 16)), the machine's boot image has 0x\(String(bootImage.digest, radix: 16))")
            }
            servesSBI = sbi
            isResetRequested = resetRequested
            installHTIF(toHost: hasHTIF ? toHost : nil, fromHost: hasFromHost ? fromHost : nil)
        case .hart:
            let state = try HartArchitecturalState(from: &reader)
            guard state.instructionsPerTick == configuration.instructionsPerTick else {
                throw .configurationMismatch(field: "instructionsPerTick (hart)", snapshot: state.instructionsPerTick,
                                             machine: configuration.instructionsPerTick)
            }
            hart.importState(state)
        case .clint:
            try clint.restore(from: &reader)
        case .plic:
            try plic.restore(from: &reader)
        case .uart:
            try uart.restore(from: &reader)
        case .virtio:
            let count = try reader.readUInt32("virtio slot count")
            guard count == virtioSlots.count else {
                throw .deviceMismatch("the snapshot has \(count) virtio slots, this machine \(virtioSlots.count)")
            }
            for slot in virtioSlots { try slot.restore(from: &reader) }
        case .configuration, .base, .disk, .boot, .ram, .end:
            preconditionFailure("\(section.name) is not machine state")
        }
        try reader.expectEnd("section \(section.name)")
    }

    /// The machine state outside RAM as bytes (what the state hash and a base digest cover).
    package func machineStateBytes() -> [UInt8] {
        var writer = StateWriter(reservingCapacity: 4096)
        for section in SnapshotSection.machineState { saveMachineSection(section, to: &writer) }
        return writer.bytes
    }

    /// A digest of the machine state outside RAM.
    func machineStateDigest() -> UInt64 {
        var hasher = StateHasher()
        machineStateBytes().withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    // MARK: Restoring

    /// Restores a snapshot taken by ``saveSnapshot()``, or applies one taken by
    /// ``saveIncrementalSnapshot()`` to a machine in its base state.
    ///
    /// The machine must have the snapshot's configuration (``SnapshotInfo`` reads it) and disks
    /// with the identities the snapshot recorded, in the same order. Everything is checked before anything changes:
    /// on error the machine is as it was. On success dirty-page tracking is off and the machine
    /// continues exactly where the snapshot was taken.
    public func restoreSnapshot(_ bytes: [UInt8]) throws(SnapshotError) {
        let (kind, version, sections) = try SnapshotFormat.parse(bytes)
        var configurationReader = sections[.configuration]!
        let (snapshotConfiguration, snapshotCount) = try Machine.readConfiguration(&configurationReader, version: version)
        try checkConfiguration(snapshotConfiguration)
        if kind == .incremental {
            var reader = sections[.base]!
            let baseCount = try reader.readUInt64("base instruction count")
            let digest = try reader.readUInt64("base digest")
            try reader.expectEnd("section BASE")
            guard instructionCount == baseCount else {
                throw .baseMismatch("it applies to the machine at instruction \(baseCount), this machine is at instruction \(instructionCount)")
            }
            guard machineStateDigest() == digest else {
                throw .baseMismatch("the machine's registers and devices at instruction \(baseCount) differ from the base's")
            }
        }
        var diskReader = sections[.disk]!
        let snapshotDisks = try DiskIdentity.read(from: &diskReader, version: version)
        try diskReader.expectEnd("section DISK")
        // The owner may have changed a medium since this machine last saw it (a copy brought
        // up to date): the digests are read afresh, so the check is against the disks as they are.
        for disk in disks { disk.mediumChanged() }
        try checkDisks(snapshotDisks)
        var ramReader = sections[.ram]!
        let pages = try readRAM(&ramReader)
        var newBootImage: BootImage?
        if var bootReader = sections[.boot] {
            newBootImage = try BootImage(from: &bootReader, memory: memory, configuration: configuration)
        }

        // Everything outside RAM, all or nothing: on an error the machine gets its state back.
        var backup: [SnapshotSection: [UInt8]] = [:]
        for section in SnapshotSection.machineState {
            var writer = StateWriter()
            saveMachineSection(section, to: &writer)
            backup[section] = writer.bytes
        }
        let oldBootImage = bootImage
        do throws(SnapshotError) {
            if let newBootImage { bootImage = newBootImage }
            for section in Machine.restoreOrder {
                var reader = sections[section]!
                try restoreMachineSection(section, from: &reader)
            }
            guard hart.instructionCount == snapshotCount else {
                throw .invalidValue(offset: sections[.configuration]!.offset + 24,
                                    what: "the configuration says instruction \(snapshotCount), the hart \(hart.instructionCount)")
            }
        } catch {
            bootImage = oldBootImage
            for section in Machine.restoreOrder {
                var reader = StateReader(backup[section]!)
                do { try restoreMachineSection(section, from: &reader) } catch {
                    preconditionFailure("the machine could not take back its own state: \(error)")
                }
            }
            throw error
        }

        stopDirtyTracking()
        pendingStop = nil
        let pageSize = Int(GuestMemory.pageSize)
        var next = 0
        for page in pages {
            if kind == .full { zeroPages(next..<page.index) }
            let address = memory.base + UInt64(page.index * pageSize)
            if let data = page.data {
                memory.write(data, at: address)
            } else {
                memory.zero(at: address, count: pageSize)
            }
            next = page.index + 1
        }
        if kind == .full { zeroPages(next..<memory.pageCount) }
    }

    /// A page of the RAM section: its index and its bytes (nil: all zero).
    struct SavedPage {
        var index: Int
        var data: ArraySlice<UInt8>?
    }

    /// Reads and checks the whole RAM section without changing anything.
    private func readRAM(_ reader: inout StateReader) throws(SnapshotError) -> [SavedPage] {
        let pageSize = try reader.readUInt32("RAM page size")
        guard pageSize == GuestMemory.pageSize else { throw reader.invalid("RAM page size is \(pageSize), expected 4096") }
        let pageCount = try reader.readUInt32("RAM page count")
        guard pageCount == memory.pageCount else {
            throw reader.invalid("RAM has \(pageCount) pages, this machine \(memory.pageCount)")
        }
        let entries = try reader.readCount(maximum: memory.pageCount, "number of RAM pages stored")
        var pages: [SavedPage] = []
        pages.reserveCapacity(entries)
        var previous = -1
        for _ in 0..<entries {
            let index = Int(try reader.readUInt32("RAM page index"))
            guard index > previous, index < memory.pageCount else {
                throw reader.invalid(index >= memory.pageCount
                    ? "RAM page index \(index) is beyond the last page (\(memory.pageCount - 1))"
                    : "RAM page index \(index) does not follow \(previous): pages are stored in ascending order")
            }
            previous = index
            let encoding = try reader.readUInt8("encoding of RAM page \(index)")
            switch RAMEncoding(rawValue: encoding) {
            case .zero?: pages.append(SavedPage(index: index, data: nil))
            case .raw?: pages.append(SavedPage(index: index, data: try reader.readBytes(count: Int(pageSize), "RAM page \(index)")))
            case nil: throw reader.invalid("encoding of RAM page \(index) is \(encoding), expected 0 (zero) or 1 (raw)")
            }
        }
        try reader.expectEnd("section RAM")
        return pages
    }

    /// Zero-fills the pages in `range` that are not all zero already.
    func zeroPages(_ range: Range<Int>) {
        let pageSize = Int(GuestMemory.pageSize)
        for index in range where !memory.isUntouched(page: index) {
            let zero = memory.withRAMBytes { Machine.isZero(UnsafeRawBufferPointer(rebasing: $0[index * pageSize..<(index + 1) * pageSize])) }
            if !zero { memory.zero(at: memory.base + UInt64(index * pageSize), count: pageSize) }
        }
    }

    /// Reads the configuration section of a snapshot of format `version`: the configuration and
    /// the instruction count. Before version 5 the section has no MAC address: those snapshots
    /// were taken on machines with ``VirtioNetwork/defaultMAC``.
    static func readConfiguration(_ reader: inout StateReader, version: UInt32) throws(SnapshotError) -> (MachineConfiguration, UInt64) {
        let memorySize = try reader.readUInt64("memory size")
        let perTick = try reader.readUInt64("instructions per tick")
        guard perTick > 0 else { throw reader.invalid("instructions per tick is 0") }
        let seed = try reader.readUInt64("entropy seed")
        let count = try reader.readUInt64("instruction count")
        var mac = VirtioNetwork.defaultMAC
        if version >= SnapshotFormat.macVersion {
            mac = Array(try reader.readBytes(count: 6, "MAC address"))
        }
        try reader.expectEnd("section CONF")
        return (MachineConfiguration(memorySize: memorySize, instructionsPerTick: perTick, entropySeed: seed, mac: mac), count)
    }

    private func checkConfiguration(_ snapshot: MachineConfiguration) throws(SnapshotError) {
        let fields: [(String, UInt64, UInt64)] = [
            ("memory size", snapshot.memorySize, configuration.memorySize),
            ("instructionsPerTick", snapshot.instructionsPerTick, configuration.instructionsPerTick),
            ("entropySeed", snapshot.entropySeed, configuration.entropySeed),
        ]
        for (name, theirs, ours) in fields where theirs != ours {
            throw .configurationMismatch(field: name, snapshot: theirs, machine: ours)
        }
        guard snapshot.mac == configuration.mac else {
            throw .macAddressMismatch(snapshot: snapshot.mac, machine: configuration.mac)
        }
    }

    /// Checks that the machine's disks are the snapshot's: as many, and each with the identity
    /// the snapshot recorded for its place.
    private func checkDisks(_ snapshot: [DiskIdentity]) throws(SnapshotError) {
        func count(_ n: Int) -> String { n == 0 ? "no disk" : n == 1 ? "1 disk" : "\(n) disks" }
        guard snapshot.count == disks.count else {
            if snapshot.isEmpty {
                throw .diskMismatch("the snapshot was taken without a disk, this machine has \(count(disks.count)): create it without a disk")
            }
            throw .diskMismatch("the snapshot was taken with \(count(snapshot.count)) (\(snapshot.map(\.description).joined(separator: "; "))), this machine has \(count(disks.count)): attach the snapshot's disk images, in the order they had, as they were when the snapshot was taken")
        }
        for (index, (theirs, device)) in zip(snapshot, disks).enumerated() {
            // Which disk, when there are several: its place (1: the first, /dev/vda in Linux).
            let which = disks.count > 1 ? "disk \(index + 1) of \(disks.count): " : ""
            if device.storage.sectorCount != theirs.sectorCount || device.storage.isReadOnly != theirs.isReadOnly {
                throw .diskMismatch("\(which)the snapshot's disk has \(theirs.sectorCount) sectors\(theirs.isReadOnly ? " (read-only)" : ""), this machine's \(device.storage.sectorCount)\(device.storage.isReadOnly ? " (read-only)" : "")")
            }
            let ours = try DiskIdentity(of: device)
            guard ours == theirs else {
                throw .diskMismatch("\(which)its contents differ (hash 0x\(String(ours.contentHash, radix: 16)), the snapshot's 0x\(String(theirs.contentHash, radix: 16))): attach the disk image as it was when the snapshot was taken")
            }
        }
    }

    // MARK: Dirty pages

    /// Starts (or restarts) dirty-page tracking in RAM: the machine's state now becomes the base
    /// of the next ``saveIncrementalSnapshot()``. Call it between runs.
    public func startDirtyTracking() {
        memory.startDirtyTracking()
        dirtyTrackingBase = SnapshotBase(instructionCount: instructionCount, digest: machineStateDigest(),
                                         trackingGeneration: memory.dirtyTrackingGeneration)
    }

    /// Stops dirty-page tracking (stores go back to the fast path).
    public func stopDirtyTracking() {
        memory.stopDirtyTracking()
        dirtyTrackingBase = nil
    }
}
