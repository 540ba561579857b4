import Foundation

/// What a short command run by ``NetworkLab/run(in:_:_:timeout:)`` printed and how it ended.
public struct CommandOutput: Sendable, CustomStringConvertible {
    /// The command line, for messages.
    public var command: String
    /// The exit status (128 + the signal's number when a signal ended it).
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(command: String, status: Int32, standardOutput: String, standardError: String) {
        self.command = command
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// True for exit status 0.
    public var succeeded: Bool { status == 0 }

    public var description: String {
        "\(command): status \(status)" + (standardError.isEmpty ? "" : "; \(standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}
