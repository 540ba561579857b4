import Foundation
import LockstepSupport
import Logging
import Synchronization
import Testing

/// The logfmt lines of swift-log records (``LogfmtLogHandler``), and reading a message back.
@Suite struct LogfmtLogHandlerTests {
    @Test func aRecordIsOneLineWithTimeLevelLabelSortedMetadataAndTheQuotedMessage() {
        let line = LogfmtLogHandler.line(time: Date(timeIntervalSince1970: 1_796_594_670.125), level: .info, label: "node",
                                         metadata: ["vm": "kv", "node": "A", "role": "primary-alone", "note": "two words"],
                                         message: "won the arbiter in 12 ms: live as primary of VM 'kv' at generation 2")
        #expect(line == #"ts=2026-12-06T22:04:30.125Z level=info label=node node=A note="two words" role=primary-alone vm=kv msg="won the arbiter in 12 ms: live as primary of VM 'kv' at generation 2""#)
    }

    @Test func quotesBackslashesAndLineBreaksAreEscapedAndReadBack() {
        let message = #"refused: "a \ b""# + "\nsecond line"
        let line = LogfmtLogHandler.line(time: Date(timeIntervalSince1970: 0), level: .warning, label: "agent", metadata: ["empty": ""], message: message)
        #expect(line.hasPrefix(#"ts=1970-01-01T00:00:00.000Z level=warning label=agent empty="" msg="refused: \"a \\ b\"\nsecond line""#), "\(line)")
        #expect(!line.contains("\n"))
        #expect(LogfmtLogHandler.message(of: line) == message)
        #expect(LogfmtLogHandler.message(of: "lockstep: a plain line") == "lockstep: a plain line")
    }

    @Test func theHandlerMergesTheLoggersAndTheRecordsMetadata() {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "node") { label in LogfmtLogHandler(label: label, write: { line in lines.withLock { $0.append(line) } }) }
        logger[metadataKey: "node"] = "A"
        logger.info("line 1 up to backup 'B'", metadata: ["role": "primary"])
        logger.debug("not written: below info")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written.first?.hasSuffix(#" level=info label=node node=A role=primary msg="line 1 up to backup 'B'""# + "\n") == true, "\(written)")
    }
}
