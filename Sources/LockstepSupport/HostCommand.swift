import Foundation

/// A program of the host run for a short job (`ip`, e2fsprogs' `debugfs`, `gzip`): found in the
/// usual system directories or on PATH, run to its end with its standard output captured as
/// bytes and its standard error as text, killed if it takes longer than a timeout. Nothing is
/// written to its standard input (so a program that exits early cannot raise SIGPIPE here).
public struct HostCommand: Sendable {
    /// The program's path.
    public let path: String

    public init(path: String) { self.path = path }

    /// What a run printed and how it ended.
    public struct Output: Sendable {
        /// The exit status (128 + the signal's number when a signal ended it).
        public var status: Int32
        public var standardOutput: [UInt8]
        public var standardError: String
        /// True for exit status 0.
        public var succeeded: Bool { status == 0 }
    }

    /// The first executable named `name` in /usr/sbin, /sbin, /usr/bin, /bin or on PATH, or nil.
    public static func find(_ name: String) -> HostCommand? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] + path.split(separator: ":").map(String.init)
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }.map(HostCommand.init)
    }

    /// Runs the program with `arguments` to its end; throws only when it cannot be started or
    /// runs past `timeout` seconds (it is then killed). `running` is called with the process id
    /// once it runs, and returns what to call once it has ended (to kill it meanwhile from
    /// elsewhere, for instance).
    public func run(_ arguments: [String], timeout: Double,
                    running: (Int32) -> (() -> Void) = { _ in {} }) throws(HostCommandError) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let commandLine = ([path] + arguments).joined(separator: " ")
        do {
            try process.run()
        } catch {
            throw .cannotStart(command: commandLine, reason: "\(error)")
        }
        let pid = process.processIdentifier
        let ended = running(pid)
        defer { ended() }
        let state = RunState()
        let watchdog = DispatchWorkItem {
            state.markTimedOut()
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        // Standard error on another thread, so that neither pipe fills while the other is read.
        let errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            state.setErrors(errors.fileHandleForReading.readDataToEndOfFile())
            errorsRead.signal()
        }
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        watchdog.cancel()
        if state.timedOut { throw .timedOut(command: commandLine, seconds: timeout) }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Output(status: status, standardOutput: [UInt8](bytes), standardError: String(decoding: state.errors, as: UTF8.self))
    }
}

/// A host program that could not be run to its end.
public enum HostCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    /// It could not be started (not executable, no such file).
    case cannotStart(command: String, reason: String)
    /// It ran past its timeout and was killed.
    case timedOut(command: String, seconds: Double)

    public var description: String {
        switch self {
        case .cannotStart(let command, let reason): return "\(command): cannot be started: \(reason)"
        case .timedOut(let command, let seconds): return "\(command): did not finish within \(Int(seconds)) s and was killed"
        }
    }
}

/// What the watchdog and the reader threads share.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var timedOutFlag = false
    private var errorData = Data()

    func markTimedOut() { lock.withLock { timedOutFlag = true } }
    var timedOut: Bool { lock.withLock { timedOutFlag } }
    func setErrors(_ data: Data) { lock.withLock { errorData = data } }
    var errors: Data { lock.withLock { errorData } }
}
