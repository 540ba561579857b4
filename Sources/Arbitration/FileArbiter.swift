import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An arbiter made of one lock file on storage that every node reaches (an NFS export, a shared
/// disk's file system): no arbiter process to run.
///
/// A claim opens (or creates) the file, takes an exclusive record lock on it (waiting for other
/// claimers), reads the state (``StateFileFormat``; a missing or empty file means no VM was ever
/// claimed), compares, and if the claim wins writes the new state in place and fsyncs it before
/// unlocking and answering `.won`. ``current(vm:)`` reads under a shared lock.
///
/// The state is rewritten in place, not renamed over, because the lock belongs to the open file:
/// a rename would leave waiting claimers locking a file that is no longer the state. A crash in the
/// middle of that write can leave a torn file; its checksum then fails and every later request is
/// ``ArbitrationError/corruptStateFile(path:detail:)`` until an operator repairs it. The arbiter
/// never guesses a state, because a guess could hand one VM to two hosts.
///
/// The blocking system calls run on NIO's blocking thread pool, not on the caller's task.
public struct FileArbiter: Arbiter {
    /// The lock file.
    public let path: String

    /// An arbiter on the lock file at `path` (created on the first claim).
    public init(path: String) {
        self.path = path
    }

    public func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome {
        try ClaimTable.validate(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
        return try await blocking { [path] () throws(ArbitrationError) in
            try Self.refuseIfServed(path)
            let file = try SystemFile(path: path, flags: O_RDWR | O_CREAT)
            try file.lock(exclusive: true, wait: true)
            let (stored, isNew) = try Self.read(file)
            var table = stored
            let outcome = table.claim(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
            if case .won = outcome {
                try file.replaceContents(with: StateFileFormat.encode(table))
                try file.synchronize()
                if isNew { try SystemFile.synchronizeDirectory(containing: path) }
            }
            return outcome   // closing the file releases the lock
        }
    }

    public func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String) {
        try ClaimTable.validate(vm: vm)
        let entry = try await blocking { [path] () throws(ArbitrationError) -> ClaimTable.Entry in
            let file: SystemFile
            do throws(ArbitrationError) {
                file = try SystemFile(path: path, flags: O_RDONLY)
            } catch .fileFailed(_, _, let code) where code == ENOENT {
                return ClaimTable.Entry(generation: 0, owner: "")
            }
            try file.lock(exclusive: false, wait: true)
            let current = try Self.read(file).table.current(vm: vm)
            return ClaimTable.Entry(generation: current.generation, owner: current.owner)
        }
        return (entry.generation, entry.owner)
    }

    /// The state in the (locked) file; an empty file is a new one, with no claims.
    private static func read(_ file: borrowing SystemFile) throws(ArbitrationError) -> (table: ClaimTable, isNew: Bool) {
        var status = stat()
        guard fstat(file.descriptor, &status) == 0 else { throw .fileFailed(path: file.path, operation: "stat", errno: errno) }
        if status.st_size == 0 { return (ClaimTable(), true) }
        return (try StateFileFormat.read(file), false)
    }

    /// Throws ``ArbitrationError/stateFileInUse(path:)`` if `path` is the state file of a running
    /// ``ArbiterServer`` (which holds `<path>.lock`): the server would overwrite a claim made behind
    /// its back. A stopped server's state file may be claimed in (by an operator, for fencing).
    private static func refuseIfServed(_ path: String) throws(ArbitrationError) {
        let serverLock: SystemFile
        do throws(ArbitrationError) {
            serverLock = try SystemFile(path: path + ".lock", flags: O_RDONLY)
        } catch {
            return   // no lock file: not a server's state file
        }
        guard try serverLock.lock(exclusive: false, wait: false) else { throw .stateFileInUse(path: path) }
    }

    /// Runs `body` on NIO's blocking thread pool.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(ArbitrationError) -> T) async throws(ArbitrationError) -> T {
        let result: Result<T, ArbitrationError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { Result(catching: body) }
        } catch {
            // Only cancellation before the work started (or a stopped pool): nothing was done.
            throw .fileFailed(path: path, operation: "arbitration (cancelled before it started)", errno: ECANCELED)
        }
        return try result.get()
    }
}
