/// Why a node cannot start its VM.
public enum NodeStartError: Error, Equatable, CustomStringConvertible {
    /// The arbiter has never seen the VM, but this node's disk `image` was used by it.
    case diskAhead(vm: String, generation: UInt64, image: String)

    public var description: String {
        switch self {
        case .diskAhead(let vm, let generation, let image):
            return "this node's disk \(image) was used by VM '\(vm)' up to generation \(generation), but the arbiter has never seen the VM (a new or reset arbiter?): starting it anew would fork the disk's history; use the arbiter that ran the VM, or move \(image).lockstep aside (and the records of the VM's other disks) to start the VM anew from these images"
        }
    }
}
