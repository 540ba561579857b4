import ELF
import Foundation
import Conformance
import JIT
import Machine
import Testing

/// The lockstep checker on real guests: every bare-metal program of guests/out and the Linux
/// boot, interpreter and JIT side by side, state hashes compared after every step.
@Suite struct LockstepCheckerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The bare-metal programs built by guests/build.sh.
    static var programs: [String] {
        let directory = root.appendingPathComponent("guests/out").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".elf") }.sorted().map { directory + "/" + $0 }
    }

    @Test func everyGuestProgramIsBuilt() {
        #expect(Self.programs.count >= 10, "run guests/build.sh first (scripts/test.sh does)")
    }

    /// Each program to its end or 10 M instructions, compared every 250 000 instructions and, over
    /// the first 2 M, every 9 973 (a prime, so the steps cut blocks at every offset).
    @Test(arguments: programs)
    func guestProgram(path: String) throws {
        let file = try ELFFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        let checker = LockstepChecker {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 64 << 20))
            try machine.load(elf: file)
            return machine
        }
        let coarse = try checker.check(step: 250_000, total: 10_000_000)
        #expect(coarse.firstDifference == nil, "\(path): \(coarse)")
        let fine = try checker.check(step: 9_973, total: 2_000_000)
        #expect(fine.firstDifference == nil, "\(path): \(fine)")
        print("checker: \((path as NSString).lastPathComponent): \(coarse); fine steps: \(fine)")
    }

    static var linuxImages: (kernel: String, initrd: String) {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return (cache + "/linux/current/Image", cache + "/linux/current/initramfs.cpio.gz")
    }

    /// The default guest's boot to its shell prompt (about 140 M instructions) and on, to
    /// 300 M, compared every 5 M; with the JIT translating every block the first time it runs,
    /// and with the default threshold.
    @Test(arguments: [0, JITAccelerator.defaultTranslationThreshold])
    func linuxBoot(translationThreshold: Int) throws {
        let images = Self.linuxImages
        guard let kernel = FileManager.default.contents(atPath: images.kernel),
              let initrd = FileManager.default.contents(atPath: images.initrd) else {
            Issue.record("\(images.kernel) or its initrd is missing: run guests/linux/build.sh first (scripts/test.sh does)")
            return
        }
        var console: [UInt8] = []
        var first = true
        var checker = LockstepChecker {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 128 << 20, entropySeed: 1))
            try machine.bootLinux(kernel: try LinuxImage(bytes: [UInt8](kernel)), initrd: [UInt8](initrd), commandLine: "console=ttyS0")
            if first { machine.routeConsole { console.append($0) }; first = false }
            return machine
        }
        checker.translationThreshold = translationThreshold
        let report = try checker.check(step: 5_000_000, total: 300_000_000)
        #expect(report.firstDifference == nil, "\(report)")
        #expect(String(decoding: console, as: UTF8.self).contains("init ready"), "the boot did not reach the shell")
        print("checker: linux boot, translation threshold \(translationThreshold): \(report)")
    }
}
