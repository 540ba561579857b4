import ELF
import Machine

extension Machine {
    /// Reads a bare-metal ELF program from a host file and loads it (see ``Machine/load(elf:)``).
    /// Lives in HostIO because `Machine` reads no host file: what it runs reaches it as bytes.
    public func load(elfAt path: String) throws(MachineError) {
        let file: ELFFile
        do { file = try ELFFile(contentsOf: path) } catch { throw .invalidProgram(error) }
        try load(elf: file)
    }
}
