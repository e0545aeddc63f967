/// Finds the known key that an unknown one was probably meant to be, for "did you mean" hints.
enum KeySuggester {
    /// Returns the candidate that `key` was most likely meant to be: one equal to it apart from case,
    /// `_` and `-`, else the closest within a few edits, else one that starts with it (`cert` for
    /// `cert_file`). Returns nil when none is close enough to be a likely typo.
    static func closest(to key: String, among candidates: [String]) -> String? {
        let normalizedKey = normalize(key)
        if let exact = candidates.first(where: { normalize($0) == normalizedKey }) {
            return exact
        }
        let limit = max(2, key.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(Array(key.lowercased().utf8), Array(candidate.lowercased().utf8))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best {
            return best.candidate
        }
        guard key.count >= 3 else { return nil }
        let lowered = key.lowercased()
        return candidates.filter { $0.lowercased().hasPrefix(lowered) }.min { $0.count < $1.count }
    }

    private static func normalize(_ key: String) -> String {
        key.lowercased().filter { $0 != "_" && $0 != "-" }
    }

    /// Levenshtein distance: insertions, deletions and substitutions, each costing 1.
    static func editDistance(_ source: [UInt8], _ target: [UInt8]) -> Int {
        if source.isEmpty { return target.count }
        if target.isEmpty { return source.count }
        var previous = Array(0...target.count)
        var current = Array(repeating: 0, count: target.count + 1)
        for (i, sourceByte) in source.enumerated() {
            current[0] = i + 1
            for (j, targetByte) in target.enumerated() {
                let substitution = previous[j] + (sourceByte == targetByte ? 0 : 1)
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }
}
