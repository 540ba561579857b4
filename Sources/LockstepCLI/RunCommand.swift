import ArgumentParser
import ELF
import HostIO
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
            behave like QEMU's.

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

    @Option(name: .long, help: ArgumentHelp("RISC-V Linux kernel Image to boot (arch/riscv/boot/Image).", valueName: "path"))
    var kernel: String?

    @Option(name: .long, help: ArgumentHelp("Initial ramdisk for the kernel (e.g. a cpio.gz).", valueName: "path"))
    var initrd: String?

    @Option(name: .long, help: ArgumentHelp("Kernel command line.", valueName: "cmdline"))
    var append: String?

    @Option(name: .long, help: ArgumentHelp("Raw disk image attached as a virtio-blk disk (/dev/vda); written in place.", valueName: "path"))
    var disk: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this many retired instructions and say so.", valueName: "count"))
    var maxInstructions: UInt64?

    @Flag(name: .long, help: "Print every retired instruction (pc, encoding, disassembly) to standard error.")
    var trace = false

    @Option(name: .long, help: ArgumentHelp("Guest RAM size in MiB.", valueName: "MiB"))
    var memory: UInt64 = 128

    @Flag(name: .long, help: "Print the retired instruction count, run time and guest MIPS to standard error at the end.")
    var stats = false

    /// The kernel command line when none is given.
    static let defaultCommandLine = "console=ttyS0"

    func validate() throws {
        guard memory >= 1, memory <= 65536 else {
            throw ValidationError("--memory must be between 1 and 65536 MiB (got \(memory))")
        }
        if elf != nil && (kernel != nil || initrd != nil || append != nil || disk != nil) {
            throw ValidationError("--elf runs a bare-metal program; it cannot be combined with --kernel, --initrd, --append or --disk")
        }
        if kernel == nil && (initrd != nil || append != nil) && elf == nil {
            throw ValidationError("--initrd and --append need --kernel (without any of them, the default guest boots with its own)")
        }
    }

    func run() throws {
        var storage: FileDisk?
        if let disk {
            do {
                storage = try FileDisk(path: disk)
            } catch {
                printError("lockstep: disk image \(disk): \(error)")
                throw ExitCode(1)
            }
        }
        let input = trace ? nil : TerminalInput()
        defer { input?.restore() }
        let console = ConsoleWriter(descriptor: 1)
        // A Linux guest that reboots (SBI system reset) gets a new machine and boots again, as on
        // QEMU; a bare-metal program that asks for a reset stops.
        while true {
            let machine = try makeMachine(disk: storage)
            machine.consoleOutput = { console.append($0) }
            let reason = try runOnce(machine, input: input, console: console)
            if reason == .resetRequested && elf == nil {
                console.flush()
                printError("lockstep: the guest rebooted")
                continue
            }
            try report(reason, machine: machine)
            return
        }
    }

    /// A new machine with the program or kernel loaded, ready to run.
    private func makeMachine(disk storage: FileDisk?) throws -> Machine {
        let machine: Machine
        do {
            // Fresh guest randomness per boot; a recorded session will store the seed.
            let configuration = MachineConfiguration(memorySize: memory << 20, entropySeed: UInt64.random(in: 0...UInt64.max))
            machine = try Machine(configuration: configuration, disk: storage)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        if let elf {
            do {
                try machine.load(elfAt: elf)
            } catch {
                let message = "\(error)"
                printError(message.contains(elf) ? "lockstep: \(message)" : "lockstep: \(elf): \(message)")
                throw ExitCode(1)
            }
        } else {
            do {
                try bootLinux(machine)
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
            // A Linux guest lives in real time: while it idles, time passes as on the host clock.
            machine.skipsIdleTime = false
        }
        return machine
    }

    /// Runs the machine until it stops, printing statistics if asked.
    private func runOnce(_ machine: Machine, input: TerminalInput?, console: ConsoleWriter) throws -> Machine.StopReason {
        let limit = maxInstructions ?? .max
        let started = monotonicSeconds()
        let reason: Machine.StopReason
        if let input {
            reason = runInteractive(machine, limit: limit, console: console, input: input)
        } else {
            reason = runTraced(machine, limit: limit)
        }
        console.flush()
        let elapsed = monotonicSeconds() - started
        if stats {
            let count = machine.instructionCount
            let mips = elapsed > 0 ? Double(count) / elapsed / 1e6 : 0
            printError("lockstep: \(count) instructions in \(fixed(elapsed, digits: 3)) s (\(fixed(mips, digits: 1)) MIPS)")
        }
        return reason
    }

    /// Turns how the guest stopped into the exit status (and a message when it is not the guest's own code).
    private func report(_ reason: Machine.StopReason, machine: Machine) throws {
        switch reason {
        case .exited(let code):
            if code != 0 { throw ExitCode(code) }
        case .instructionLimit:
            printError("lockstep: stopped after \(machine.instructionCount) instructions (--max-instructions) at pc 0x\(String(machine.hart.pc, radix: 16))")
            throw ExitCode(124)
        case .idle, .waitingForInterrupt:
            printError("lockstep: the guest waits for an interrupt that can never arrive (WFI with no timer armed) at pc 0x\(String(machine.hart.pc, radix: 16)); stopping")
            throw ExitCode(125)
        case .resetRequested:
            printError("lockstep: the guest asked for a reset; a bare-metal machine stops instead")
        }
    }

    /// Loads the kernel, initrd and disk named by the flags (or the default guest) and prepares the boot.
    private func bootLinux(_ machine: Machine) throws(GuestFileError) {
        let kernelPath: String, initrdPath: String?, commandLine: String
        if let kernel {
            kernelPath = kernel
            initrdPath = initrd
            commandLine = append ?? Self.defaultCommandLine
        } else {
            let guest = try DefaultGuest.locate()
            kernelPath = guest.kernel
            initrdPath = guest.initrd
            commandLine = Self.defaultCommandLine
        }
        let kernelBytes = try readGuestFile(kernelPath, what: "kernel")
        var initrdBytes: [UInt8]?
        if let initrdPath { initrdBytes = try readGuestFile(initrdPath, what: "initrd") }
        let image: LinuxImage
        do {
            image = try LinuxImage(bytes: kernelBytes)
        } catch {
            throw GuestFileError(path: kernelPath, what: "kernel", reason: error.description)
        }
        do {
            try machine.bootLinux(kernel: image, initrd: initrdBytes, commandLine: commandLine)
        } catch {
            throw GuestFileError(path: kernelPath, what: "kernel", reason: error.description)
        }
    }

    /// Runs in slices, feeding terminal input to the console between them and letting real time
    /// pass while the guest idles.
    private func runInteractive(_ machine: Machine, limit: UInt64, console: ConsoleWriter, input: TerminalInput) -> Machine.StopReason {
        let slice: UInt64 = 2_000_000
        let ticksPerSecond = 10_000_000.0
        while true {
            let reason = machine.run(instructionLimit: min(limit, machine.instructionCount &+ slice))
            console.flush()
            var wait = 0.0
            switch reason {
            case .instructionLimit:
                if machine.instructionCount >= limit { return reason }
            case .waitingForInterrupt:
                guard let ticks = machine.hart.ticksUntilTimerInterrupt else {
                    if input.closed { return .idle }
                    wait = 0.5
                    break
                }
                wait = min(Double(ticks) / ticksPerSecond, 0.5)
                let before = monotonicSeconds()
                let polled = input.poll(timeout: wait)
                let passed = UInt64(max(0, monotonicSeconds() - before) * ticksPerSecond)
                machine.hart.advanceTime(by: min(ticks, passed))
                if case .quit = polled { return .exited(code: 0) }
                if case .bytes(let bytes) = polled, !bytes.isEmpty { machine.uart.receive(bytes) }
                continue
            default:
                return reason
            }
            switch input.poll(timeout: wait) {
            case .quit: return .exited(code: 0)
            case .bytes(let bytes): if !bytes.isEmpty { machine.uart.receive(bytes) }
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
            if reason != .instructionLimit || machine.instructionCount >= limit { trace.flush(); return reason }
        }
    }
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

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
