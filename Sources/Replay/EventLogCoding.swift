import Machine

/// Encoding and decoding of the session description and the records (see ``EventLogFormat``).
enum EventLogCoding {
    static func encode(_ session: SessionDescription) -> [UInt8] {
        var w = ByteWriter()
        w.u64(session.configuration.memorySize)
        w.u64(session.configuration.instructionsPerTick)
        w.u64(session.configuration.entropySeed)
        w.bytes += session.configuration.mac
        switch session.boot {
        case .elf(let path, let hash):
            w.u8(0)
            w.string(path)
            w.u64(hash)
        case .linux(let kernelPath, let kernelHash, let initrdPath, let initrdHash, let commandLine):
            w.u8(1)
            w.string(kernelPath)
            w.u64(kernelHash)
            w.u8(initrdPath == nil ? 0 : 1)
            if let initrdPath, let initrdHash {
                w.string(initrdPath)
                w.u64(initrdHash)
            }
            w.string(commandLine)
        }
        w.u32(UInt32(session.disks.count))
        for disk in session.disks {
            w.string(disk.path)
            w.u64(disk.byteCount)
            w.u64(disk.hash)
        }
        w.u64(session.initialStateHash)
        return w.bytes
    }

    /// Reads a session description written by ``encode(_:)-(SessionDescription)``, or by format
    /// `version` 3 (a presence flag and at most one disk where version 4 has a disk count) or 3
    /// to 5 (no MAC address: those sessions ran with ``VirtioNetwork/defaultMAC``).
    static func decodeSession(_ r: inout ByteReader, version: UInt16 = EventLogFormat.version) throws(EventLogError) -> SessionDescription {
        let memorySize = try r.u64("the memory size")
        let instructionsPerTick = try r.u64("instructions per tick")
        let entropySeed = try r.u64("the entropy seed")
        var mac = VirtioNetwork.defaultMAC
        if version >= EventLogFormat.macVersion {
            mac = Array(try r.take(6, "the MAC address"))
        }
        let kindOffset = r.offset
        let boot: SessionDescription.Boot
        switch try r.u8("the boot kind") {
        case 0:
            boot = .elf(path: try r.string("the program path"), hash: try r.u64("the program hash"))
        case 1:
            let kernelPath = try r.string("the kernel path")
            let kernelHash = try r.u64("the kernel hash")
            var initrdPath: String?, initrdHash: UInt64?
            if try r.u8("the initrd flag") != 0 {
                initrdPath = try r.string("the initrd path")
                initrdHash = try r.u64("the initrd hash")
            }
            boot = .linux(kernelPath: kernelPath, kernelHash: kernelHash, initrdPath: initrdPath,
                          initrdHash: initrdHash, commandLine: try r.string("the kernel command line"))
        case let other:
            throw .malformed(offset: kindOffset, what: "unknown boot kind \(other)")
        }
        func readDisk() throws(EventLogError) -> SessionDescription.Disk {
            .init(path: try r.string("the disk path"), byteCount: try r.u64("the disk size"), hash: try r.u64("the disk hash"))
        }
        var disks: [SessionDescription.Disk] = []
        if version < 4 {
            if try r.u8("the disk flag") != 0 { disks.append(try readDisk()) }
        } else {
            let countOffset = r.offset
            let count = try r.u32("the disk count")
            guard count <= UInt32(Machine.maximumDiskCount) else {
                throw .malformed(offset: countOffset, what: "\(count) disks (a machine has at most \(Machine.maximumDiskCount))")
            }
            for _ in 0..<count { disks.append(try readDisk()) }
        }
        let initial = try r.u64("the initial state hash")
        guard instructionsPerTick > 0 else { throw .malformed(offset: 8, what: "instructions per tick is 0") }
        return SessionDescription(
            configuration: MachineConfiguration(memorySize: memorySize, instructionsPerTick: instructionsPerTick, entropySeed: entropySeed,
                                                mac: mac),
            boot: boot, disks: disks, initialStateHash: initial)
    }

    /// Kind byte followed by the payload.
    static func encode(_ record: LogRecord) -> [UInt8] {
        var w = ByteWriter()
        switch record {
        case .event(let event):
            w.u8(EventLogFormat.RecordKind.event.rawValue)
            w.u64(event.instructionCount)
            switch event.input {
            case .consoleBytes(let bytes):
                w.u8(EventLogFormat.InputKind.consoleBytes.rawValue)
                w.data(bytes)
            case .networkFrame(let frame):
                w.u8(EventLogFormat.InputKind.networkFrame.rawValue)
                w.data(frame)
            case .timeAdvance(let ticks):
                w.u8(EventLogFormat.InputKind.timeAdvance.rawValue)
                w.u64(ticks)
            case .networkAnnounce:
                w.u8(EventLogFormat.InputKind.networkAnnounce.rawValue)
            case .reboot:
                w.u8(EventLogFormat.InputKind.reboot.rawValue)
            }
        case .checkpoint(let checkpoint):
            w.u8(EventLogFormat.RecordKind.checkpoint.rawValue)
            w.bytes += checkpoint.encoded()
        case .end(let end):
            w.u8(EventLogFormat.RecordKind.end.rawValue)
            w.u64(end.instructionCount)
            w.u64(end.stateHash)
            w.u64(end.outputByteCount)
            w.u64(end.outputHash)
            switch end.stop {
            case .exited(let code): w.u8(0); w.u32(UInt32(bitPattern: code))
            case .reset: w.u8(1); w.u32(0)
            case .stoppedByHost: w.u8(2); w.u32(0)
            }
        }
        return w.bytes
    }

    /// Reads a record written by ``encode(_:)-(LogRecord)``, or by format `version` 3 or 4 (a
    /// checkpoint without the disk part).
    static func decodeRecord(_ r: inout ByteReader, version: UInt16 = EventLogFormat.version) throws(EventLogError) -> LogRecord {
        let kindOffset = r.offset
        guard let kind = EventLogFormat.RecordKind(rawValue: try r.u8("a record kind")) else {
            throw .malformed(offset: kindOffset, what: "unknown record kind \(r.bytes[kindOffset])")
        }
        switch kind {
        case .event:
            let count = try r.u64("the event's instruction count")
            let inputOffset = r.offset
            switch EventLogFormat.InputKind(rawValue: try r.u8("an input kind")) {
            case .consoleBytes?: return .event(Event(instructionCount: count, input: .consoleBytes(try r.data("console bytes"))))
            case .networkFrame?: return .event(Event(instructionCount: count, input: .networkFrame(try r.data("a network frame"))))
            case .timeAdvance?: return .event(Event(instructionCount: count, input: .timeAdvance(ticks: try r.u64("a time advance"))))
            case .networkAnnounce?: return .event(Event(instructionCount: count, input: .networkAnnounce))
            case .reboot?: return .event(Event(instructionCount: count, input: .reboot))
            case nil: throw .malformed(offset: inputOffset, what: "unknown input kind \(r.bytes[inputOffset])")
            }
        case .checkpoint:
            return .checkpoint(try Checkpoint.decode(&r, withDiskPart: version >= EventLogFormat.checkpointDisksVersion))
        case .end:
            let count = try r.u64("the end's instruction count")
            let hash = try r.u64("the final state hash")
            let outputBytes = try r.u64("the output length")
            let outputHash = try r.u64("the output hash")
            let stopOffset = r.offset
            let stopKind = try r.u8("the stop reason")
            let code = Int32(bitPattern: try r.u32("the exit code"))
            let stop: SessionEnd.Stop
            switch stopKind {
            case 0: stop = .exited(code: code)
            case 1: stop = .reset
            case 2: stop = .stoppedByHost
            default: throw .malformed(offset: stopOffset, what: "unknown stop reason \(stopKind)")
            }
            return .end(SessionEnd(instructionCount: count, stateHash: hash, outputByteCount: outputBytes, outputHash: outputHash, stop: stop))
        }
    }
}
