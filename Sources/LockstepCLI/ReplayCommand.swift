import ArgumentParser
import LockstepSupport
import Machine
import Replay
#if canImport(Glibc)
import Glibc
#endif

/// `lockstep replay`: re-executes a recorded session without a terminal and checks it.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a session recorded with `lockstep run --record` and check it.",
        discussion: """
            Builds the same machine from the log's header (configuration, images checked by content \
            hash), delivers every recorded input at its instruction count, and compares the state \
            hashes, the console output and how the session ended. The guest's console output goes \
            to standard output, byte for byte as recorded.

            Recorded disks are taken from LOG.disk, LOG.disk2, ..., the copies `run --record` kept \
            of them as they were at the start (or --disk, given once per recorded disk in order, \
            or the recorded paths); replay never writes to them (it runs on copies in memory).

            Exit status: 0 when the replay matches; 3 when it diverges (the message names the \
            instruction count); 1 when the log or the images cannot be used.
            """
    )

    @Argument(help: ArgumentHelp("The event log written by `lockstep run --record`.", valueName: "log"))
    var log: String

    @Option(name: .long, help: ArgumentHelp("A disk image as it was when the session was recorded; give it once per recorded disk, in order (default: LOG.disk, LOG.disk2, ..., else the recorded paths).", valueName: "path"))
    var disk: [String] = []

    @OptionGroup var engineOption: EngineOption

    @Flag(name: .long, help: "Do not print the guest's console output.")
    var quiet = false

    func validate() throws {
        try DiskImageList.validate(disk)
    }

    func run() throws {
        let eventLog: EventLog
        do {
            eventLog = try EventLog(bytes: try readGuestFile(log, what: "event log"))
        } catch {
            printError("lockstep: \(log): \(error)")
            throw ExitCode(1)
        }
        let session = eventLog.session
        let machine: Machine
        do {
            machine = try buildMachine(session)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }

        let console = ConsoleWriter(descriptor: 1)
        let started = monotonicSeconds()
        let result: ReplayResult
        do {
            result = try Replayer.replay(eventLog, on: machine, output: { if !quiet { console.append($0) } })
        } catch {
            console.flush()
            printError("lockstep: \(error)")
            throw ExitCode(3)
        }
        console.flush()
        let elapsed = monotonicSeconds() - started
        printError("lockstep: replay matches: \(result.instructionCount) instructions, \(result.eventsApplied) inputs, "
            + "\(result.hashesMatched) state hashes, \(result.output.count) console bytes identical; "
            + "final state hash 0x\(String(result.stateHash, radix: 16)) (\(fixed(elapsed, digits: 2)) s)")
    }

    /// The machine the session started on, with its images checked against the recorded hashes.
    private func buildMachine(_ session: SessionDescription) throws(GuestFileError) -> Machine {
        let setup: GuestSetup
        switch session.boot {
        case .elf(let path, let hash):
            setup = try GuestSetup.elf(path: path)
            try check(setup.bootDescription == .elf(path: path, hash: hash), path: path, what: "program")
        case .linux(let kernelPath, _, let initrdPath, _, let commandLine):
            setup = try GuestSetup.linux(kernelPath: kernelPath, initrdPath: initrdPath, commandLine: commandLine)
            if case .linux(_, let kernelHash, _, let initrdHash, _) = setup.bootDescription,
               case .linux(_, let recordedKernel, _, let recordedInitrd, _) = session.boot {
                try check(kernelHash == recordedKernel, path: kernelPath, what: "kernel")
                try check(initrdHash == recordedInitrd, path: initrdPath ?? "", what: "initrd")
            }
        }
        guard disk.isEmpty || disk.count == session.disks.count else {
            throw GuestFileError(path: log, what: "event log",
                                 reason: "the session was recorded with \(session.disks.count) disk(s), --disk is given \(disk.count) time(s): give it once per recorded disk, in order, or not at all (LOG.disk, LOG.disk2, ... or the recorded paths are used)")
        }
        var storages: [MemoryBlockStorage] = []
        for (index, recorded) in session.disks.enumerated() {
            // The copy `run --record` kept beside the log, else the recorded path.
            let saved = DiskImageList.keptCopy(of: log, index: index)
            let path = disk.isEmpty ? (access(saved, F_OK) == 0 ? saved : recorded.path) : disk[index]
            let bytes = try readGuestFile(path, what: "disk image")
            try check(UInt64(bytes.count) == recorded.byteCount && SessionDescription.contentHash(bytes) == recorded.hash,
                      path: path, what: "disk image")
            storages.append(MemoryBlockStorage(contents: bytes))
        }
        let machine: Machine
        do {
            machine = try Machine(configuration: session.configuration, disks: storages)
        } catch {
            throw GuestFileError(path: log, what: "event log", reason: "its machine cannot be built: \(error)")
        }
        try setup.prepare(machine)
        engineOption.apply(to: machine)
        return machine
    }

    private func check(_ same: Bool, path: String, what: String) throws(GuestFileError) {
        guard same else {
            throw GuestFileError(path: path, what: what,
                                 reason: "differs from the one the session was recorded with (content hash mismatch); replay needs the same file")
        }
    }
}
