import Foundation

/// Runs short commands (`ip`, `ping`) to the end with their output captured and a timeout.
enum ShortCommand {
    /// Runs `executable` with `arguments`, killing it after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], timeout: Double) throws(NetworkLabError) -> CommandOutput {
        let commandLine = ([executable] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw .cannotRun(command: commandLine, reason: "\(error)")
        }
        let state = RunState()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem {
            state.markTimedOut()
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            state.setErrors(errors.fileHandleForReading.readDataToEndOfFile())
            errorsRead.signal()
        }
        let standardOutput = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        watchdog.cancel()
        if state.timedOut { throw .timedOut(command: commandLine, seconds: timeout) }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CommandOutput(command: commandLine, status: status, standardOutput: String(decoding: standardOutput, as: UTF8.self),
                             standardError: String(decoding: state.errors, as: UTF8.self))
    }

    /// The first executable file named `name` in the usual system directories or on PATH.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] + path.split(separator: ":").map(String.init)
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
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
