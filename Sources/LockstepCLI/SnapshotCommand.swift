import ArgumentParser
import HostIO
import Machine
#if canImport(Glibc)
import Glibc
#endif

/// `lockstep snapshot`: runs a guest deterministically (no input; idle time jumps to the next
/// timer) up to an instruction count and writes a snapshot of the whole machine, which
/// `lockstep run --restore` continues from.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Run a guest to an instruction count and save a snapshot of the whole machine.",
        discussion: """
            Boots the default Linux guest (or --kernel/--initrd/--append, or a bare-metal --elf \
            program), runs it with no input to the instruction count given with --at, and writes \
            the machine's complete state (hart, devices, RAM, the disks' identities) to --output, \
            and each --disk as it is then beside it (FILE.disk, FILE.disk2, ...). Continue it with \
            `lockstep run --restore FILE`. The format is described in docs/snapshots.md.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Instruction count at which to take the snapshot.", valueName: "count"))
    var at: UInt64

    @Option(name: .long, help: ArgumentHelp("Where to write the snapshot.", valueName: "path"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Bare-metal RISC-V ELF program to run.", valueName: "path"))
    var elf: String?

    @Option(name: .long, help: ArgumentHelp("RISC-V Linux kernel Image to boot.", valueName: "path"))
    var kernel: String?

    @Option(name: .long, help: ArgumentHelp("Initial ramdisk for the kernel.", valueName: "path"))
    var initrd: String?

    @Option(name: .long, help: ArgumentHelp("Kernel command line.", valueName: "cmdline"))
    var append: String?

    @Option(name: .long, help: ArgumentHelp(DiskImageList.help, valueName: "path"))
    var disk: [String] = []

    @Option(name: .long, help: ArgumentHelp("Guest RAM size in MiB.", valueName: "MiB"))
    var memory: UInt64 = 128

    @Option(name: .long, help: ArgumentHelp("The network card's MAC address (default \(MACAddress.format(VirtioNetwork.defaultMAC))); `run --restore` keeps it.", valueName: "mac"))
    var mac: String?

    func validate() throws {
        try DiskImageList.validate(disk)
        _ = try mac.map(GuestOptions.parseMAC)
    }

    func run() throws {
        let setup: GuestSetup
        do {
            if let elf {
                setup = try GuestSetup.elf(path: elf)
            } else if let kernel {
                setup = try GuestSetup.linux(kernelPath: kernel, initrdPath: initrd, commandLine: append ?? GuestOptions.defaultCommandLine)
            } else {
                let guest = try DefaultGuest.locate()
                setup = try GuestSetup.linux(kernelPath: guest.kernel, initrdPath: guest.initrd, commandLine: GuestOptions.defaultCommandLine)
            }
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        let machine: Machine
        do {
            let storages = try disk.map { path throws in try FileDisk(path: path) }
            let address = try mac.map(GuestOptions.parseMAC) ?? VirtioNetwork.defaultMAC
            machine = try Machine(configuration: MachineConfiguration(memorySize: memory << 20, mac: address), disks: storages)
            try setup.prepare(machine)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        machine.skipsIdleTime = true   // deterministic: no host clock decides anything
        let console = ConsoleWriter(descriptor: 1)
        machine.routeConsole { console.append($0) }
        let reason = machine.run(instructionLimit: at)
        console.flush()
        guard reason == .instructionLimit, machine.instructionCount == at else {
            printError("lockstep: the guest stopped (\(reason)) at instruction \(machine.instructionCount), before --at \(at); no snapshot written")
            throw ExitCode(1)
        }
        let bytes: [UInt8]
        do {
            bytes = try machine.saveSnapshot()
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        do {
            try writeFile(output, bytes)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        printError("lockstep: snapshot at instruction \(at) written to \(output) (\(bytes.count) bytes)")
        for (index, image) in disk.enumerated() {
            // The disk as it is at the snapshot, kept beside it: `run --restore` uses a copy of it.
            let kept = DiskImageList.keptCopy(of: output, index: index)
            do {
                try DiskImageCopy.copy(from: image, to: kept)
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
            let which = disk.count > 1 ? DiskImageList.name(index) : "disk"
            printError("lockstep: the \(which) at that instruction is saved in \(kept)")
        }
    }
}

/// Writes a whole file (created or truncated), with a clear error.
func writeFile(_ path: String, _ bytes: [UInt8]) throws(GuestFileError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw GuestFileError(path: path, what: "output", reason: String(cString: strerror(errno))) }
    defer { close(descriptor) }
    var start = 0
    while start < bytes.count {
        let written = bytes[start...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            throw GuestFileError(path: path, what: "output", reason: String(cString: strerror(errno)))
        }
        start += written
    }
}
