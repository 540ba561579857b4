import Foundation

/// A host of the pool as its agent registers it in etcd (`/lockstep/hosts/<name>`, bound to the
/// agent's lease: the key disappears when the host stops renewing it).
public struct HostRecord: Codable, Equatable, Sendable {
    /// The host's name (its nodes' `--node-id`).
    public var name: String
    /// The address its nodes listen on for lines and consoles, and that peers dial.
    public var address: String
    /// Memory the host offers to guests (MiB).
    public var memoryMiB: Int
    /// Whether the host takes new VMs (false while it is drained).
    public var schedulable: Bool

    public init(name: String, address: String, memoryMiB: Int, schedulable: Bool = true) {
        self.name = name
        self.address = address
        self.memoryMiB = memoryMiB
        self.schedulable = schedulable
    }
}

/// A VM as declared (`lockstep vm create`; `/lockstep/vms/<name>/spec`): what its nodes run.
public struct VMSpec: Codable, Equatable, Sendable {
    public var name: String
    public var memoryMiB: Int
    /// A mirrored disk of this size per node (nil: none). Each host keeps its copy in its data
    /// directory; a new copy is filled by the live copy from the primary.
    public var diskMiB: Int?
    /// The raw image the VM's disk starts from (nil: a new ext4 disk of ``diskMiB``): copied by the
    /// agent of the VM's first primary; every other host gets the disk by live copy.
    public var diskImage: String?
    /// The guest kernel's command line.
    public var append: String
    /// `--netdev` of the nodes (nil: none).
    public var netdev: String?
    /// `--mac` of the nodes: the guest's MAC address, unique in the pool (`lockstep vm create`
    /// picks one unless given; nil in a record from before: QEMU's default).
    public var mac: String?
    /// `--disk-sync` of the nodes.
    public var diskSync: String
    /// The VM's ports on every host: lines at `basePort` and `basePort + 1`, console at `basePort + 2`.
    public var basePort: Int
    /// How the agent of the primary's host probes the VM's service (nil: not probed).
    public var probe: ProbeSpec?
    /// False: the health policy never switches this VM over, it only says it would
    /// (`lockstep vm create --no-health-switchover`). Nil: on.
    public var healthSwitchover: Bool?

    public init(name: String, memoryMiB: Int, diskMiB: Int? = nil, append: String, netdev: String? = nil,
                diskSync: String = "primary", basePort: Int) {
        self.name = name
        self.memoryMiB = memoryMiB
        self.diskMiB = diskMiB
        self.append = append
        self.netdev = netdev
        self.diskSync = diskSync
        self.basePort = basePort
    }
}

/// Where a VM's two nodes run (`/lockstep/vms/<name>/placement`), decided by the pool's leader.
public struct Placement: Codable, Equatable, Sendable {
    /// The hosts that run the VM's nodes (at most two; fewer while no host has room).
    public var hosts: [String]
    /// Why the VM has fewer than two hosts, for `lockstep vm show` and the status page.
    public var waiting: String?

    public init(hosts: [String], waiting: String? = nil) {
        self.hosts = hosts
        self.waiting = waiting
    }
}

/// What a node of a VM is doing, as its host's agent sees it (`/lockstep/vms/<vm>/nodes/<host>`,
/// bound to the agent's lease).
public struct NodeStatus: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable {
        /// Started, not yet primary or backup.
        case starting
        /// The live primary, with a backup in step.
        case primary
        /// The live primary without a backup (alone, or while a new one is copied).
        case primaryAlone = "primary-alone"
        /// A backup in step with its primary.
        case backup
        /// The node process is not running (it ended; the agent starts it again).
        case stopped
    }

    public var host: String
    public var role: Role
    /// The node's last line of interest (a copy's progress, why it stopped).
    public var detail: String
    /// When the agent wrote this (seconds since 1970).
    public var updated: Double
    /// The VM's service as this host's probes see it (while the primary runs here).
    public var health: ServiceHealth?
    /// The peer node (its host) this node declared lost (every line silent past the heartbeat
    /// timeout), until a node on that host is connected again: the leader replaces that host in
    /// the VM's placement at once, without waiting for its lease to expire, unless that host has
    /// reported a node of the VM since the declaration was first reported (a new node there,
    /// placed again): ``lostPeerRevision``.
    public var lostPeer: String?
    /// When this host's agent read the declaration (seconds since 1970, this host's clock: for
    /// people; the rule compares etcd revisions, which no clock skew between hosts can confuse).
    public var lostPeerSince: Double?
    /// The etcd revision of the first report that named ``lostPeer``; nil in that report itself,
    /// whose own revision it is.
    public var lostPeerRevision: Int64?
    /// A live copy's progress on this node (0...1, two decimals): re-protection under way.
    public var copy: Double?

    public init(host: String, role: Role, detail: String, updated: Double, health: ServiceHealth? = nil, lostPeer: String? = nil,
                lostPeerSince: Double? = nil) {
        self.host = host
        self.role = role
        self.detail = detail
        self.updated = updated
        self.health = health
        self.lostPeer = lostPeer
        self.lostPeerSince = lostPeerSince
    }
}

/// What the pool's health policy (``HealthPolicy``) last did about a VM, with when and why
/// (`/lockstep/vms/<vm>/health-actions`, written by the leader; `lockstep vm show` and
/// `lockstep status` show it).
public struct HealthActions: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        /// Seconds since 1970.
        public var time: Double
        public var text: String

        public init(time: Double, text: String) {
            self.time = time
            self.text = text
        }
    }

    /// The last health switchover: "switched over from h1 to h2: failing for 2.0 s: ...".
    public var switchover: Entry?
    /// The last time the policy would have switched the VM over and did not, and why.
    public var held: Entry?

    public init(switchover: Entry? = nil, held: Entry? = nil) {
        self.switchover = switchover
        self.held = held
    }
}

/// JSON in and out of etcd values.
enum PoolJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [UInt8]((try? encoder.encode(value)) ?? Data())
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], key: String) throws(PoolError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw .malformedRecord(key: key, detail: "\(error)")
        }
    }
}
