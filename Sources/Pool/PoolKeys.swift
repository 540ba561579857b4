/// Where the pool keeps its state in etcd (docs/pool.md).
public struct PoolKeys: Sendable {
    /// The root of every key (`/lockstep`).
    public let root: String

    public init(root: String = "/lockstep") { self.root = root }

    public var hosts: String { "\(root)/hosts/" }
    public func host(_ name: String) -> String { "\(root)/hosts/\(name)" }
    public var vms: String { "\(root)/vms/" }
    public func spec(_ vm: String) -> String { "\(root)/vms/\(vm)/spec" }
    public func placement(_ vm: String) -> String { "\(root)/vms/\(vm)/placement" }
    public func nodes(_ vm: String) -> String { "\(root)/vms/\(vm)/nodes/" }
    public func node(_ vm: String, host: String) -> String { "\(root)/vms/\(vm)/nodes/\(host)" }
    /// The VM's generation: the arbiter's key (``Arbitration/EtcdArbiter``).
    public func generation(_ vm: String) -> String { "\(root)/vms/\(vm)/generation" }
    /// A planned switchover asked for (`lockstep vm switchover`): the request's id.
    public func switchover(_ vm: String) -> String { "\(root)/vms/\(vm)/switchover" }
    /// A planned move of the VM's backup (`lockstep vm move --backup-to`): the target host.
    public func move(_ vm: String) -> String { "\(root)/vms/\(vm)/move" }
    /// What the health policy last did about the VM (``HealthActions``).
    public func healthActions(_ vm: String) -> String { "\(root)/vms/\(vm)/health-actions" }
    /// Hosts the health policy suspects (``HealthPolicy``): why, as text.
    public var suspects: String { "\(root)/suspect/" }
    public func suspect(_ host: String) -> String { "\(root)/suspect/\(host)" }
    /// Hosts being drained (`lockstep host drain`).
    public var drains: String { "\(root)/drain/" }
    public func drain(_ host: String) -> String { "\(root)/drain/\(host)" }
    /// What a VM holds that no other VM may have (its MAC address, each of its ports), written
    /// with its spec in one transaction, so that two `vm create` at once cannot pick the same:
    /// the VM's name.
    public var claims: String { "\(root)/claims/" }
    public func macClaim(_ mac: String) -> String { "\(root)/claims/mac/\(mac.lowercased())" }
    public func portClaim(_ port: Int) -> String { "\(root)/claims/port/\(port)" }
    /// The claims of `spec`'s MAC address (if it has one) and of its three ports.
    public func claims(of spec: VMSpec) -> [String] {
        (spec.mac.map { [macClaim($0)] } ?? []) + (0..<3).map { portClaim(spec.basePort + $0) }
    }
    /// The agent that places VMs now.
    public var leader: String { "\(root)/leader" }
}
