import Synchronization

/// The arbiter server's state: the table in memory and its state file, behind one lock, so that
/// requests from all connections happen one at a time and a claim is stored before it is answered.
final class ArbiterStore: Sendable {
    private let stateFile: StateFile
    private let table: Mutex<ClaimTable>
    private let log: @Sendable (String) -> Void

    /// Locks and loads the state file (see ``StateFile``).
    init(path: String, log: @escaping @Sendable (String) -> Void) throws(ArbitrationError) {
        stateFile = try StateFile(path: path)
        table = Mutex(try stateFile.load())
        self.log = log
    }

    /// The compare-and-set. A won claim is in the state file before this returns; if it cannot be
    /// written, nothing changes and the error (a ``ArbitrationError/fileFailed(path:operation:errno:)``)
    /// is thrown.
    func claim(vm: String, expectedGeneration: UInt64, owner: String) throws(ArbitrationError) -> ArbitrationOutcome {
        let result: Result<ArbitrationOutcome, ArbitrationError> = table.withLock { state in
            var next = state
            let outcome = next.claim(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
            guard case .won = outcome else { return .success(outcome) }
            do throws(ArbitrationError) {
                try stateFile.save(next)
            } catch {
                return .failure(error)
            }
            let previous = state.current(vm: vm)
            state = next
            log("lockstep arbiter: VM \"\(vm)\" is now at generation \(expectedGeneration + 1), owner \"\(owner)\""
                + (previous.generation == 0 ? "" : " (was \"\(previous.owner)\")"))
            return .success(outcome)
        }
        return try result.get()
    }

    /// Releases the state file for another server; call when no request can come any more.
    func close() {
        stateFile.release()
    }

    func current(vm: String) -> (generation: UInt64, owner: String) {
        table.withLock { $0.current(vm: vm) }
    }
}
