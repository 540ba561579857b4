/// A devicetree node: a name (`node-name@unit-address`, empty for the root), its properties in
/// order, and its child nodes in order (Devicetree Specification v0.4, §2.2).
public struct DeviceTreeNode: Hashable, Sendable {
    /// The node name with its unit address, e.g. `serial@10000000`; empty for the root node.
    public var name: String
    /// The properties, in the order they are serialized. Names are unique within a node.
    public private(set) var properties: [DeviceTreeProperty]
    /// The child nodes, in the order they are serialized. Names are unique among siblings.
    public private(set) var children: [DeviceTreeNode]

    /// A node with the given properties and children; names must be unique within each list.
    public init(_ name: String, properties: [DeviceTreeProperty] = [], children: [DeviceTreeNode] = []) {
        precondition(!name.utf8.contains(0) && !name.contains("/"), "invalid node name \(name.debugDescription)")
        self.name = name
        self.properties = []
        self.children = []
        for property in properties { add(property) }
        for child in children { add(child) }
    }

    /// Adds a property, which must not be present yet.
    public mutating func add(_ property: DeviceTreeProperty) {
        precondition(self.property(named: property.name) == nil, "duplicate property \(property.name) in node \(name.debugDescription)")
        properties.append(property)
    }

    /// Adds a child node; no other child may have the same name.
    public mutating func add(_ child: DeviceTreeNode) {
        precondition(!child.name.isEmpty, "only the root node has an empty name")
        precondition(self.child(named: child.name) == nil, "duplicate child \(child.name) in node \(name.debugDescription)")
        children.append(child)
    }

    /// The property with this name, if any.
    public func property(named name: String) -> DeviceTreeProperty? {
        properties.first { $0.name == name }
    }

    /// The direct child with this name (including the unit address), if any.
    public func child(named name: String) -> DeviceTreeNode? {
        children.first { $0.name == name }
    }
}
