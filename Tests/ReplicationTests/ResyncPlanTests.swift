import HostIO
@testable import Replication
import Testing

/// The primary's resync decision, checked against a model of two disks that evolve as the
/// protocol makes them: the primary writes, the backup executes a prefix of what the primary
/// wrote, either node dies at any point (a dead primary may have written what its backup never
/// executed), the survivor claims the next generation and goes on, the dead node comes back.
/// Whatever happens, the plan must name every extent where the disks differ (the contents are
/// compared, not the records), and the copy must leave them equal.
@Suite struct ResyncPlanTests {
    static let extents = 64
    static let sectors = UInt64(extents) * DiskRecord.defaultExtentSectors

    /// A node's disk in the model: contents (a version per extent) and its real record.
    struct ModelDisk {
        var contents: [UInt64]
        var record: DiskRecord

        mutating func write(_ extent: Int, _ value: UInt64) {
            contents[extent] = value
            _ = record.markWritten(extent)
        }
    }

    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    func report(_ disk: ModelDisk) -> DiskReport {
        DiskReport(instance: disk.record.instance, generation: disk.record.generation, sectorCount: disk.record.sectorCount,
                   extentSectors: disk.record.extentSectors, state: disk.record.state, historyTrusted: disk.record.historyTrusted,
                   written: disk.record.currentWrites.bytes, wantsFull: false)
    }

    /// Joins `backup` to `primary` as the node would: plan, copy, adopt. Returns how many
    /// extents the plan named and whether the backup's own written extents were needed.
    func join(_ backup: inout ModelDisk, to primary: ModelDisk, seed: UInt64) -> (copied: Int, ownNeeded: Bool) {
        let differing = (0..<Self.extents).filter { backup.contents[$0] != primary.contents[$0] }
        let plan = ResyncPlan.decide(primary: primary.record, backup: report(backup))
        guard case .copy(let set, let full) = plan else {
            Issue.record("seed \(seed): a legitimate rejoin was refused: \(plan)")
            return (0, false)
        }
        #expect(!full, "seed \(seed)")
        for extent in differing where !set.contains(extent) {
            Issue.record("seed \(seed): extent \(extent) differs (backup \(backup.contents[extent]), primary \(primary.contents[extent])) but the plan leaves it out")
        }
        let fromPrimary = primary.record.writes(since: backup.record.generation)!
        let ownNeeded = differing.contains { !fromPrimary.contains($0) }
        for extent in set.members { backup.write(extent, primary.contents[extent]) }
        backup.record.adopt(instance: primary.record.instance, generation: primary.record.generation)
        #expect(backup.contents == primary.contents, "seed \(seed)")
        return (set.count, ownNeeded)
    }

    @Test(arguments: 0..<300) func everyDifferingExtentIsCopied(seed: Int) {
        var g = Generator(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let instance: [UInt8] = Array(0..<16)
        let fresh = DiskRecord(vm: "db", instance: instance, sectorCount: Self.sectors, generation: 1, bootID: "")
        var nodes = [ModelDisk(contents: Array(repeating: 0, count: Self.extents), record: fresh),
                     ModelDisk(contents: Array(repeating: 0, count: Self.extents), record: fresh)]
        var primary = 0
        var generation: UInt64 = 1
        var version: UInt64 = 0
        var ownNeeded = false
        // The primary's writes since the backup joined, in order; the backup has executed `executed` of them.
        var stream: [(Int, UInt64)] = []
        var executed = 0
        var backupAlive = true
        for _ in 0..<40 {
            switch g.next(10) {
            case 0...4:   // the guest writes (a few extents)
                for _ in 0...g.next(4) {
                    version += 1
                    let extent = g.next(Self.extents)
                    nodes[primary].write(extent, version)
                    if backupAlive { stream.append((extent, version)) }
                }
            case 5...6 where backupAlive:   // the backup executes some more of the log
                let upTo = executed + g.next(stream.count - executed + 1)
                for (extent, value) in stream[executed..<upTo] { nodes[1 - primary].write(extent, value) }
                executed = upTo
            case 7 where backupAlive:   // the backup dies; the primary claims and goes on alone
                backupAlive = false
                generation += 1
                nodes[primary].record.beginGeneration(generation)
            case 8 where backupAlive:   // the primary dies: the backup executes what it received, claims, goes live
                let received = executed + g.next(stream.count - executed + 1)
                for (extent, value) in stream[executed..<received] { nodes[1 - primary].write(extent, value) }
                primary = 1 - primary
                backupAlive = false
                generation += 1
                nodes[primary].record.beginGeneration(generation)
            default:   // the dead node comes back and joins
                guard !backupAlive else { continue }
                var backup = nodes[1 - primary]
                ownNeeded = join(&backup, to: nodes[primary], seed: UInt64(seed)).ownNeeded || ownNeeded
                nodes[1 - primary] = backup
                backupAlive = true
                stream = []
                executed = 0
            }
        }
        _ = ownNeeded
    }

    /// The model above is able to catch a plan that leaves out the backup's own writes: some
    /// seeds need them (a primary died after writing what its backup never executed).
    @Test func theBackupsOwnWritesAreSometimesNeeded() {
        var needed = 0
        for seed in 0..<300 {
            var g = Generator(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
            let instance: [UInt8] = Array(0..<16)
            let fresh = DiskRecord(vm: "db", instance: instance, sectorCount: Self.sectors, generation: 1, bootID: "")
            var old = ModelDisk(contents: Array(repeating: 0, count: Self.extents), record: fresh)
            var survivor = old
            // The old primary writes 3 extents its backup never executes, then dies.
            for _ in 0..<3 { old.write(g.next(Self.extents), UInt64(seed + 1)) }
            survivor.record.beginGeneration(2)
            survivor.write(g.next(Self.extents), 999)
            if join(&old, to: survivor, seed: UInt64(seed)).ownNeeded { needed += 1 }
        }
        #expect(needed > 0)
    }

    func record(_ generation: UInt64, instance: [UInt8] = Array(0..<16)) -> DiskRecord {
        DiskRecord(vm: "db", instance: instance, sectorCount: Self.sectors, generation: generation, bootID: "")
    }

    @Test func disksThatCannotBeProvenEqualAreRefusedUnlessAFullResyncIsAsked() {
        let primary = record(5)
        func decide(_ change: (inout DiskReport) -> Void) -> ResyncPlan {
            var backup = report(ModelDisk(contents: [], record: record(5)))
            change(&backup)
            return ResyncPlan.decide(primary: primary, backup: backup)
        }
        func refused(_ plan: ResyncPlan, _ words: String) -> Bool {
            if case .refuse(let why) = plan { return why.contains(words) && why.contains("--resync full") }
            return false
        }
        #expect(decide { _ in } == .copy(ExtentSet(extentCount: Self.extents), full: false))
        #expect(refused(decide { $0.instance = [] }, "no record"))
        #expect(refused(decide { $0.instance = Array(repeating: 1, count: 16) }, "another instance"))
        #expect(refused(decide { $0.generation = 6 }, "newer"))
        #expect(refused(decide { $0.historyTrusted = false }, "host went down"))
        if case .refuse(let why) = decide({ $0.generation = 1 }) { #expect(why.contains("does not reach back")) } else { Issue.record("accepted") }
        for change in [{ (r: inout DiskReport) in r.instance = [] }, { $0.generation = 6 }, { $0.historyTrusted = false }] {
            #expect(decide { change(&$0); $0.wantsFull = true } == .copy(.all(Self.extents), full: true))
        }
        if case .refuse(let why) = decide({ $0.sectorCount = 1 }) { #expect(why.contains("same size")) } else { Issue.record("accepted") }
        // An interrupted full resync goes on in full without being asked again.
        #expect(decide { $0.instance = []; $0.state = .fullResync } == .copy(.all(Self.extents), full: true))
    }

    /// A VM with two disks: each disk is decided on its own (a quick resync of one, a full one of
    /// the other), matched by place; another number of disks, disks given in another order (each
    /// disk has its own instance) or one disk that cannot be proven equal refuse the backup,
    /// naming the disk and what to do.
    @Test func twoDisksAreDecidedEachOnItsOwnAndMatchedByPlace() {
        var first = ModelDisk(contents: Array(repeating: 0, count: Self.extents), record: record(3, instance: Array(0..<16)))
        var second = ModelDisk(contents: Array(repeating: 0, count: Self.extents), record: record(3, instance: Array(16..<32)))
        var backupFirst = first
        let backupSecond = second
        // The backup wrote extent 1 of its first disk in generation 3 (never executed by the
        // primary), then the primary moved on to generation 4 and wrote extent 9 of its second disk.
        backupFirst.write(1, 7)
        first.record.beginGeneration(4)
        second.record.beginGeneration(4)
        second.write(9, 8)
        var reports = [report(backupFirst), report(backupSecond)]
        reports[1].wantsFull = false
        let primary = [first.record, second.record]
        guard case .copy(let disks) = ResyncDecision.decide(primary: primary, backup: reports) else {
            Issue.record("refused: \(ResyncDecision.decide(primary: primary, backup: reports))")
            return
        }
        #expect(disks.map(\.extents.members) == [[1], [9]] && disks.map(\.full) == [false, false])
        // Asked for in full: every disk in full.
        let full = reports.map { var r = $0; r.wantsFull = true; return r }
        #expect(ResyncDecision.decide(primary: primary, backup: full) == .copy([.init(extents: .all(Self.extents), full: true),
                                                                                 .init(extents: .all(Self.extents), full: true)]))

        func refusal(_ backup: [DiskReport]) -> String {
            if case .refuse(let why) = ResyncDecision.decide(primary: primary, backup: backup) { return why }
            return "accepted"
        }
        let one = refusal([reports[0]])
        #expect(one.contains("has 2 disks, this backup 1 disk") && one.contains("--disk given 2 times"), "\(one)")
        #expect(refusal([]).contains("this backup no disk"))
        let swapped = refusal([reports[1], reports[0]])
        #expect(swapped.contains("disk 1 of 2 (the first --disk)") && swapped.contains("another instance"), "\(swapped)")
        var blank = reports
        blank[1].instance = []
        let fresh = refusal(blank)
        #expect(fresh.contains("disk 2 of 2 (the second --disk)") && fresh.contains("no record") && fresh.contains("--resync full"), "\(fresh)")
        var small = reports
        small[1].sectorCount = 8
        #expect(refusal(small).contains("disk 2 of 2") && refusal(small).contains("same size"))
        // One disk: the reasons as they always were, without a disk number.
        if case .refuse(let why) = ResyncDecision.decide(primary: [first.record], backup: [reports[1]]) {
            #expect(why.hasPrefix("the backup's disk belongs to another instance"), "\(why)")
        } else {
            Issue.record("accepted another instance")
        }
    }
}
