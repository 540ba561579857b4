import Foundation

/// A guest console driven from a test: a child process (lockstep or QEMU) whose standard input
/// and output are pipes. Output is collected on a background thread; ``expect(_:timeout:)``
/// waits until a string appears after the last match.
final class ConsoleSession: @unchecked Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let pattern: String
        let seconds: Double
        let tail: String
        var description: String { "no \"\(pattern)\" on the console within \(seconds) s; last output:\n\(tail)" }
    }

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSCondition()
    private var buffer: [UInt8] = []
    /// Everything before this index has been consumed by a match.
    private var cursor = 0
    private var finished = false

    init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let handle = output.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                lock.lock()
                if data.isEmpty { finished = true } else { buffer.append(contentsOf: data) }
                lock.broadcast()
                lock.unlock()
                if data.isEmpty { return }
            }
        }
    }

    /// Waits for `pattern` to appear in the output after the previous match; returns the text up
    /// to and including it.
    @discardableResult
    func expect(_ pattern: String, timeout: Double) throws -> String {
        let needle = Array(pattern.utf8)
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let range = find(needle, from: cursor) {
                let text = String(decoding: buffer[cursor..<range.upperBound], as: UTF8.self)
                cursor = range.upperBound
                return text
            }
            if finished || !lock.wait(until: deadline) {
                if let range = find(needle, from: cursor) {   // arrived with the final chunk
                    let text = String(decoding: buffer[cursor..<range.upperBound], as: UTF8.self)
                    cursor = range.upperBound
                    return text
                }
                let tail = String(decoding: buffer.suffix(1500), as: UTF8.self)
                throw Timeout(pattern: pattern, seconds: timeout, tail: tail)
            }
        }
    }

    private func find(_ needle: [UInt8], from start: Int) -> Range<Int>? {
        guard needle.count <= buffer.count - start else { return nil }
        var i = start
        while i + needle.count <= buffer.count {
            if buffer[i] == needle[0] && Array(buffer[i..<(i + needle.count)]) == needle { return i..<(i + needle.count) }
            i += 1
        }
        return nil
    }

    /// Everything the console has printed so far.
    var transcript: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Types `text` followed by a newline.
    func send(line text: String) {
        send(bytes: Array((text + "\n").utf8))
    }

    func send(bytes: [UInt8]) {
        input.fileHandleForWriting.write(Data(bytes))
    }

    /// Waits for the process to end (killing it after `timeout` seconds) and returns its status.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }
}
