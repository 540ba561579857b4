import ELF
import Machine

/// What runs in a simulated VM, and how the client talks to its key-value service.
public enum SimulatedGuest {
    /// `guests/bare/kv` (an ELF image): thousands of runs a minute.
    case bareMetal(ELFFile)
    /// The default Linux guest running `kvd` (`lockstep.service=kv`): the slower tier.
    case linux(kernel: LinuxImage, initrd: [UInt8])

    /// The bare-metal key-value program from its ELF bytes.
    public static func bareMetal(program: [UInt8]) throws -> SimulatedGuest { .bareMetal(try ELFFile(bytes: program)) }

    /// The Linux guest from its kernel `Image` and initramfs bytes.
    public static func linux(kernel: [UInt8], initrd: [UInt8]) throws -> SimulatedGuest {
        .linux(kernel: try LinuxImage(bytes: kernel), initrd: initrd)
    }

    /// A freshly booted machine (the entropy seed is the run's).
    func makeMachine(seed: UInt64) throws -> Machine {
        switch self {
        case .bareMetal(let elf):
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 2 << 20, entropySeed: seed))
            try machine.load(elf: elf)
            return machine
        case .linux(let kernel, let initrd):
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 128 << 20, entropySeed: seed))
            _ = try machine.bootLinux(kernel: kernel, initrd: initrd, commandLine: "console=ttyS0 lockstep.service=kv quiet")
            return machine
        }
    }

    /// Instructions per slice and between checkpoints: a kernel runs far more instructions per
    /// virtual second, and a checkpoint of its RAM costs milliseconds.
    var slice: UInt64 {
        if case .linux = self { return 500_000 }
        return 20_000
    }
    var checkpointInterval: UInt64 {
        if case .linux = self { return 20_000_000 }
        return 400_000
    }

    /// How the client talks to the guest's service.
    var serviceDialect: ServiceDialect {
        if case .linux = self { return .kvd }
        return .bareMetal
    }
}

/// The request and answer lines of a guest's key-value service. Keys and values are numbered:
/// write `n` stores `v<n>` under `k<n>`.
enum ServiceDialect {
    case bareMetal
    case kvd

    /// The line the service prints once it listens.
    var ready: String { self == .kvd ? "@kv READY" : "kv ready" }

    /// The request that makes the guest reset its machine (nil: the service has none).
    var reboot: String? { self == .kvd ? nil : "R\n" }

    /// The guest time a ready line carries (`kv ready <mtime>`): it tells one boot from the next.
    func bootStamp(_ line: String) -> UInt64? {
        guard self == .bareMetal, line.hasPrefix(ready + " ") else { return nil }
        return UInt64(line.dropFirst(ready.count + 1))
    }

    func write(_ n: UInt64) -> String { self == .kvd ? "SET w\(n) k\(n) v\(n)\n" : "S k\(n) v\(n)\n" }
    func read(_ n: UInt64) -> String { self == .kvd ? "GET r\(n) k\(n)\n" : "G k\(n)\n" }

    enum Answer: Equatable {
        case written(UInt64)
        case value(UInt64, String)
        case missing(UInt64)
    }

    /// What an answer line says, nil for anything else (kernel messages, the ready line).
    func parse(_ line: String) -> Answer? {
        let words = line.split(separator: " ").map(String.init)
        func number(_ word: String, _ prefix: Character) -> UInt64? {
            word.first == prefix ? UInt64(word.dropFirst()) : nil
        }
        switch self {
        case .bareMetal:
            guard words.count >= 2, let n = number(words[1], "k") else { return nil }
            switch words[0] {
            case "OK": return .written(n)
            case "V": return .value(n, words.dropFirst(2).joined(separator: " "))
            case "N": return .missing(n)
            default: return nil
            }
        case .kvd:
            guard words.count >= 3, words[0] == "@kv" else { return nil }
            switch words[1] {
            case "OK": return number(words[2], "w").map { .written($0) }
            case "VALUE": return number(words[2], "r").map { .value($0, words.dropFirst(3).joined(separator: " ")) }
            case "NONE": return number(words[2], "r").map { .missing($0) }
            default: return nil
            }
        }
    }
}
