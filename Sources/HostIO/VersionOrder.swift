/// Orders version strings as people read them: runs of digits compare as numbers, everything
/// else character by character (`6.9` < `6.12.1` < `6.12.10`), for choosing the newest kernel in
/// /boot (``DiskBootFiles``).
enum VersionOrder {
    /// Whether `a` is an older version than `b`.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let left = pieces(a), right = pieces(b)
        for (x, y) in zip(left, right) where x != y {
            switch (x, y) {
            case (.number(let m), .number(let n)): return m < n
            case (.number, .text): return false   // 6.12.1 after 6.12.rc
            case (.text, .number): return true
            case (.text(let s), .text(let t)): return s < t
            }
        }
        return left.count < right.count
    }

    private enum Piece: Equatable {
        case number(UInt64)
        case text(String)
    }

    private static func pieces(_ version: String) -> [Piece] {
        var result: [Piece] = []
        var digits = "", text = ""
        func flush() {
            if !digits.isEmpty { result.append(.number(UInt64(digits.suffix(18)) ?? 0)); digits = "" }
            if !text.isEmpty { result.append(.text(text)); text = "" }
        }
        for character in version {
            if character.isASCII && character.isNumber {
                if !text.isEmpty { flush() }
                digits.append(character)
            } else {
                if !digits.isEmpty { flush() }
                text.append(character)
            }
        }
        flush()
        return result
    }
}
