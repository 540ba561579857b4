import Foundation

/// The guest a ``LabCluster`` runs: the default Linux guest (guests/linux), or the Debian system
/// that guests/debian/build.sh builds as a disk image.
public enum LabGuest: Sendable, Equatable {
    /// The default Linux guest (kernel 6.1 + busybox, Redis built from source), booted from the
    /// cached kernel and initramfs with `lockstep.service=` and the kernel's `ip=` argument. With
    /// ``LabCluster/Options/diskMiB`` it gets a data disk that Redis keeps its append-only file on.
    case standard
    /// Debian trixie from guests/debian/build.sh's image directory (`disk.img`, `cmdline`): the
    /// mirrored disk is a copy of its root file system and each node boots the kernel and initrd
    /// found in it (`lockstep node --boot-from-disk`). Redis is Debian's redis-server, told by a
    /// systemd drop-in written into the copy (``DebianLabImage``) to listen on the LAN and keep
    /// an append-only file with `appendfsync always` on the root file system; the guest's LAN
    /// address is set by a systemd-networkd file written there too. Needs `--memory 1024`
    /// (``LabCluster/Options/debian(lockstep:lockstepKV:imageDirectory:)`` sets it) and boots in
    /// about 17 billion instructions, so its waits are long.
    case debian(imageDirectory: String)

    /// Where guests/debian/build.sh publishes its newest image: `$LOCKSTEP_CACHE/debian/current`
    /// (`~/.cache/lockstep/debian/current` by default).
    public static var defaultDebianImageDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/debian/current"
    }

    /// The files of a Debian image directory that the lab uses.
    static let debianFiles = ["disk.img", "cmdline"]

    /// Checks that the guest's files are there; throws saying how to build them.
    public func checkBuilt() throws {
        guard case .debian(let directory) = self else { return }
        for file in Self.debianFiles where !FileManager.default.fileExists(atPath: directory + "/" + file) {
            throw FaultInjectionError.setup("the Debian image has no \(file) in \(directory): build it with guests/debian/build.sh (as root), or name its directory")
        }
    }
}
