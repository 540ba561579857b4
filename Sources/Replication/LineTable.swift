/// What the NIO adapters (``PrimaryLink``, ``BackupLink``) hold beside their channel core: the
/// ``Line`` behind each ``LineID`` the core may name. Guarded by the adapter's lock.
struct LineTable {
    private var lines: [LineID: Line] = [:]

    /// Knows `line` from now on (a new connection, before the core hears of it).
    mutating func add(_ line: Line) { lines[line.id] = line }

    /// The lines of `actions`, resolved while the core's state and this table agree; then
    /// forgets every line that the core no longer holds (`held`).
    mutating func resolve(_ actions: [LinkAction], held: Set<LineID>) -> LineEffects {
        let effects = LineEffects(actions: actions.map { action in
            switch action {
            case .send(let id, _), .close(let id), .refuse(let id, _): return (action, lines[id])
            case .connect, .ring, .log: return (action, nil)
            }
        })
        if lines.keys.contains(where: { !held.contains($0) }) { lines = lines.filter { held.contains($0.key) } }
        return effects
    }
}

/// ``LinkAction``s with their lines resolved, ready to perform (normally outside the adapter's
/// lock: on the event loop, channel operations run at once and may call back into the adapter).
struct LineEffects {
    fileprivate var actions: [(LinkAction, Line?)]

    /// Performs the actions in order. `connect` opens a connection for a line index (backup only).
    func perform(doorbell: Doorbell, log: NodeLog, connect: (Int) -> Void = { _ in }) {
        for (action, line) in actions {
            switch action {
            case .send(_, let messages): line?.send(messages)
            case .close: line?.close()
            case .refuse(_, let reason): line?.refuse(reason)
            case .connect(let index): connect(index)
            case .ring: doorbell.ring()
            case .log(let text): log(text)
            }
        }
    }
}
