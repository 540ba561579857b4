import KVWorkload
import Testing

/// RESP2 on bytes: every reply type, replies split anywhere, and malformed input refused.
@Suite struct RESPParserTests {
    func parseAll(_ text: String) throws -> [RESPValue] {
        var parser = RESPParser()
        parser.append(Array(text.utf8))
        var values: [RESPValue] = []
        while let value = try parser.next() { values.append(value) }
        #expect(parser.bufferedByteCount == 0)
        return values
    }

    @Test func everyReplyType() throws {
        let values = try parseAll("+OK\r\n-ERR unknown command 'FOO'\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n"
                                  + "*2\r\n$1\r\na\r\n:1\r\n*-1\r\n*0\r\n*2\r\n*1\r\n+x\r\n$-1\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR unknown command 'FOO'"), .integer(42), .integer(-7),
            .bulkString(Array("hello".utf8)), .bulkString([]), .nullBulkString,
            .array([.bulkString([97]), .integer(1)]), .nullArray, .array([]),
            .array([.array([.simpleString("x")]), .nullBulkString]),
        ])
        #expect(values[4].string == "hello")
        #expect(values[0].string == "OK")
        #expect(values[2].string == nil)
    }

    @Test func bulkStringsAreBinarySafe() throws {
        var parser = RESPParser()
        parser.append(Array("$6\r\n".utf8) + [13, 10, 0, 255, 36, 45] + [13, 10])
        #expect(try parser.next() == .bulkString([13, 10, 0, 255, 36, 45]))
    }

    @Test func repliesSplitAtEveryByteAreReassembled() throws {
        let text = "*3\r\n$3\r\nfoo\r\n:-12\r\n*2\r\n+OK\r\n$-1\r\n-WRONGTYPE x\r\n:9223372036854775807\r\n"
        var parser = RESPParser()
        var values: [RESPValue] = []
        for byte in text.utf8 {
            parser.append([byte])
            while let value = try parser.next() { values.append(value) }
        }
        #expect(values == [
            .array([.bulkString(Array("foo".utf8)), .integer(-12), .array([.simpleString("OK"), .nullBulkString])]),
            .error("WRONGTYPE x"), .integer(Int64.max),
        ])
    }

    @Test func anIncompleteReplyWaitsForMore() throws {
        var parser = RESPParser()
        parser.append(Array("$5\r\nhel".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 7)
        parser.append(Array("lo\r".utf8))
        #expect(try parser.next() == nil)
        parser.append([10])
        #expect(try parser.next() == .bulkString(Array("hello".utf8)))
        #expect(try parser.next() == nil)
    }

    @Test(arguments: [
        "?what\r\n",                  // unknown type byte
        "%1\r\n",                     // RESP3 map
        ":12a\r\n",                   // not an integer
        ":\r\n",                      // empty integer
        ":99999999999999999999\r\n",  // overflow
        "$3\r\nabcX\r\n",             // bulk not followed by CR LF
        "$-2\r\n",                    // negative length other than -1
        "*-3\r\n",
        "+OK\n",                      // LF without CR
        "+O\rK\r\n",                  // CR without LF
        "$ 3\r\nabc\r\n",
    ])
    func malformedInputIsRefused(text: String) {
        var parser = RESPParser()
        parser.append(Array(text.utf8))
        #expect(throws: RedisError.self) { _ = try parser.next() }
    }

    @Test func anEndlessLineIsRefused() {
        var parser = RESPParser()
        parser.append([UInt8(ascii: "+")] + Array(repeating: UInt8(ascii: "a"), count: RESPParser.maximumLineLength + 10))
        #expect(throws: RedisError.malformedReply("a line longer than \(RESPParser.maximumLineLength) bytes")) { _ = try parser.next() }
    }

    @Test func deepNestingIsRefused() {
        var parser = RESPParser()
        parser.append(Array(String(repeating: "*1\r\n", count: RESPParser.maximumDepth + 2).utf8))
        #expect(throws: RedisError.self) { _ = try parser.next() }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        #expect(RESPCommand("SET", "k", "v w").encoded == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv w\r\n".utf8))
        #expect(RESPCommand("GET", "é").encoded == Array("*2\r\n$3\r\nGET\r\n$2\r\né\r\n".utf8))
        #expect(RESPCommand(["dbsize"]).name == "DBSIZE")
        #expect(RESPCommand("SET", "k", "v").description == "SET k v")
    }
}
