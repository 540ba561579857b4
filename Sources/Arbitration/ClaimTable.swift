/// The arbitration state of a set of VMs (each one's generation and owner) and the one rule that
/// changes it. Both backends keep their state in a `ClaimTable`; the server in memory and in its
/// state file, the file arbiter in its lock file.
struct ClaimTable: Equatable, Sendable {
    /// One VM's value: the key's value in a distributed store.
    struct Entry: Equatable, Sendable {
        var generation: UInt64
        var owner: String
    }

    /// The longest VM name and owner name, in UTF-8 bytes.
    static let maximumNameLength = 255

    /// Every VM that was ever claimed.
    private(set) var entries: [String: Entry] = [:]

    init(entries: [String: Entry] = [:]) {
        self.entries = entries
    }

    /// The VM's generation and owner; generation 0 and owner "" if it was never claimed.
    func current(vm: String) -> (generation: UInt64, owner: String) {
        guard let entry = entries[vm] else { return (0, "") }
        return (entry.generation, entry.owner)
    }

    /// The compare-and-set: stores expectedGeneration + 1 with `owner` if the VM is at
    /// `expectedGeneration`; otherwise changes nothing. Validate the request first.
    mutating func claim(vm: String, expectedGeneration: UInt64, owner: String) -> ArbitrationOutcome {
        let (generation, currentOwner) = current(vm: vm)
        guard generation == expectedGeneration else { return .lost(generation: generation, owner: currentOwner) }
        entries[vm] = Entry(generation: expectedGeneration + 1, owner: owner)
        return .won(generation: expectedGeneration + 1)
    }

    /// Throws unless `vm` is a usable VM name.
    static func validate(vm: String) throws(ArbitrationError) {
        try validate(name: vm, what: "VM name")
    }

    /// Throws unless the claim can be stored: usable names and a generation that can still grow.
    static func validate(vm: String, expectedGeneration: UInt64, owner: String) throws(ArbitrationError) {
        try validate(name: vm, what: "VM name")
        try validate(name: owner, what: "owner")
        guard expectedGeneration < UInt64.max else {
            throw .invalidRequest("the generation of VM \"\(vm)\" cannot grow beyond \(UInt64.max)")
        }
    }

    private static func validate(name: String, what: String) throws(ArbitrationError) {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength else {
            throw .invalidRequest("the \(what) must be 1 to \(maximumNameLength) bytes of UTF-8, not \(name.utf8.count)")
        }
    }
}
