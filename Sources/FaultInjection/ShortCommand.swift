import Foundation
import LockstepSupport

/// Runs short commands (`ip`, `ping`) to the end with their output captured and a timeout
/// (``HostCommand``), killed too if the program is torn down by a signal meanwhile
/// (``SignalTeardown``).
enum ShortCommand {
    /// Runs `executable` with `arguments`, killing it after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], timeout: Double) throws(NetworkLabError) -> CommandOutput {
        let commandLine = ([executable] + arguments).joined(separator: " ")
        let output: HostCommand.Output
        do {
            output = try HostCommand(path: executable).run(arguments, timeout: timeout) { pid in
                let registration = SignalTeardown.shared.register { kill(pid, SIGKILL) }
                return { registration.cancel() }
            }
        } catch {
            switch error {
            case .cannotStart(_, let reason): throw .cannotRun(command: commandLine, reason: reason)
            case .timedOut(_, let seconds): throw .timedOut(command: commandLine, seconds: seconds)
            }
        }
        return CommandOutput(command: commandLine, status: output.status, standardOutput: String(decoding: output.standardOutput, as: UTF8.self),
                             standardError: output.standardError)
    }

    /// The first executable file named `name` in the usual system directories or on PATH.
    static func find(_ name: String) -> String? { HostCommand.find(name)?.path }
}
