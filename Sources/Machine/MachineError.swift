import ELF

/// Errors a user can cause when building or loading a machine.
public enum MachineError: Error, CustomStringConvertible, Equatable {
    case invalidMemorySize(UInt64)
    case cannotReserveMemory(UInt64)
    case segmentOutsideRAM(address: UInt64, size: UInt64, ramBase: UInt64, ramSize: UInt64)
    case entryOutsideRAM(entry: UInt64, ramBase: UInt64, ramSize: UInt64)
    case invalidProgram(ELFError)
    /// The kernel file is not a RISC-V Linux Image; the text says why and what to pass instead.
    case invalidKernel(String)
    /// Kernel, initrd and device tree do not fit into RAM together.
    case imagesDoNotFit(needed: UInt64, ramSize: UInt64)
    /// More disks than the machine has slots for (``Machine/maximumDiskCount``).
    case tooManyDisks(Int, maximum: Int)
    /// ``MachineConfiguration/mac`` is not 6 bytes long.
    case invalidMACAddress([UInt8])

    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .invalidMemorySize(let size):
            return "invalid memory size \(size) bytes: use a multiple of 4 KiB between 1 MiB and 64 GiB"
        case .cannotReserveMemory(let size):
            return "cannot reserve \(size >> 20) MiB of guest RAM on this host: give the machine less memory (--memory)"
        case .segmentOutsideRAM(let address, let size, let base, let ramSize):
            return "program segment at \(hex(address)) (\(size) bytes) lies outside RAM \(hex(base))-\(hex(base + ramSize - 1)): "
                + "link the program at \(hex(base)) (e.g. -Wl,-Ttext=\(hex(base))) or give the machine more memory"
        case .entryOutsideRAM(let entry, let base, let ramSize):
            return "program entry point \(hex(entry)) lies outside RAM \(hex(base))-\(hex(base + ramSize - 1)): "
                + "link the program so that _start is in RAM"
        case .invalidProgram(let error):
            return error.description
        case .invalidKernel(let why):
            return "not a RISC-V Linux kernel Image: \(why)"
        case .imagesDoNotFit(let needed, let ramSize):
            return "kernel, initrd and device tree need \(needed >> 20) MiB but the machine has \(ramSize >> 20) MiB of RAM: give it more memory (--memory)"
        case .tooManyDisks(let count, let maximum):
            return "\(count) disks given, but a machine has at most \(maximum) (one per free virtio-mmio slot: \(Machine.diskSlots.map(String.init).joined(separator: ", "))): give at most \(maximum) --disk images"
        case .invalidMACAddress(let bytes):
            return "a MAC address is 6 bytes, the machine's configuration has \(bytes.count) (\(MACAddress.format(bytes))): give one like \(MACAddress.example)"
        }
    }
}
