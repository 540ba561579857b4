// A small helper around the snapshot API, for tests that restore a snapshot in a new process and
// for measuring snapshot sizes and times. Not the user-facing CLI (`lockstep snapshot` / `--restore`
// will live in LockstepCLI).
//
//   lockstep-snapshot-check restore SNAPSHOT [--apply INCREMENTAL]... [--disk IMAGE]...
//                                   [--input COUNT:TEXT]... --until COUNT
//       Builds a machine with the snapshot's configuration (and the disk image, if given),
//       restores the snapshot, applies the incremental snapshots in order, runs to COUNT retired
//       instructions (handing TEXT to the UART when the count reaches COUNT of an --input) and
//       prints "instructions N", "stop REASON", "hash 0x...", "output HEX" (console output
//       after the restore).
//
//   lockstep-snapshot-check run-elf PROGRAM [--track | --restart] [--chunk COUNT] [--limit COUNT]
//       Runs a bare-metal program in slices of COUNT instructions (2M, as `lockstep run` does)
//       and prints its speed, with dirty-page tracking off, on from the start (--track), or
//       restarted after every slice (--restart: the CPU cost of taking an incremental snapshot
//       per slice, without writing it).
//
//   lockstep-snapshot-check measure-linux KERNEL INITRD [--memory MiB]
//       Boots Linux to the shell prompt and prints snapshot sizes and times (full save, restore
//       into a new machine, incremental snapshots after typical shell commands, the state hash).
import Foundation
import HostIO
import Machine
import RISCV

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure("cannot read \(path)") }
    return [UInt8](data)
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func restore(_ arguments: [String]) throws {
    var arguments = arguments[...]
    guard let snapshotPath = arguments.popFirst() else { throw Failure("restore: no snapshot file") }
    var increments: [String] = []
    var diskPaths: [String] = []
    var inputs: [(UInt64, String)] = []
    var until: UInt64?
    while let option = arguments.popFirst() {
        guard let value = arguments.popFirst() else { throw Failure("\(option) needs a value") }
        switch option {
        case "--apply": increments.append(value)
        case "--disk": diskPaths.append(value)
        case "--until": until = UInt64(value)
        case "--input":
            guard let colon = value.firstIndex(of: ":"), let count = UInt64(value[..<colon]) else {
                throw Failure("--input takes COUNT:TEXT")
            }
            inputs.append((count, String(value[value.index(after: colon)...]).replacingOccurrences(of: "\\n", with: "\n")))
        default: throw Failure("unknown option \(option)")
        }
    }
    guard let until else { throw Failure("restore: --until is required") }
    let snapshot = try readFile(snapshotPath)
    let info = try SnapshotInfo(snapshot)
    let disks: [any BlockStorage] = try diskPaths.map { try FileDisk(path: $0) }
    let machine = try Machine(configuration: info.configuration, disks: disks)
    try machine.restoreSnapshot(snapshot)
    for path in increments { try machine.restoreSnapshot(try readFile(path)) }
    var output: [UInt8] = []
    machine.routeConsole { output.append($0) }
    var stop = Machine.StopReason.instructionLimit
    for (count, text) in inputs.sorted(by: { $0.0 < $1.0 }) where count >= machine.instructionCount {
        stop = machine.run(instructionLimit: count)
        guard stop == .instructionLimit else { break }
        machine.apply(.consoleBytes(Array(text.utf8)))
    }
    if stop == .instructionLimit { stop = machine.run(instructionLimit: until) }
    print("instructions \(machine.instructionCount)")
    print("stop \(stop)")
    print("hash 0x\(String(machine.stateHash(), radix: 16))")
    print("output \(hex(output))")
}

func measureLinux(_ arguments: [String]) throws {
    guard arguments.count >= 2 else { throw Failure("measure-linux KERNEL INITRD [--memory MiB]") }
    var memory: UInt64 = 128
    if arguments.count >= 4, arguments[2] == "--memory", let value = UInt64(arguments[3]) { memory = value }
    let configuration = MachineConfiguration(memorySize: memory << 20)
    let machine = try Machine(configuration: configuration)
    try machine.bootLinux(kernel: try LinuxImage(bytes: try readFile(arguments[0])), initrd: try readFile(arguments[1]),
                          commandLine: "console=ttyS0")
    var console: [UInt8] = []
    machine.routeConsole { console.append($0) }
    func runUntilPrompt(limit: UInt64) throws {
        let start = console.count
        while !String(decoding: console[start...], as: UTF8.self).hasSuffix("~ # ") {
            guard machine.run(instructionLimit: machine.instructionCount + 1_000_000) == .instructionLimit,
                  machine.instructionCount < limit else { throw Failure("no shell prompt") }
        }
    }
    try runUntilPrompt(limit: 1_000_000_000)
    print("at the prompt: \(machine.instructionCount) instructions, \(memory) MiB RAM")

    var full: [UInt8] = []
    let saveTime = try seconds { full = try machine.saveSnapshot() }
    let nonZero = machine.memory.withRAMBytes { ram in
        (0..<machine.memory.pageCount).filter { page in ram[page * 4096..<(page + 1) * 4096].contains { $0 != 0 } }.count
    }
    print(String(format: "full snapshot: %.1f MiB (%d of %d pages not zero), saved in %.0f ms",
                 Double(full.count) / 1048576, nonZero, machine.memory.pageCount, saveTime * 1000))
    var hash: UInt64 = 0
    let hashTime = seconds { hash = machine.stateHash() }
    print(String(format: "stateHash: %.0f ms", hashTime * 1000))
    let copy = try Machine(configuration: configuration)
    let restoreTime = try seconds { try copy.restoreSnapshot(full) }
    print(String(format: "restore into a new machine: %.0f ms, state hash %@", restoreTime * 1000,
                 copy.stateHash() == hash ? "equal" : "DIFFERENT"))

    // Typical dirty sets: one incremental snapshot per step, each applied to the copy in turn.
    let steps: [(String, String)] = [
        ("a short command (`ls -l /bin | wc -l`)", "ls -l /bin | wc -l\n"),
        ("`cat /proc/cpuinfo`", "cat /proc/cpuinfo\n"),
        ("a 1 MiB file written to tmpfs (`yes | head -c 1048576`)", "yes lockstep | head -c 1048576 > /tmp/a\n"),
        ("an 8 MiB file written to tmpfs (`yes | head -c 8388608`)", "yes lockstep | head -c 8388608 > /tmp/b\n"),
        ("deleting both files", "rm /tmp/a /tmp/b\n"),
    ]
    for (label, command) in steps {
        machine.startDirtyTracking()
        let before = machine.instructionCount
        machine.apply(.consoleBytes(Array(command.utf8)))
        try runUntilPrompt(limit: before + 2_000_000_000)
        let dirty = machine.memory.dirtyPages?.count ?? 0
        var incremental: [UInt8] = []
        let incrementalTime = try seconds { incremental = try machine.saveIncrementalSnapshot() }
        let applyTime = try seconds { try copy.restoreSnapshot(incremental) }
        print(String(format: "incremental snapshot after %@ (%d instructions): %.2f MiB (%d dirty pages), saved in %.1f ms, applied in %.1f ms, state hash %@",
                     label, Int(machine.instructionCount - before), Double(incremental.count) / 1048576, dirty,
                     incrementalTime * 1000, applyTime * 1000, copy.stateHash() == machine.stateHash() ? "equal" : "DIFFERENT"))
    }
}

func runELF(_ arguments: [String]) throws {
    guard let path = arguments.first else { throw Failure("run-elf PROGRAM [--track | --restart] [--chunk COUNT] [--limit COUNT]") }
    func value(_ option: String) -> UInt64? {
        guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else { return nil }
        return UInt64(arguments[index + 1])
    }
    let restart = arguments.contains("--restart")
    let track = restart || arguments.contains("--track")
    let chunk = value("--chunk") ?? 2_000_000   // as `lockstep run` does
    let limit = value("--limit") ?? .max
    let machine = try Machine()
    try machine.load(elfAt: path)
    if track { machine.startDirtyTracking() }
    var stop = Machine.StopReason.instructionLimit
    var restarts = 0
    let time = seconds {
        while stop == .instructionLimit && machine.instructionCount < limit {
            stop = machine.run(instructionLimit: min(limit, machine.instructionCount &+ chunk))
            if restart {
                machine.startDirtyTracking()
                restarts += 1
            }
        }
    }
    let mode = restart ? "restarted every \(chunk) instructions (\(restarts) times)" : track ? "on" : "off"
    print("\((path as NSString).lastPathComponent): \(machine.instructionCount) instructions in "
          + String(format: "%.3f s (%.1f MIPS)", time, Double(machine.instructionCount) / time / 1e6)
          + ", dirty tracking \(mode), stop \(stop)")
}

do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    switch arguments.first {
    case "restore": try restore(Array(arguments.dropFirst()))
    case "measure-linux": try measureLinux(Array(arguments.dropFirst()))
    case "run-elf": try runELF(Array(arguments.dropFirst()))
    default: throw Failure("usage: lockstep-snapshot-check restore SNAPSHOT ... | run-elf PROGRAM | measure-linux KERNEL INITRD")
    }
} catch {
    FileHandle.standardError.write(Data("lockstep-snapshot-check: \(error)\n".utf8))
    exit(1)
}
