import Foundation

extension PoolStore {
    /// The pool's state once VM `name` has a primary and a backup in step (`purpose` says what
    /// needs it, in the refusal). A VM being re-protected (a live primary and a second host
    /// placed, its new backup joining or being copied: after a failover, a drain, the health
    /// policy's switchover) is waited for until `deadline`, with one line to `say` when the wait
    /// begins; one that is not (no host has room, every host is gone) is refused at once, with why.
    public func waitUntilProtected(_ name: String, until deadline: Date, for purpose: String,
                                   say: (String) -> Void = { _ in }) async throws(PoolError) -> VMState {
        var said = false
        while true {
            let state = try await vms()
            guard state.specs.contains(where: { $0.name == name }) else { throw .noSuchVM(name) }
            if state.protected.contains(name) { return state }
            let nodes = state.nodes[name] ?? []
            let reprotecting = state.primaries[name] != nil && state.placements[name]?.hosts.count == 2
            guard reprotecting, Date() < deadline else {
                let why = state.placements[name]?.waiting.map { "; \($0)" } ?? ""
                throw .invalid("VM '\(name)' is not protected now (\(PoolStatusTable.protection(nodes))\(why)): \(purpose) needs a primary and a backup in step")
            }
            if !said {
                say("VM '\(name)' is \(PoolStatusTable.protection(nodes)): waiting for its backup to be in step first")
                said = true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
