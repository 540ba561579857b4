import Foundation
import HostIO
import Machine
import Testing

/// The record beside a mirrored disk's image: the extent bitmap, the record's encoding (a
/// damaged file is refused, never misread), and MirroredDisk's use of it.
@Suite struct DiskRecordTests {
    @Test func extentSetsRoundTripAndCombine() throws {
        var set = ExtentSet(extentCount: 130)
        #expect(set.isEmpty)
        let firstTime = set.insert(0), secondTime = set.insert(0)
        #expect(firstTime)
        #expect(!secondTime)
        set.insert(64)
        set.insert(129)
        #expect(set.count == 3)
        #expect(set.members == [0, 64, 129])
        #expect(set.first(from: 1) == 64)
        #expect(set.first(from: 65) == 129)
        #expect(set.first(from: 130) == nil)
        let decoded = try #require(ExtentSet(extentCount: 130, bytes: set.bytes))
        #expect(decoded == set)
        var other = ExtentSet(extentCount: 130)
        other.insert(5)
        set.formUnion(other)
        #expect(set.members == [0, 5, 64, 129])
        set.remove(64)
        #expect(set.members == [0, 5, 129])
        #expect(ExtentSet.all(70).count == 70)
        // A bit past the end, or a bitmap of another size, is refused.
        var bytes = ExtentSet(extentCount: 130).bytes
        bytes[bytes.count - 1] = 0x80
        #expect(ExtentSet(extentCount: 130, bytes: bytes) == nil)
        #expect(ExtentSet(extentCount: 130, bytes: [0]) == nil)
    }

    func sampleRecord() -> DiskRecord {
        var record = DiskRecord(vm: "db", instance: Array(1...16), sectorCount: 10_000, generation: 3, bootID: "boot-1")
        _ = record.markWritten(2)
        record.beginGeneration(5)
        _ = record.markWritten(7)
        _ = record.markWritten(19)
        return record
    }

    @Test func recordsRoundTrip() throws {
        let record = sampleRecord()
        #expect(record.extentCount == 20)   // 10,000 sectors in extents of 512
        #expect(try DiskRecord(decoding: record.encoded) == record)
        #expect(record.writes(since: 5)?.members == [7, 19])
        #expect(record.writes(since: 4)?.members == [7, 19])   // generation 4 ran elsewhere: this disk wrote nothing in it
        #expect(record.writes(since: 3)?.members == [2, 7, 19])
        #expect(record.writes(since: 2) == nil)                // before the history
        var untrusted = record
        untrusted.historyTrusted = false
        #expect(untrusted.writes(since: 5) == nil)
    }

    @Test func damagedRecordsAreRefused() throws {
        let bytes = sampleRecord().encoded
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: DiskRecordError.self) { try DiskRecord(decoding: damaged) }
        }
        for length in [0, 10, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DiskRecordError.self) { try DiskRecord(decoding: Array(bytes.prefix(length))) }
        }
    }

    @Test func historyIsBounded() {
        var record = DiskRecord(vm: "db", instance: [1], sectorCount: 512, generation: 1, bootID: "")
        for generation in 2...100 { record.beginGeneration(UInt64(generation)) }
        #expect(record.history.count == DiskRecord.historyLimit)
        #expect(record.writes(since: 100 - UInt64(DiskRecord.historyLimit) + 1) != nil)
        #expect(record.writes(since: 100 - UInt64(DiskRecord.historyLimit)) == nil)
    }

    /// A temporary image of `sectors` sectors; the image and its record are removed after.
    func withImage(sectors: Int, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-mirrored-\(UUID().uuidString).img").path
        try Data(count: sectors * 512).write(to: URL(fileURLWithPath: path))
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".lockstep")
        }
        try body(path)
    }

    @Test func writesAreRecordedBeforeTheDataAndSurviveAReopen() throws {
        try withImage(sectors: 4096) { path in
            let disk = try MirroredDisk(path: path, vm: "db")
            #expect(disk.record == nil)
            try disk.start(instance: Array(repeating: 9, count: 16), generation: 1)
            var seen: [ClosedRange<Int>] = []
            disk.onWrite = { seen.append($0) }
            try disk.writeSectors(at: 1000, [UInt8](repeating: 1, count: 512 * 30))   // sectors 1000..<1030: extents 1 and 2
            #expect(seen == [1...2])
            // Killed now (no clean close): the record on file already has both extents.
            let again = try MirroredDisk(path: path, vm: "db")
            #expect(again.record?.currentWrites.members == [1, 2])
            #expect(again.record?.historyTrusted == true)   // same boot of the host
            #expect(try again.readSectors(at: 1029, count: 1) == [UInt8](repeating: 1, count: 512))
        }
    }

    /// A resync's all-zero extent leaves a sparse image's hole a hole (no 1 GiB of zeros written
    /// into a new backup's blank image) but is still marked; an extent holding data is zeroed.
    @Test func anAllZeroExtentIsMarkedWithoutFillingAHole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-sparse-\(UUID().uuidString).img").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".lockstep")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 8 << 20)
        try handle.close()
        let disk = try MirroredDisk(path: path, vm: "db")
        try disk.start(instance: Array(repeating: 9, count: 16), generation: 1)
        let length = disk.extentLength(0)
        try disk.writeExtent(0, [])
        #expect(disk.record?.currentWrites.members.contains(0) == true)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_blocks == 0, "the hole was filled: \(info.st_blocks) blocks")
        try disk.writeExtent(1, [UInt8](repeating: 7, count: length))
        #expect(try disk.readSectors(at: UInt64(length / 512), count: 1) == [UInt8](repeating: 7, count: 512))
        try disk.writeExtent(1, [])
        #expect(try disk.readSectors(at: UInt64(length / 512), count: length / 512).allSatisfy { $0 == 0 })
    }

    @Test func aDiskOfAnotherVMOrAResizedImageIsRefused() throws {
        try withImage(sectors: 1024) { path in
            try MirroredDisk(path: path, vm: "db").start(instance: [1], generation: 1)
            #expect(throws: MirroredDiskError.otherVM(path: path, vm: "db", wanted: "web")) { try MirroredDisk(path: path, vm: "web") }
            try Data(count: 2048 * 512).write(to: URL(fileURLWithPath: path))
            #expect(throws: MirroredDiskError.resized(path: path, recorded: 1024, actual: 2048)) { try MirroredDisk(path: path, vm: "db") }
        }
    }

    @Test func aHostThatWentDownLeavesAnUntrustedHistory() throws {
        try withImage(sectors: 1024) { path in
            try MirroredDisk(path: path, vm: "db").start(instance: [1], generation: 1)
            // As if the host had rebooted while the node ran: another boot id, not clean.
            var record = try DiskRecord(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".lockstep"))))
            #expect(!record.clean)
            record.bootID = "an-earlier-boot"
            try Data(record.encoded).write(to: URL(fileURLWithPath: path + ".lockstep"))
            #expect(try MirroredDisk(path: path, vm: "db").record?.historyTrusted == false)
        }
        try withImage(sectors: 1024) { path in
            let disk = try MirroredDisk(path: path, vm: "db")
            try disk.start(instance: [1], generation: 1)
            disk.closeCleanly()
            var record = try DiskRecord(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".lockstep"))))
            #expect(record.clean)
            record.bootID = "an-earlier-boot"
            try Data(record.encoded).write(to: URL(fileURLWithPath: path + ".lockstep"))
            #expect(try MirroredDisk(path: path, vm: "db").record?.historyTrusted == true)   // a clean stop before the reboot
        }
    }

    @Test func aDamagedRecordIsATypedError() throws {
        try withImage(sectors: 1024) { path in
            try Data("garbage".utf8).write(to: URL(fileURLWithPath: path + ".lockstep"))
            #expect(throws: MirroredDiskError.self) { try MirroredDisk(path: path, vm: "db") }
        }
    }
}
