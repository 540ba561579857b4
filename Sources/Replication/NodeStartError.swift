/// Why a node cannot start its VM.
public enum NodeStartError: Error, Equatable, CustomStringConvertible {
    /// The arbiter has never seen the VM, but this node's disk was used by it.
    case diskAhead(vm: String, generation: UInt64)

    public var description: String {
        switch self {
        case .diskAhead(let vm, let generation):
            return "this node's disk was used by VM '\(vm)' up to generation \(generation), but the arbiter has never seen the VM (a new or reset arbiter?): starting it anew would fork the disk's history; use the arbiter that ran the VM, or move the image's .lockstep record aside to start the VM anew from this image"
        }
    }
}
