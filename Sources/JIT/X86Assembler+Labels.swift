extension X86Assembler {
    /// A new label, not yet bound to a position.
    public mutating func newLabel() -> X86Label {
        labelOffsets.append(nil)
        return X86Label(id: labelOffsets.count - 1)
    }

    /// Binds `label` to the current offset and patches the jumps and calls already emitted that
    /// refer to it. Throws if the label was bound before or a short jump to it cannot reach it
    /// (then nothing is patched).
    public mutating func bind(_ label: X86Label) throws(X86AssemblerError) {
        checkOwnership(label)
        if let bound = labelOffsets[label.id] {
            throw .labelAlreadyBound(label: label.id, at: bound)
        }
        let target = offset
        for reference in pendingReferences where reference.label == label.id && reference.width == 1 {
            let distance = target - (reference.field + 1)
            if Int8(exactly: distance) == nil {
                throw .shortJumpOutOfRange(label: label.id, jumpAt: reference.instruction, distance: distance)
            }
        }
        labelOffsets[label.id] = target
        for reference in pendingReferences where reference.label == label.id {
            write(displacement: target - (reference.field + reference.width), at: reference.field, width: reference.width)
        }
        pendingReferences.removeAll { $0.label == label.id }
    }

    /// The offset `label` is bound to, or nil if it is not bound yet.
    public func offset(of label: X86Label) -> Int? {
        checkOwnership(label)
        return labelOffsets[label.id]
    }

    /// The finished code. Throws if a jump or call refers to a label that was never bound.
    public func finish() throws(X86AssemblerError) -> [UInt8] {
        if let reference = pendingReferences.first {
            throw .unboundLabel(label: reference.label, referencedAt: reference.instruction)
        }
        return bytes
    }

    /// Emits a `width`-byte displacement field (1 or 4) at the end of the current instruction,
    /// which started at `instruction`, referring to `label`: filled in now if the label is bound,
    /// or a placeholder patched by `bind(_:)`. If a rel8 cannot reach a bound label, the
    /// instruction is taken back out before throwing, so the code stays whole.
    mutating func labelField(_ label: X86Label, width: Int, instruction: Int) throws(X86AssemblerError) {
        checkOwnership(label)
        let field = offset
        guard let target = labelOffsets[label.id] else {
            pendingReferences.append(LabelReference(label: label.id, field: field, width: width, instruction: instruction))
            littleEndian(0, count: width)
            return
        }
        let distance = target - (field + width)
        if width == 1 && Int8(exactly: distance) == nil {
            bytes.removeLast(field - instruction)
            instructionOffsets.removeLast()
            throw .shortJumpOutOfRange(label: label.id, jumpAt: instruction, distance: distance)
        }
        littleEndian(Int64(distance), count: width)
    }

    /// Overwrites the `width`-byte field at `field` with `displacement`.
    mutating func write(displacement: Int, at field: Int, width: Int) {
        for i in 0 ..< width {
            bytes[field + i] = UInt8(truncatingIfNeeded: displacement >> (8 * i))
        }
    }

    /// Stops with a clear message for a label this assembler did not create (or created before
    /// its last `reset()`), which would otherwise index out of range or alias another label.
    private func checkOwnership(_ label: X86Label) {
        precondition(label.id < labelOffsets.count, "label \(label.id) was not created by this assembler since its last reset()")
    }
}
