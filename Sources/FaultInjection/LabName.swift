/// The names a ``NetworkLab`` (or a ``PoolLab``) gives its namespaces, `lsl<4 hex digits>p<pid>-<suffix>`, read back:
/// which process made a namespace, so that a later lab removes the leftovers of a dead one and
/// never touches anything else.
enum LabName {
    /// The id of the process that made namespace `name`, or nil when `name` is not exactly a lab's
    /// namespace name (another program's namespace, or a lab with a custom prefix).
    static func owner(of name: String) -> Int32? {
        guard name.hasPrefix(NetworkLab.commonPrefix), let dash = name.lastIndex(of: "-") else { return nil }
        let suffix = String(name[name.index(after: dash)...])
        guard LabNamespace(rawValue: suffix) != nil || PoolLab.namespaceSuffixes.contains(suffix) else { return nil }
        let middle = name[name.index(name.startIndex, offsetBy: NetworkLab.commonPrefix.count)..<dash]
        let hex = middle.prefix(4)
        guard hex.count == 4, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        let rest = middle.dropFirst(4)
        guard rest.first == "p" else { return nil }
        let digits = rest.dropFirst()
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int32(digits)
    }
}
