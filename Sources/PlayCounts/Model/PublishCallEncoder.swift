/// Encodes a ``PublishCall`` as the JSON object every client sends:
/// `{"sequence": 7, "published_at": "2026-11-29T07:00:00.123456Z", "counts": {"<video_id>": 120, …}}`, and
/// for a partition's owner `{"partition": 1, "partitions": 3, "sequence": 7, …}`.
///
/// Hand-written (no JSONEncoder): keys in a fixed order, counts in the call's order, video IDs in canonical
/// lowercase form, so output is deterministic and byte-for-byte testable.
public enum PublishCallEncoder {
    /// The JSON object's UTF-8 bytes, without a trailing newline (the webhook body).
    public static func encode(_ call: PublishCall) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + call.counts.count * 52)
        append(call, to: &out)
        return out
    }

    /// The JSON object followed by `\n` (a stdout or file line).
    public static func encodeLine(_ call: PublishCall) -> [UInt8] {
        var out = encode(call)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Appends the JSON object to `out`.
    public static func append(_ call: PublishCall, to out: inout [UInt8]) {
        if let partition = call.partition {
            out.append(contentsOf: #"{"partition": "#.utf8)
            ASCIIDecimal.append(Int64(partition.index), to: &out)
            out.append(contentsOf: #", "partitions": "#.utf8)
            ASCIIDecimal.append(Int64(partition.count), to: &out)
            out.append(contentsOf: #", "sequence": "#.utf8)
        } else {
            out.append(contentsOf: #"{"sequence": "#.utf8)
        }
        ASCIIDecimal.append(Int64(call.sequence), to: &out)
        out.append(contentsOf: #", "published_at": ""#.utf8)
        RFC3339.appendMicroseconds(call.publishedAt, to: &out)
        out.append(contentsOf: #"", "counts": {"#.utf8)
        for (position, count) in call.counts.enumerated() {
            if position > 0 { out.append(contentsOf: ", ".utf8) }
            out.append(UInt8(ascii: "\""))
            count.video.appendCanonicalUTF8(to: &out)
            out.append(contentsOf: #"": "#.utf8)
            ASCIIDecimal.append(Int64(count.plays), to: &out)
        }
        out.append(contentsOf: "}}".utf8)
    }
}
