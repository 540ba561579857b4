import RISCV

/// Copying a running machine to another (a replicated VM's new backup) with a short pause, as
/// live migration's pre-copy does: RAM pages are sent while the guest runs, in rounds over the
/// pages written since the previous round (dirty-page tracking), and the last pages go with the
/// rest of the state in one ``SnapshotKind/liveCopy`` snapshot.
///
/// Sender: ``beginLiveCopy()`` (the first round: every page not all zero), then repeatedly
/// ``ramPages(_:)`` for what to send and ``takeWrittenPages()`` for the next round, and finally
/// ``saveLiveCopySnapshot()`` while the guest is stopped. Receiver: a fresh machine of the same
/// configuration, ``writeRAMPages(_:_:)`` for every batch in order, then ``restoreSnapshot(_:)``
/// of the final snapshot.
extension Machine {
    /// Starts the copy: dirty-page tracking from now on. Returns the pages to send first (every
    /// page that is not all zero; a fresh receiver's pages are zero).
    public func beginLiveCopy() -> [Int] {
        stopDirtyTracking()
        memory.startDirtyTracking()
        let pageSize = Int(GuestMemory.pageSize)
        return memory.withRAMBytes { ram in
            (0..<memory.pageCount).filter { index in
                !memory.isUntouched(page: index)
                    && !Machine.isZero(UnsafeRawBufferPointer(rebasing: ram[index * pageSize..<(index + 1) * pageSize]))
            }
        }
    }

    /// The pages written since the copy began or since the last call (the next round), with
    /// tracking restarted.
    public func takeWrittenPages() -> [Int] {
        let pages = memory.dirtyPages ?? []
        memory.startDirtyTracking()
        return pages
    }

    /// How many pages were written since the copy began or since ``takeWrittenPages()``.
    public var writtenPageCount: Int { memory.dirtyPages?.count ?? 0 }

    /// The contents of `pages`, 4096 bytes each, in order.
    public func ramPages(_ pages: [Int]) -> [UInt8] {
        let pageSize = Int(GuestMemory.pageSize)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pages.count * pageSize)
        memory.withRAMBytes { ram in
            for index in pages where index >= 0 && index < memory.pageCount {
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: ram[index * pageSize..<(index + 1) * pageSize]))
            }
        }
        return bytes
    }

    /// Receiver: writes pages a live copy sent (`bytes`: 4096 per page, in the order of `pages`).
    public func writeRAMPages(_ pages: [Int], _ bytes: [UInt8]) throws(SnapshotError) {
        let pageSize = Int(GuestMemory.pageSize)
        guard bytes.count == pages.count * pageSize else {
            throw .liveCopy("\(pages.count) pages came with \(bytes.count) bytes")
        }
        guard pages.allSatisfy({ $0 >= 0 && $0 < memory.pageCount }) else {
            throw .liveCopy("a page index is beyond the last page (\(memory.pageCount - 1))")
        }
        for (position, index) in pages.enumerated() {
            memory.write(bytes[position * pageSize..<(position + 1) * pageSize], at: memory.base + UInt64(index * pageSize))
        }
    }

    /// The final snapshot of the copy (take it with the guest stopped, then run on): the state
    /// outside RAM and the pages written since the last ``takeWrittenPages()``. Ends the copy
    /// (dirty tracking off).
    public func saveLiveCopySnapshot() throws(SnapshotError) -> [UInt8] {
        guard memory.isTrackingDirtyPages else { throw .liveCopy("no live copy was begun") }
        defer { stopDirtyTracking() }
        return try writeSnapshot(.liveCopy, base: nil)
    }

    /// Ends a copy that is abandoned (the receiver went away).
    public func endLiveCopy() { stopDirtyTracking() }
}
