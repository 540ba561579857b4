import Machine
import RISCV
import Testing

/// StateWriter, StateReader and CRC32: the building blocks of snapshots.
@Suite struct StateSerializationTests {
    @Test func crc32KnownAnswers() {
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    /// The eight-bytes-at-a-time CRC agrees with the bitwise definition at every length and
    /// alignment, and continuing a CRC equals computing it in one go.
    @Test func crc32MatchesTheBitwiseDefinition() {
        func bitwise(_ data: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = ~0
            for byte in data {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        var seed: UInt64 = 42
        let data: [UInt8] = (0..<300).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                let slice = data[start..<end]
                #expect(CRC32.checksum(Array(slice)) == bitwise(slice))
            }
        }
        let split = 123
        let first = CRC32.checksum(Array(data[..<split]))
        let whole = Array(data[split...]).withUnsafeBytes { CRC32.checksum($0, continuing: first) }
        #expect(whole == CRC32.checksum(data))
    }

    @Test func writerAndReaderRoundTrip() throws {
        var writer = StateWriter()
        writer.writeUInt8(0xAB)
        writer.writeBool(true)
        writer.writeUInt16(0x1234)
        writer.writeUInt32(0xDEAD_BEEF)
        writer.writeUInt64(0x0123_4567_89AB_CDEF)
        writer.writeString("état")
        writer.writeLengthPrefixed([1, 2, 3])
        writer.writeBytes([9, 8])
        // Little-endian on the wire.
        #expect(Array(writer.bytes[4..<8]) == [0xEF, 0xBE, 0xAD, 0xDE])

        var reader = StateReader(writer.bytes)
        #expect(try reader.readUInt8("a") == 0xAB)
        #expect(try reader.readBool("b") == true)
        #expect(try reader.readUInt16("c") == 0x1234)
        #expect(try reader.readUInt32("d") == 0xDEAD_BEEF)
        #expect(try reader.readUInt64("e") == 0x0123_4567_89AB_CDEF)
        #expect(try reader.readString(maximumLength: 100, "f") == "état")
        #expect(Array(try reader.readLengthPrefixed(maximum: 3, "g")) == [1, 2, 3])
        #expect(Array(try reader.readBytes(count: 2, "h")) == [9, 8])
        #expect(reader.isAtEnd)
        try reader.expectEnd("everything")
    }

    @Test func readsPastTheEndNameTheOffsetAndWhatWasExpected() throws {
        var reader = StateReader([1, 2, 3])
        #expect(throws: SnapshotError.truncated(offset: 0, expected: "the answer", needed: 4, available: 3)) {
            try reader.readUInt32("the answer")
        }
        #expect(try reader.readUInt16("two bytes") == 0x0201)
        #expect(throws: SnapshotError.truncated(offset: 2, expected: "a word", needed: 8, available: 1)) {
            try reader.readUInt64("a word")
        }
        #expect(throws: SnapshotError.trailingBytes(offset: 2, what: "the test", count: 1)) {
            try reader.expectEnd("the test")
        }
    }

    @Test func invalidValuesPointAtTheField() throws {
        var reader = StateReader([0, 2])
        #expect(try reader.readBool("first") == false)
        #expect(throws: SnapshotError.invalidValue(offset: 1, what: "flag is 2, expected 0 or 1")) {
            try reader.readBool("flag")
        }
        var lengths = StateReader([0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: SnapshotError.invalidValue(offset: 0, what: "length of buffer is 2147483647, at most 16 allowed")) {
            try lengths.readLengthPrefixed(maximum: 16, "buffer")
        }
        // A length within bounds but beyond the data is a truncation.
        var short = StateReader([5, 0, 0, 0, 1])
        #expect(throws: SnapshotError.truncated(offset: 4, expected: "buffer", needed: 5, available: 1)) {
            try short.readLengthPrefixed(maximum: 16, "buffer")
        }
    }

    @Test func errorMessagesSayWhatToDo() {
        let errors: [SnapshotError] = [
            .truncated(offset: 10, expected: "section HART", needed: 100, available: 3),
            .configurationMismatch(field: "memory size", snapshot: 1, machine: 2),
            .diskMismatch("its contents differ"),
            .baseMismatch("wrong instruction count"),
        ]
        for error in errors { #expect(!error.description.isEmpty) }
        #expect(errors[0].description.contains("offset 10"))
        #expect(errors[1].description.contains("configuration"))
    }

    /// The hart's state survives export, serialization and import, field by field.
    @Test func hartStateRoundTrip() throws {
        var state = HartArchitecturalState()
        var seed: UInt64 = 7
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return seed ^ (seed >> 29)
        }
        state.pc = next(); state.instructionCount = next(); state.privilege = .supervisor
        state.mstatus = next(); state.mie = next(); state.mip = next(); state.interruptLines = next()
        state.mtvec = next(); state.mscratch = next(); state.mepc = next(); state.mcause = next(); state.mtval = next()
        state.medeleg = next(); state.mideleg = next(); state.mcounteren = next(); state.mcountinhibit = next()
        state.menvcfg = next(); state.stvec = next(); state.sscratch = next(); state.sepc = next(); state.scause = next()
        state.stval = next(); state.satp = next(); state.scounteren = next(); state.senvcfg = next()
        state.instretDelta = next(); state.cycleDelta = next(); state.fflags = 0x15; state.frm = 3
        state.reservationValid = true; state.reservationAddress = next(); state.reservationValue = next()
        state.instructionsPerTick = 50; state.timeOffset = next(); state.timerCompare = next()
        state.timerIsSupervisor = true; state.waiting = true
        for i in 1..<32 { state.x[i] = next() }
        for i in 0..<32 { state.f[i] = next() }
        for i in 0..<16 { state.pmpcfg[i] = next() }
        for i in 0..<64 { state.pmpaddr[i] = next() }

        var writer = StateWriter()
        state.save(to: &writer)
        var reader = StateReader(writer.bytes)
        let decoded = try HartArchitecturalState(from: &reader)
        #expect(reader.isAtEnd)
        #expect(decoded == state)

        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        machine.hart.importState(state)
        #expect(machine.hart.exportState() == state)
        #expect(machine.hart.pc == state.pc)
        #expect(machine.hart.instructionCount == state.instructionCount)
        #expect(machine.hart.register(5) == state.x[5])
        #expect(machine.hart.floatRegister(31) == state.f[31])
        #expect(machine.hart.debugReadCSR(0x105) == state.stvec)
        #expect(machine.hart.debugReadCSR(0x3B0) == state.pmpaddr[0])
    }

    @Test func hartStateRejectsImpossibleValues() throws {
        var writer = StateWriter()
        HartArchitecturalState().save(to: &writer)
        let good = writer.bytes
        // 32 words, then privilege, fflags, frm, three flags, then x0.
        let privilegeOffset = 32 * 8
        let cases: [(offset: Int, value: UInt8, message: String)] = [
            (privilegeOffset, 2, "hart privilege level is 2, expected 0 (U), 1 (S) or 3 (M)"),
            (privilegeOffset + 1, 0x20, "hart fflags is 0x20, only 5 bits exist"),
            (privilegeOffset + 2, 8, "hart frm is 8, only 3 bits exist"),
            (privilegeOffset + 3, 3, "hart reservation flag is 3, expected 0 or 1"),
            (privilegeOffset + 6, 1, "hart x0 is 0x1, it is always 0"),
        ]
        for c in cases {
            var bytes = good
            bytes[c.offset] = c.value
            var reader = StateReader(bytes)
            #expect(throws: SnapshotError.invalidValue(offset: c.offset, what: c.message)) {
                _ = try HartArchitecturalState(from: &reader)
            }
        }
    }
}
