#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// How a seed plan splits its plays over videos.
public enum SeedDistribution: Sendable, Hashable, CustomStringConvertible {
    /// Video `k` (0-based rank) gets a share proportional to `1 / (k + 1)^exponent`: a few hits, a long tail.
    case zipf(exponent: Double)
    /// Every video gets the same share (up to rounding), before the small-video tail is applied.
    case uniform
    /// Shares proportional to these weights, one per video (most popular first is not required).
    case weights([Double])
    /// Exactly these per-video counts: the number of videos and plays follow from the list.
    case counts([Int])

    /// The default: Zipf with exponent 1, close to what view counts on a video site look like.
    public static let `default` = SeedDistribution.zipf(exponent: 1.0)

    /// Parses `zipf`, `zipf:1.2`, `uniform`, `weights:5,3,2` or `counts:5000,3000,120,7`.
    public init(parsing text: String) throws(SeedPlanError) {
        let lowered = text.lowercased()
        let (name, argument): (Substring, Substring?) = {
            guard let colon = lowered.firstIndex(of: ":") else { return (lowered[...], nil) }
            return (lowered[..<colon], lowered[lowered.index(after: colon)...])
        }()
        switch name {
        case "zipf":
            guard let argument else {
                self = .default
                return
            }
            guard let exponent = Double(argument), exponent.isFinite, exponent >= 0 else {
                throw SeedPlanError("zipf exponent '\(argument)' must be a number ≥ 0, e.g. zipf:1.0")
            }
            self = .zipf(exponent: exponent)
        case "uniform":
            guard argument == nil else { throw SeedPlanError("uniform takes no argument") }
            self = .uniform
        case "weights":
            let parts = (argument ?? "").split(separator: ",", omittingEmptySubsequences: false)
            var weights: [Double] = []
            for part in parts {
                guard let weight = Double(part.trimmingSpaces), weight.isFinite, weight >= 0 else {
                    throw SeedPlanError("weight '\(part)' must be a number ≥ 0, e.g. weights:5,3,2")
                }
                weights.append(weight)
            }
            guard !weights.isEmpty, weights.contains(where: { $0 > 0 }) else {
                throw SeedPlanError("weights: needs at least one positive weight, e.g. weights:5,3,2")
            }
            self = .weights(weights)
        case "counts":
            let parts = (argument ?? "").split(separator: ",", omittingEmptySubsequences: false)
            var counts: [Int] = []
            for part in parts {
                guard let count = Int(part.trimmingSpaces), count >= 0 else {
                    throw SeedPlanError("count '\(part)' must be a whole number ≥ 0, e.g. counts:5000,3000,42")
                }
                counts.append(count)
            }
            guard !counts.isEmpty else { throw SeedPlanError("counts: needs at least one count, e.g. counts:5000,42") }
            self = .counts(counts)
        default:
            throw SeedPlanError(
                "unknown distribution '\(text)': use zipf, zipf:EXPONENT, uniform, weights:W1,W2,… or counts:N1,N2,…")
        }
    }

    /// The Zipf weights `1 / k^exponent` for ranks `k` = 1…`count` (unnormalised), shared by seed plans and
    /// the policy simulation's ``ZipfVideos``.
    static func zipfWeights(count: Int, exponent: Double) -> [Double] {
        (0..<max(0, count)).map { 1 / pow(Double($0 + 1), exponent) }
    }

    public var description: String {
        switch self {
        case .zipf(let exponent): return "zipf:\(exponent)"
        case .uniform: return "uniform"
        case .weights(let weights): return "weights:" + weights.map { "\($0)" }.joined(separator: ",")
        case .counts(let counts): return "counts:" + counts.map(String.init).joined(separator: ",")
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
