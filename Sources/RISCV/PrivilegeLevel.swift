/// RISC-V privilege levels, with their architectural encodings.
public enum PrivilegeLevel: UInt8, Sendable {
    case user = 0
    case supervisor = 1
    case machine = 3
}
