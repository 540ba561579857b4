import ArgumentParser
import ELF
import HostIO
import JIT
import LockstepSupport
import Replay
import Machine
import RISCV
import RISCVDisassembler
#if canImport(Glibc)
import Glibc
#endif

/// `lockstep run`: boots a machine and runs a program on it with the console on the terminal.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Linux guest or a bare-metal program on a Lockstep machine.",
        discussion: """
            With no arguments, boots the default Linux guest (built by guests/linux/build.sh and \
            cached in $LOCKSTEP_CACHE or ~/.cache/lockstep) to a shell on this terminal. Ctrl-A X \
            quits; Ctrl-A Ctrl-A sends Ctrl-A. --kernel, --initrd, --append, --disk and --memory \
            behave like QEMU's; --append alone boots the default guest with that command line.

            --boot-from-disk boots the kernel and initrd installed in --disk's ext4 root file \
            system instead, as a boot loader would (Debian's /vmlinuz and /initrd.img, or the \
            newest /boot/vmlinuz-* and its initrd; gzip-compressed kernels are decompressed), read \
            with e2fsprogs' debugfs before the guest starts. With --record they are saved as \
            LOG.kernel and LOG.initrd for the replay.

            With --console-port, the guest console is a TCP port instead of the terminal (like \
            QEMU's -serial tcp::PORT,server,nowait): any number of clients may connect, what they \
            send reaches the guest, what the guest prints goes to all of them. Standard input is not \
            read. Once listening, `lockstep: console on HOST:PORT` is printed to standard error.

            --netdev gives a Linux guest its network as QEMU's -netdev does: `user` (the \
            default: user-mode networking through libslirp, no root needed; the guest is \
            10.0.2.15 behind a NAT at 10.0.2.2; add `,hostfwd=tcp:127.0.0.1:8080-:80` to reach a \
            guest port from the host), `tap,ifname=NAME`, `bridge,br=BRIDGE` (a new TAP on that \
            bridge, removed at exit), or `none`. A bare-metal program (--elf) has no network \
            unless --netdev is given. --mac gives the network card its MAC address (default \
            52:54:00:12:34:56, QEMU's); give each guest on one LAN its own.

            With --elf, runs a bare-metal RISC-V ELF program (RV64GC, linked at 0x80000000 like \
            QEMU's virt machine) and exits with the program's exit code (SiFive test device or HTIF \
            tohost). Bare-metal execution is fully deterministic: the same program always retires \
            the same instructions and prints the same bytes.

            Exit status: the guest's exit code (a Linux guest that powers off exits 0); 124 when \
            --max-instructions stopped it; 125 when the guest idles forever (WFI with nothing to wake \
            it); 1 for errors before the guest starts.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Bare-metal RISC-V ELF program to run.", valueName: "path"))
    var elf: String?

    @OptionGroup
    var guest: GuestOptions

    @Option(name: .long, help: ArgumentHelp(DiskImageList.help + " Written in place.", valueName: "path"))
    var disk: [String] = []

    @Option(name: .long, help: ArgumentHelp("Stop after this many retired instructions and say so.", valueName: "count"))
    var maxInstructions: UInt64?

    @Flag(name: .long, help: "Print every retired instruction (pc, encoding, disassembly) to standard error.")
    var trace = false

    @Flag(name: .long, help: "Print the retired instruction count, run time and guest MIPS to standard error at the end.")
    var stats = false

    @Option(name: .long, help: ArgumentHelp("Record the session (every input with its instruction count, state hashes) into this event log; `lockstep replay` re-executes it.", valueName: "path"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Continue from a snapshot written by `lockstep snapshot` instead of booting: on copies of the disks kept beside it (SNAPSHOT.disk, SNAPSHOT.disk2, ...), or on the --disk images given, in the snapshot's order. The guest keeps the snapshot's MAC address (--mac, if given, must be it).", valueName: "path"))
    var restore: String?

    @Option(name: .long, help: ArgumentHelp("Put the guest console on this TCP port instead of the terminal (0: any free port; the port is printed to standard error).", valueName: "port"))
    var consolePort: UInt16?

    @Option(name: .long, help: ArgumentHelp("The address --console-port listens on (default 127.0.0.1; 0.0.0.0 for every interface).", valueName: "address"))
    var consoleHost: String?

    @Option(name: .long, help: ArgumentHelp("The guest's network, as QEMU's -netdev: user[,hostfwd=tcp:ADDR:PORT-:GUESTPORT]... (default for a Linux guest), tap,ifname=NAME, bridge,br=BRIDGE, or none.", valueName: "spec"))
    var netdev: String?

    func validate() throws {
        try DiskImageList.validate(disk)
        if elf != nil && (guest.namesLinuxGuest || !disk.isEmpty) {
            throw ValidationError("--elf runs a bare-metal program; it cannot be combined with --kernel, --initrd, --append, --boot-from-disk or --disk")
        }
        if restore != nil && (elf != nil || guest.namesLinuxGuest || record != nil) {
            throw ValidationError("--restore continues a snapshot: it cannot be combined with --elf, --kernel, --initrd, --append, --boot-from-disk or --record")
        }
        try guest.validateBootDisk(disk.first)
        if record != nil && trace {
            throw ValidationError("--record and --trace cannot be combined")
        }
        if consolePort != nil && trace {
            throw ValidationError("--console-port and --trace cannot be combined (a traced run reads no console input)")
        }
        if consoleHost != nil && consolePort == nil {
            throw ValidationError("--console-host needs --console-port")
        }
        if let netdev {
            do { _ = try NetdevConfiguration(parsing: netdev) } catch { throw ValidationError("\(error)") }
            if trace { throw ValidationError("--netdev and --trace cannot be combined (a traced run takes no input)") }
        }
    }

    /// The network backend --netdev asks for (user mode by default for a Linux guest; none for a
    /// bare-metal program or a traced run unless named). Its configuration is checked now.
    private func makeNetwork(linuxGuest: Bool) throws -> (any NetworkBackend)? {
        guard !trace else { return nil }
        guard let spec = netdev ?? (linuxGuest ? "user" : nil) else { return nil }
        do {
            return try makeNetworkBackend(try NetdevConfiguration(parsing: spec))
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
    }

    func run() throws {
        if let restore { return try runRestored(restore) }
        var setup: GuestSetup
        do {
            setup = try resolveGuest()
            // The disk changes as the session runs: a replay reads the boot files kept here.
            if let record, guest.bootFromDisk {
                setup = try setup.savingBootFiles(beside: record)
                printError("lockstep: the kernel and initrd read from the disk are saved in \(record).kernel and \(record).initrd (replay uses them)")
            }
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        var storages: [FileDisk] = []
        var diskDescriptions: [SessionDescription.Disk] = []
        for (index, disk) in disk.enumerated() {
            do {
                storages.append(try FileDisk(path: disk))
                if let record {
                    let bytes = try readGuestFile(disk, what: "disk image")
                    diskDescriptions.append(.init(path: disk, byteCount: UInt64(bytes.count), hash: SessionDescription.contentHash(bytes)))
                    // The session writes the disk: keep it as it was at the start for the replay.
                    let kept = DiskImageList.keptCopy(of: record, index: index)
                    try DiskImageCopy.copy(from: disk, to: kept)
                    let which = self.disk.count > 1 ? "\(DiskImageList.name(index)) " : "disk "
                    printError("lockstep: the \(which)as it was at the start is saved in \(kept) (replay uses it)")
                }
            } catch {
                printError("lockstep: disk image \(disk): \(error)")
                throw ExitCode(1)
            }
        }
        let (input, console) = try makeConsole()
        let network = try makeNetwork(linuxGuest: setup.isLinux)
        defer { network?.close() }
        // A Linux guest that reboots (SBI system reset) boots again on the same machine, as on
        // QEMU (the live runner reboots it, and a recording logs the reboot); a bare-metal
        // program that asks for a reset stops.
        let machine = try makeMachine(setup, disks: storages)
        var recorder: Recorder?
        if let record {
            let session = SessionDescription(configuration: machine.configuration, boot: setup.bootDescription,
                                             disks: diskDescriptions, initialStateHash: machine.stateHash())
            do {
                recorder = Recorder(writer: try EventLogWriter(path: record, session: session))
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
        }
        let (stop, outputs) = try runOnce(machine, input: input, console: console, network: network, recorder: recorder)
        if let recorder {
            let end: SessionEnd.Stop
            switch stop {
            case .machine(.exited(let code)): end = .exited(code: code)
            case .machine(.resetRequested): end = .reset
            default: end = .stoppedByHost
            }
            do {
                try recorder.finish(end, machine: machine, outputs: outputs)
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
        }
        try report(stop, machine: machine)
    }

    /// Continues a snapshot interactively.
    private func runRestored(_ path: String) throws {
        var restoredDiskCopies: [String] = []
        defer { for copy in restoredDiskCopies { unlink(copy) } }
        let machine: Machine
        do {
            let bytes = try readGuestFile(path, what: "snapshot")
            let info = try SnapshotInfo(bytes)
            var diskPaths = disk
            let kept = info.disks.indices.map { DiskImageList.keptCopy(of: path, index: $0) }
            if diskPaths.isEmpty, !kept.isEmpty {
                // The disks saved with the snapshot: the run gets private copies, so that the
                // snapshot stays restorable (give --disk to keep what the run writes).
                if let missing = kept.first(where: { access($0, F_OK) != 0 }) {
                    throw GuestFileError(path: missing, what: "disk image", reason: "the snapshot was taken with \(kept.count) disk(s) and this copy of one is missing: keep \(kept.joined(separator: ", ")) beside the snapshot, or give --disk \(kept.count) time(s) with the images as they were at the snapshot, in order")
                }
                let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
                for (index, source) in kept.enumerated() {
                    let copy = "\(directory)/lockstep-restore-\(getpid())-\(index + 1).img"
                    try DiskImageCopy.copy(from: source, to: copy)
                    restoredDiskCopies.append(copy)
                }
                diskPaths = restoredDiskCopies
                printError("lockstep: running on a copy of \(kept.joined(separator: ", ")) (the snapshot stays restorable; --disk keeps the changes)")
            }
            let storages = try diskPaths.map { path throws in try FileDisk(path: path) }
            // The snapshot's MAC address; --mac, if given, must be it (the restore says so).
            var configuration = info.configuration
            if guest.mac != nil { configuration.mac = try guest.macAddress }
            machine = try Machine(configuration: configuration, disks: storages)
            try machine.restoreSnapshot(bytes)
            guest.engineOption.apply(to: machine)
        } catch {
            printError("lockstep: \(path): \(error)")
            throw ExitCode(1)
        }
        let (input, console) = try makeConsole()
        let network = try makeNetwork(linuxGuest: machine.servesSBI)
        defer { network?.close() }
        try report(try runOnce(machine, input: input, console: console, network: network, recorder: nil).stop, machine: machine)
    }

    /// What the flags ask to boot (the default guest when nothing is named).
    private func resolveGuest() throws(GuestFileError) -> GuestSetup {
        if let elf { return try GuestSetup.elf(path: elf) }
        return try guest.linuxSetup(bootDisk: disk.first)
    }

    /// Where the console goes: the terminal, or with --console-port a TCP port (announced on
    /// standard error once listening). No input when tracing.
    private func makeConsole() throws -> (input: (any ConsoleBackend)?, output: ConsoleWriter) {
        guard let consolePort else {
            guard !trace else { return (nil, ConsoleWriter(descriptor: 1)) }
            let terminal = TerminalConsole()
            return (terminal, ConsoleWriter { terminal.write($0) })
        }
        let tcp: TCPConsole
        do {
            tcp = try TCPConsole(host: consoleHost ?? "127.0.0.1", port: consolePort)
        } catch {
            printError("lockstep: --console-port: \(error)")
            throw ExitCode(1)
        }
        printError("lockstep: console on \(tcp.address)")
        return (tcp, ConsoleWriter { tcp.write($0) })
    }

    /// A new machine with the program or kernel loaded, ready to run.
    private func makeMachine(_ setup: GuestSetup, disks storages: [FileDisk]) throws -> Machine {
        let machine: Machine
        do {
            // Fresh guest randomness per run (a reboot continues the entropy stream); a recorded
            // session stores the seed.
            let configuration = MachineConfiguration(memorySize: guest.memory << 20, entropySeed: UInt64.random(in: 0...UInt64.max),
                                                     mac: try guest.macAddress)
            machine = try Machine(configuration: configuration, disks: storages)
            try setup.prepare(machine)
            guest.engineOption.apply(to: machine)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        return machine
    }

    /// How a run ended: the machine stopped, or the user quit (Ctrl-A X).
    enum RunStop: Equatable {
        case machine(Machine.StopReason)
        case quit
    }

    /// Runs the machine until it stops, printing statistics if asked; returns how it stopped and
    /// the digest of every output (for the recording's end record).
    private func runOnce(_ machine: Machine, input: (any ConsoleBackend)?, console: ConsoleWriter,
                         network: (any NetworkBackend)?, recorder: Recorder?) throws -> (stop: RunStop, outputs: OutputDigest) {
        let limit = maxInstructions ?? .max
        if stats { machine.timeTranslations(with: monotonicNanoseconds) }
        let started = monotonicSeconds()
        let stop: RunStop
        var outputs = OutputDigest()
        if let input {
            do {
                (stop, outputs) = try runInteractive(machine, limit: limit, console: console, input: input, network: network,
                                                     recorder: recorder)
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
        } else {
            machine.routeConsole { console.append($0) }
            stop = .machine(runTraced(machine, limit: limit))
        }
        console.flush()
        let elapsed = monotonicSeconds() - started
        if stats {
            let count = machine.instructionCount
            let mips = elapsed > 0 ? Double(count) / elapsed / 1e6 : 0
            printError("lockstep: \(count) instructions in \(fixed(elapsed, digits: 3)) s (\(fixed(mips, digits: 1)) MIPS)")
            if let jit = machine.jitStatistics { printError(Self.describe(jit, elapsed: elapsed)) }
        }
        return (stop, outputs)
    }

    /// The translator's work and memory as `--stats` prints it.
    static func describe(_ jit: JITStatistics, elapsed: Double) -> String {
        func kib(_ bytes: Int) -> String { "\(fixed(Double(bytes) / 1024, digits: 1)) KiB" }
        let time = jit.translationNanoseconds.map { nanoseconds -> String in
            let seconds = Double(nanoseconds) / 1e9
            return ", \(fixed(seconds * 1000, digits: 1)) ms translating (\(fixed(elapsed > 0 ? 100 * seconds / elapsed : 0, digits: 1))% of the run"
                + ", \(fixed(jit.blocksTranslated > 0 ? Double(nanoseconds) / Double(jit.blocksTranslated) / 1000 : 0, digits: 1)) µs a block)"
        } ?? ""
        return "lockstep: jit: \(jit.blocksTranslated) blocks translated (\(kib(jit.guestBytesTranslated)) of guest code into "
            + "\(kib(jit.codeBytesEmitted)) of x86-64\(time); code buffer \(kib(jit.codeBytesInUse)) of \(kib(jit.codeBufferCapacity)) in use, "
            + "\(jit.bufferResets) resets (\(jit.allocationChanges) for a new register allocation); tables \(kib(jit.tableBytes)); \(jit.chainsPatched) exits chained; "
            + "the interpreter ran \(jit.singleInstructions) single instructions and \(jit.coldStretches) stretches of code not translated yet"
    }

    /// Turns how the guest stopped into the exit status (and a message when it is not the guest's own code).
    private func report(_ stop: RunStop, machine: Machine) throws {
        guard case .machine(let reason) = stop else { return }   // Ctrl-A X: exit 0
        switch reason {
        case .exited(let code):
            if code != 0 { throw ExitCode(code) }
        case .instructionLimit:
            printError("lockstep: stopped after \(machine.instructionCount) instructions (--max-instructions) at pc 0x\(String(machine.hart.pc, radix: 16))")
            throw ExitCode(124)
        case .diskFlushed:
            break   // never asked for by `run`
        case .idle, .waitingForInterrupt:
            printError("lockstep: the guest waits for an interrupt that can never arrive (WFI with no timer armed) at pc 0x\(String(machine.hart.pc, radix: 16)); stopping")
            throw ExitCode(125)
        case .resetRequested:
            printError("lockstep: the guest asked for a reset; a bare-metal program stops instead" + (record != nil ? " (the recording ends here)" : ""))
        }
    }

    /// Runs the machine with the live runner (the same engine as a replicated primary): console
    /// input (terminal or TCP) is delivered between slices, real time passes while a kernel
    /// idles, and with a recorder every input and checkpoint is logged. Nobody follows this run,
    /// so outputs go straight to the console and the network. Frames from the network are inputs
    /// like typed bytes; their arrival wakes the console's wait.
    private func runInteractive(_ machine: Machine, limit: UInt64, console: ConsoleWriter, input: any ConsoleBackend,
                                network: (any NetworkBackend)?, recorder: Recorder?) throws -> (RunStop, OutputDigest) {
        var settings = LiveRunner.Settings()
        // A kernel (the machine serves SBI) lives in real time and reboots when it asks to; a
        // bare-metal program stays deterministic and stops when it asks for a reset.
        settings.idlesInRealTime = machine.servesSBI
        settings.rebootsOnReset = machine.servesSBI
        if network != nil { settings.slice = LiveRunner.Settings.networkSlice }
        let runner = LiveRunner(machine: machine, journal: recorder ?? DiscardingJournal(),
                                outputs: RunOutputs(console: console, network: network),
                                settings: settings, clock: monotonicSeconds)
        if let network {
            let waker = ConsoleWaker(console: input)
            try network.start(onFrame: { waker.console.wake() })
            // Said only when asked for: the default's line would mix with the guest's console.
            if netdev != nil { printError("lockstep: network: \(network.summary)") }
        }
        while true {
            let wait: Double
            switch try runner.step(limit: limit) {
            case .ran, .flushed:
                wait = 0
            case .rebooted:
                console.flush()
                printError("lockstep: the guest rebooted")
                wait = 0
            case .idle(let deadline, let timerArmed):
                if !timerArmed && input.isClosed { return (.machine(.idle), runner.outputDigest) }
                wait = max(0, deadline - monotonicSeconds())
            case .stopped(let reason):
                return (.machine(reason), runner.outputDigest)
            }
            console.flush()
            switch input.poll(timeout: network?.hasFrames == true ? 0 : wait) {
            case .quit: return (.quit, runner.outputDigest)
            case .bytes(let bytes): if !bytes.isEmpty { try runner.deliver(.consoleBytes(bytes)) }
            }
            if let network {
                for frame in network.takeFrames() { try runner.deliver(.networkFrame(frame)) }
            }
        }
    }

    /// Single-steps, printing each instruction that retires.
    private func runTraced(_ machine: Machine, limit: UInt64) -> Machine.StopReason {
        let trace = ConsoleWriter(descriptor: 2)
        while true {
            let pc = machine.hart.pc
            let before = machine.instructionCount
            let bits = machine.hart.instructionBits(at: pc)
            let reason = machine.run(instructionLimit: min(limit, before &+ 1))
            if machine.instructionCount > before, let bits {
                let width = bits & 3 == 3 ? 8 : 4
                let encoding = String(bits, radix: 16)
                let padded = String(repeating: "0", count: max(0, width - encoding.count)) + encoding
                let pcText = String(pc, radix: 16)
                let line = String(repeating: "0", count: max(0, 16 - pcText.count)) + pcText + ": " + padded + "  "
                    + RISCVDisassembler.disassemble(bits, pc: pc) + "\n"
                for byte in line.utf8 { trace.append(byte) }
            }
            if reason == .resetRequested && machine.servesSBI {
                trace.flush()
                printError("lockstep: the guest rebooted")
                machine.reboot()
                continue
            }
            if reason != .instructionLimit || machine.instructionCount >= limit { trace.flush(); return reason }
        }
    }
}

/// Carries a console to the network backend's thread for ``ConsoleBackend/wake()``, which the
/// protocol requires to be callable from any thread (the only member called there).
private struct ConsoleWaker: @unchecked Sendable {
    let console: any ConsoleBackend
}

/// Writes a line to standard error.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// `value` with a fixed number of decimal digits (no Foundation needed).
func fixed(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(abs(scaled % Int64(scale)))
    while fraction.count < digits { fraction = "0" + fraction }
    return digits == 0 ? "\(whole)" : "\(whole).\(fraction)"
}
