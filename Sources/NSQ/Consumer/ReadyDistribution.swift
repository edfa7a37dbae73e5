/// Splits max-in-flight over connections as RDY counts.
///
/// The sum never exceeds `maxInFlight`; no connection gets more than its `max_rdy_count`.
/// With more connections than max-in-flight, the first `maxInFlight` get 1 and the rest 0
/// (go-nsq rotates these; a consumer here is expected to have max-in-flight ≥ connections).
enum ReadyDistribution {
    static func distribute(maxInFlight: Int, maxReadyCounts: [Int]) -> [Int] {
        let count = maxReadyCounts.count
        guard count > 0, maxInFlight > 0 else { return Array(repeating: 0, count: count) }
        var result = Array(repeating: 0, count: count)
        var remaining = maxInFlight
        // Fair share first, then hand the leftovers to connections with headroom. Each round either
        // spends some of `remaining` or drops connections that are full, so the loop ends.
        var open = Array(0..<count)
        while remaining > 0 && !open.isEmpty {
            let share = max(1, remaining / open.count)
            var next: [Int] = []
            for index in open where remaining > 0 {
                let room = max(0, maxReadyCounts[index]) - result[index]
                let give = min(share, room, remaining)
                result[index] += give
                remaining -= give
                if maxReadyCounts[index] - result[index] > 0 { next.append(index) }
            }
            open = next
        }
        return result
    }
}
