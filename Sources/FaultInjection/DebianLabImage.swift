import Foundation

/// The Debian guest's disk for the network lab: a sparse copy of guests/debian/build.sh's
/// `disk.img` with two files added to its root file system before the first boot, written from
/// the host with e2fsprogs' `debugfs -w` (no mount, no root inside the guest needed):
///
/// - `/etc/systemd/network/10-lockstep-lab.network`: the guest's LAN address and gateway. The lab
///   has no DHCP server, and this file sorts before the image's `20-wired.network` (DHCP), so
///   systemd-networkd applies it to the Ethernet interface instead.
/// - `/etc/systemd/system/redis-server.service.d/lockstep-lab.conf`: Debian's redis-server, run
///   with its own `/etc/redis/redis.conf` and these overrides on the command line: `--bind
///   0.0.0.0 --protected-mode no` (the client is on the LAN; Debian listens on loopback only),
///   `--appendonly yes --appendfsync always` (every acknowledged write is on the disk before the
///   reply: `/var/lib/redis/appendonlydir` on the root file system, which is the mirrored disk),
///   `--save ""` (no RDB snapshots beside it).
///
/// The file system is checked with `e2fsck -fn` afterwards.
enum DebianLabImage {
    /// The systemd-networkd file for `address` (CIDR) and `gateway`.
    static func networkFile(address: String, gateway: String) -> String {
        """
        # lockstep-soak: the network lab's LAN has no DHCP server; the guest's address is fixed.
        [Match]
        Type=ether

        [Network]
        Address=\(address)
        Gateway=\(gateway)
        DHCP=no
        LinkLocalAddressing=no
        IPv6AcceptRA=no

        """
    }

    /// The redis-server drop-in.
    static let redisDropIn = """
        # lockstep-soak: Redis reachable on the lab's LAN, every write fsynced to the append-only
        # file before it is acknowledged.
        [Service]
        ExecStart=
        ExecStart=/usr/bin/redis-server /etc/redis/redis.conf --supervised systemd --daemonize no --bind 0.0.0.0 --protected-mode no --appendonly yes --appendfsync always --save ""

        """

    /// Copies `source` to `destination` (sparse) and adds the lab's files (see the type).
    static func prepare(source: String, destination: String, address: String, gateway: String) throws {
        guard let debugfs = ShortCommand.find("debugfs"), let e2fsck = ShortCommand.find("e2fsck") else {
            throw FaultInjectionError.setup("debugfs or e2fsck not found: install e2fsprogs (apt-get install e2fsprogs)")
        }
        let copy = try ShortCommand.run("/bin/cp", ["--sparse=always", source, destination], timeout: 600)
        guard copy.succeeded else { throw FaultInjectionError.setup("copying the Debian image: \(copy)") }
        let work = URL(fileURLWithPath: destination).deletingLastPathComponent()
            .appendingPathComponent("debian-lab-files-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let files: [(directory: String, name: String, text: String, newDirectory: Bool)] = [
            ("/etc/systemd/network", "10-lockstep-lab.network", networkFile(address: address, gateway: gateway), false),
            ("/etc/systemd/system/redis-server.service.d", "lockstep-lab.conf", redisDropIn, true),
        ]
        var commands = ""
        for (index, file) in files.enumerated() {
            let local = work.appendingPathComponent("\(index)")
            try Data(file.text.utf8).write(to: local)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: local.path)
            // debugfs's `write` names a file in its current directory; `mkdir` of a directory
            // that exists damages e2fsprogs 1.47.0's file system, so only new ones are made.
            if file.newDirectory { commands += "mkdir \(file.directory)\n" }
            commands += "cd \(file.directory)\nwrite \(local.path) \(file.name)\n"
        }
        // Nothing of ours may be there already (a rebuilt image that has it: say so).
        for file in files {
            let path = file.directory + "/" + file.name
            let found = try ShortCommand.run(debugfs, ["-R", "stat \(path)", destination], timeout: 60)
            guard found.standardError.contains("File not found") else {
                throw FaultInjectionError.setup("the Debian image already has \(path) (\(found.standardError)): use an image built by guests/debian/build.sh")
            }
            if file.newDirectory {
                let directory = try ShortCommand.run(debugfs, ["-R", "stat \(file.directory)", destination], timeout: 60)
                guard directory.standardError.contains("File not found") else {
                    throw FaultInjectionError.setup("the Debian image already has \(file.directory): use an image built by guests/debian/build.sh")
                }
            }
        }
        let script = work.appendingPathComponent("commands")
        try Data(commands.utf8).write(to: script)
        let written = try ShortCommand.run(debugfs, ["-w", "-f", script.path, destination], timeout: 120)
        let complaints = written.standardError.split(separator: "\n").filter { !$0.hasPrefix("debugfs ") }
        guard written.succeeded, complaints.isEmpty else {
            throw FaultInjectionError.setup("debugfs -w on \(destination): \(written)")
        }
        for file in files {
            let path = file.directory + "/" + file.name
            let back = try ShortCommand.run(debugfs, ["-R", "cat \(path)", destination], timeout: 60)
            guard back.standardOutput == file.text else {
                throw FaultInjectionError.setup("\(path) in \(destination) does not read back as written: \(back)")
            }
        }
        let check = try ShortCommand.run(e2fsck, ["-fn", destination], timeout: 300)
        guard check.succeeded else { throw FaultInjectionError.setup("e2fsck -fn \(destination) after writing the lab's files: \(check)") }
    }
}
