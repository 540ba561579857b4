// libFuzzer harness for the arbiter's state file / lock file reader
// (Sources/Arbitration/StateFileFormat.swift).
//
// Built by run.sh from StateFileFormat.swift, ClaimTable.swift, ArbitrationError.swift and
// ArbitrationOutcome.swift alone (no Crypto): the SHA-256 checksum is replaced by a stand-in the
// fuzzer can produce, 32 zero bytes. Each input is read as it is and with the stand-in checksum
// written where the entries end. Every input must either read or throw
// ArbitrationError.corruptStateFile; a table that reads must encode to bytes that read back
// equal, and to the input itself (up to the checksum; bytes after it are ignored by design)
// when the file's entries are in the encoder's order.

private let standIn = [UInt8](repeating: 0, count: StateFileFormat.checksumLength)
private func checksum(_ bytes: ArraySlice<UInt8>) -> [UInt8] { standIn }

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzStateFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    check(bytes)
    if let fixed = withStandInChecksum(bytes), fixed != bytes { check(fixed) }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func lockstepFuzzStateFileInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                            _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    writeSeedsIfAsked(seeds)
    return 0
}

private func check(_ bytes: [UInt8]) {
    let table: ClaimTable
    do {
        table = try StateFileFormat.decode(bytes, path: "state", checksum: checksum)
    } catch {
        guard case .corruptStateFile(let path, let detail) = error, path == "state", !detail.isEmpty else {
            preconditionFailure("not a corruptStateFile error: \(error)")
        }
        return
    }
    let again = StateFileFormat.encode(table, checksum: checksum)
    do {
        let reread = try StateFileFormat.decode(again, path: "state", checksum: checksum)
        precondition(reread == table, "a table does not read back equal")
    } catch {
        preconditionFailure("the encoding of a table that read does not read: \(error)")
    }
    for (vm, entry) in table.entries {
        precondition(!vm.isEmpty && !entry.owner.isEmpty && entry.generation > 0, "an invalid entry was accepted")
    }
    // Canonical when the file lists the VMs in the encoder's order.
    let prefix = Array(bytes.prefix(again.count))
    if prefix != again {
        let names = vmNamesInFileOrder(bytes)
        precondition(names != names.sorted(), "a file in canonical order does not encode to its own bytes")
    }
}

/// The VM names of a file that reads, in file order.
private func vmNamesInFileOrder(_ bytes: [UInt8]) -> [String] {
    var names: [String] = []
    guard let count = bytes.be(9, 4) else { return [] }
    var offset = 13
    for _ in 0..<count {
        guard let vmLength = bytes.be(offset, 2).map(Int.init), let ownerLength = bytes.be(offset + 2 + vmLength + 8, 2).map(Int.init) else { break }
        names.append(String(decoding: bytes[(offset + 2)..<(offset + 2 + vmLength)], as: UTF8.self))
        offset += 2 + vmLength + 8 + 2 + ownerLength
    }
    return names
}

/// `bytes` with the stand-in checksum where the entries end (appended if the file ends there).
private func withStandInChecksum(_ bytes: [UInt8]) -> [UInt8]? {
    guard let count = bytes.be(9, 4), count <= 1 << 16 else { return nil }
    var offset = 13
    for _ in 0..<count {
        guard let vmLength = bytes.be(offset, 2).map(Int.init), let ownerLength = bytes.be(offset + 2 + vmLength + 8, 2).map(Int.init),
              offset + 2 + vmLength + 8 + 2 + ownerLength <= bytes.count else { return nil }
        offset += 2 + vmLength + 8 + 2 + ownerLength
    }
    var b = Array(bytes[..<offset]) + standIn
    if bytes.count > b.count { b += bytes[b.count...] }
    return b
}

/// Empty, one entry, several (sorted), long names, and trailing bytes after the checksum.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let long = String(repeating: "n", count: ClaimTable.maximumNameLength)
    let tables: [(String, ClaimTable)] = [
        ("empty", ClaimTable()),
        ("one", ClaimTable(entries: ["vm1": .init(generation: 1, owner: "node-a")])),
        ("three", ClaimTable(entries: ["vm1": .init(generation: 7, owner: "node-a"), "vm2": .init(generation: 2, owner: "node-b"),
                                       "ünïcode": .init(generation: UInt64.max, owner: "nœud")])),
        ("long-names", ClaimTable(entries: [long: .init(generation: 3, owner: long)])),
    ]
    var result = tables.map { (name: "table-" + $0.0, bytes: StateFileFormat.encode($0.1, checksum: checksum)) }
    result.append((name: "table-one-trailing", bytes: result[1].bytes + [1, 2, 3]))
    return result
}
