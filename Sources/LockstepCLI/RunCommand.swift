import ArgumentParser
import ELF
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
        abstract: "Run a program on a Lockstep machine.",
        discussion: """
            Runs a bare-metal RISC-V ELF program (RV64GC, linked at 0x80000000 like QEMU's virt machine) \
            with its UART on this terminal, and exits with the program's exit code (SiFive test device \
            or HTIF tohost). Execution is deterministic: the same program always retires the same \
            instructions and prints the same bytes.

            Exit status: the program's exit code; 124 when --max-instructions stopped it; 125 when the \
            guest idles forever (WFI with nothing to wake it); 1 for errors before the program starts.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Bare-metal RISC-V ELF program to run.", valueName: "path"))
    var elf: String

    @Option(name: .long, help: ArgumentHelp("Stop after this many retired instructions and say so.", valueName: "count"))
    var maxInstructions: UInt64?

    @Flag(name: .long, help: "Print every retired instruction (pc, encoding, disassembly) to standard error.")
    var trace = false

    @Option(name: .long, help: ArgumentHelp("Guest RAM size in MiB.", valueName: "MiB"))
    var memory: UInt64 = 128

    @Flag(name: .long, help: "Print the retired instruction count, run time and guest MIPS to standard error at the end.")
    var stats = false

    func validate() throws {
        guard memory >= 1, memory <= 65536 else {
            throw ValidationError("--memory must be between 1 and 65536 MiB (got \(memory))")
        }
    }

    func run() throws {
        let machine: Machine
        do {
            machine = try Machine(configuration: MachineConfiguration(memorySize: memory << 20))
            try machine.load(elfAt: elf)
        } catch {
            let message = "\(error)"
            printError(message.contains(elf) ? "lockstep: \(message)" : "lockstep: \(elf): \(message)")
            throw ExitCode(1)
        }
        let console = ConsoleWriter(descriptor: 1)
        machine.consoleOutput = { console.append($0) }

        let limit = maxInstructions ?? .max
        let started = monotonicSeconds()
        let reason: Machine.StopReason
        if trace {
            reason = runTraced(machine, limit: limit)
        } else {
            // Run in slices so console output reaches the terminal while a long program runs.
            var result = Machine.StopReason.instructionLimit
            while true {
                let sliceEnd = min(limit, machine.instructionCount &+ 50_000_000)
                result = machine.run(instructionLimit: sliceEnd)
                console.flush()
                if result != .instructionLimit || machine.instructionCount >= limit { break }
            }
            reason = result
        }
        console.flush()
        let elapsed = monotonicSeconds() - started
        if stats {
            let count = machine.instructionCount
            let mips = elapsed > 0 ? Double(count) / elapsed / 1e6 : 0
            printError("lockstep: \(count) instructions in \(fixed(elapsed, digits: 3)) s (\(fixed(mips, digits: 1)) MIPS)")
        }
        switch reason {
        case .exited(let code):
            if code != 0 { throw ExitCode(code) }
        case .instructionLimit:
            printError("lockstep: stopped after \(machine.instructionCount) instructions (--max-instructions) at pc 0x\(String(machine.hart.pc, radix: 16))")
            throw ExitCode(124)
        case .idle:
            printError("lockstep: the guest waits for an interrupt that can never arrive (WFI with no timer armed) at pc 0x\(String(machine.hart.pc, radix: 16)); stopping")
            throw ExitCode(125)
        case .resetRequested:
            printError("lockstep: the guest asked for a reset; bare-metal machines stop instead")
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
