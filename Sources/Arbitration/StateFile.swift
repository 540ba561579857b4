#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The arbiter server's state on disk (in ``StateFileFormat``): read once at start, replaced
/// atomically on every change (a temporary file, fsync, rename over the state file, fsync of the
/// directory), so that after a crash the file holds either the old state or the new one.
///
/// While a `StateFile` exists it holds an exclusive lock on `<path>.lock`: a second server on the
/// same state file could grant the same generation twice, so it is refused.
final class StateFile: Sendable {
    let path: String
    private var temporaryPath: String { path + ".tmp" }
    /// Held open (and locked) for the life of this object.
    private let lockFile: SystemFile

    /// Takes the lock; throws ``ArbitrationError/stateFileInUse(path:)`` if another server holds it.
    init(path: String) throws(ArbitrationError) {
        self.path = path
        lockFile = try SystemFile(path: path + ".lock", flags: O_RDWR | O_CREAT)
        guard try lockFile.lock(exclusive: true, wait: false) else { throw .stateFileInUse(path: path) }
    }

    /// Lets another server use the state file (closing it would too, when this object goes away).
    func release() {
        lockFile.unlock()
    }

    /// The stored state; empty if the file does not exist yet. An existing file must be valid:
    /// an empty or damaged one is ``ArbitrationError/corruptStateFile(path:detail:)``, never
    /// silently a fresh start (which would hand out generations a second time).
    func load() throws(ArbitrationError) -> ClaimTable {
        let file: SystemFile
        do throws(ArbitrationError) {
            file = try SystemFile(path: path, flags: O_RDONLY)
        } catch .fileFailed(_, _, let code) where code == ENOENT {
            return ClaimTable()
        }
        return try StateFileFormat.read(file)
    }

    /// Replaces the stored state with `table`; when this returns, the new state survives a crash.
    func save(_ table: ClaimTable) throws(ArbitrationError) {
        do {
            let temporary = try SystemFile(path: temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try temporary.replaceContents(with: StateFileFormat.encode(table))
            try temporary.synchronize()
        }
        try SystemFile.move(temporaryPath, to: path)
        try SystemFile.synchronizeDirectory(containing: path)
    }
}
