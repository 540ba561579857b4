import LockstepSupport

/// Reads files out of an ext2/3/4 image with e2fsprogs' `debugfs` (read-only: it opens the image
/// without `-w` and mounts nothing). `debugfs -R REQUEST` prints its banner and its complaints on
/// standard error and exits 0 either way, so every answer is checked: a file's size comes from
/// `stat`, and `cat` must give exactly that many bytes.
///
/// It opens the file system in "catastrophic" mode (`-c`: the block and inode bitmaps are not
/// read; reading files does not need them). A guest stopped uncleanly (a killed node, a power
/// cut) leaves bitmaps whose checksums do not match until its journal is replayed, and without
/// `-c` debugfs refuses to open such a file system at all: that is the disk a node boots from
/// after both nodes stopped. debugfs does not replay the journal either, so a file written just
/// before an unclean stop may not be visible yet (the guest's next mount replays it).
struct DebugFS {
    let tool: HostCommand
    let image: String

    /// What `stat` says of a path.
    struct Entry: Equatable {
        enum Kind: Equatable { case regular, directory, symlink, other(String) }
        var kind: Kind
        var size: UInt64
        /// A symbolic link's target when it is stored in the inode ("fast"); nil for a longer
        /// target, which is the link's data (``linkTarget(of:)`` reads it).
        var fastLinkTarget: String?
    }

    /// One entry of a directory listing.
    struct DirectoryEntry: Equatable {
        var name: String
        var mode: UInt32
        var isRegularFile: Bool { mode & 0o170000 == 0o100000 }
        var isSymlink: Bool { mode & 0o170000 == 0o120000 }
    }

    /// debugfs for `image`, or the error saying to install e2fsprogs.
    static func open(_ image: String) throws(BootFromDiskError) -> DebugFS {
        guard let tool = HostCommand.find("debugfs") else { throw .toolMissing(tool: "debugfs", package: "e2fsprogs") }
        return DebugFS(tool: tool, image: image)
    }

    /// `path` quoted for a debugfs request (its parser takes double quotes).
    static func quoted(_ path: String) -> String { "\"" + path + "\"" }

    /// What is at `path` (not following a final symbolic link), or nil when nothing is.
    func stat(_ path: String) throws(BootFromDiskError) -> Entry? {
        let output = try request("stat \(Self.quoted(path))", path: path)
        let text = String(decoding: output.standardOutput, as: UTF8.self)
        guard let typeLine = text.split(separator: "\n").first(where: { $0.hasPrefix("Inode:") }) else {
            if output.standardError.contains("not found") { return nil }
            throw .unreadableFile(image: image, path: path, reason: "debugfs stat: \(Self.complaint(output))")
        }
        let kind: Entry.Kind
        switch Self.word(after: "Type:", in: typeLine) {
        case "regular": kind = .regular
        case "directory": kind = .directory
        case "symlink": kind = .symlink
        case let other: kind = .other(other ?? "unknown")
        }
        // "User: 0   Group: 0   Project: 0   Size: 35" (another line has a fragment's "Size: 0").
        guard let userLine = text.split(separator: "\n").first(where: { $0.hasPrefix("User:") }),
              let size = Self.word(after: "Size:", in: userLine).flatMap({ UInt64($0) }) else {
            throw .unreadableFile(image: image, path: path, reason: "debugfs stat printed no size")
        }
        var target: String?
        let marker = "Fast link dest: \""
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(marker) }), line.hasSuffix("\"") {
            target = String(line.dropFirst(marker.count).dropLast())
        }
        return Entry(kind: kind, size: size, fastLinkTarget: target)
    }

    /// The whole contents of the regular file (or the data of the link) at `path`, `size` bytes.
    func read(_ path: String, size: UInt64) throws(BootFromDiskError) -> [UInt8] {
        let output = try request("cat \(Self.quoted(path))", path: path)
        guard UInt64(output.standardOutput.count) == size else {
            throw .unreadableFile(image: image, path: path,
                                  reason: "debugfs cat gave \(output.standardOutput.count) bytes of \(size) (\(Self.complaint(output)))")
        }
        return output.standardOutput
    }

    /// The target of the symbolic link at `path` (whose `stat` is `entry`).
    func linkTarget(of path: String, entry: Entry) throws(BootFromDiskError) -> String {
        if let target = entry.fastLinkTarget { return target }
        return String(decoding: try read(path, size: entry.size), as: UTF8.self)
    }

    /// The entries of the directory `path` (empty when there is none).
    func list(_ path: String) throws(BootFromDiskError) -> [DirectoryEntry] {
        // `ls -p`: one "/inode/mode/uid/gid/name/size/" line per entry.
        let output = try request("ls -p \(Self.quoted(path))", path: path)
        return String(decoding: output.standardOutput, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "/", omittingEmptySubsequences: false)
            guard fields.count >= 7, let mode = UInt32(fields[2], radix: 8) else { return nil }
            let name = fields[5...(fields.count - 3)].joined(separator: "/")
            guard name != ".", name != ".." else { return nil }
            return DirectoryEntry(name: name, mode: mode)
        }
    }

    private func request(_ request: String, path: String) throws(BootFromDiskError) -> HostCommand.Output {
        do {
            return try tool.run(["-c", "-R", request, image], timeout: 120)
        } catch {
            throw .unreadableFile(image: image, path: path, reason: error.description)
        }
    }

    /// debugfs's complaints, without its banner and the catastrophic mode's notice.
    private static func complaint(_ output: HostCommand.Output) -> String {
        let lines = output.standardError.split(separator: "\n").filter { !$0.hasPrefix("debugfs ") && !$0.contains("catastrophic mode") }
        return lines.isEmpty ? "no message" : lines.joined(separator: "; ")
    }

    /// The word after `label` in `line`.
    private static func word(after label: String, in line: Substring) -> String? {
        guard let range = line.range(of: label) else { return nil }
        return line[range.upperBound...].split(separator: " ").first.map(String.init)
    }
}
