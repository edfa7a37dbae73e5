import Testing

@testable import PlayCounts
@testable import PlayLoad

@Suite("Seed plans")
struct SeedPlanTests {
    @Test(arguments: [0, 15, 100, 1_000, 12_345, 1_000_000])
    func totalsAreExactAndTheTailIsSmall(plays: Int) throws {
        let plan = try SeedPlan(plays: plays, seed: 9)
        #expect(plan.totalPlays == plays)
        #expect(plan.counts.reduce(0, +) == plays)
        #expect(plan.videos.count == 100)
        #expect(Set(plan.videos).count == 100)
        #expect(plan.smallVideoCount >= min(15, plays))
    }

    @Test func zipfHasAFewHitsAndALongTail() throws {
        let plan = try SeedPlan(plays: 1_000_000, distribution: .zipf(exponent: 1), seed: 1)
        let sorted = plan.counts.sorted(by: >)
        #expect(plan.counts[0] == sorted[0])  // rank 0 is the most popular
        #expect(sorted[0] > 100 * sorted[99])
        #expect(sorted[0] > 2 * sorted[1] - sorted[1] / 10)  // ~1/1 vs 1/2
        #expect(plan.counts.prefix(10).reduce(0, +) > plan.totalPlays / 2)
        #expect(plan.smallVideoCount >= 15)
        #expect(plan.counts.suffix(15).allSatisfy { (1...99).contains($0) })
        // The small tail differs video to video rather than being one flat value.
        #expect(Set(plan.counts.suffix(15)).count > 5)
    }

    @Test func uniformIsFlatApartFromTheTail() throws {
        let plan = try SeedPlan(plays: 100_000, distribution: .uniform, seed: 1)
        let head = plan.counts.prefix(85)
        #expect((head.max() ?? 0) - (head.min() ?? 0) <= 1)
        #expect(plan.counts.suffix(15).allSatisfy { $0 < 100 })
        #expect(plan.totalPlays == 100_000)
    }

    @Test func explicitCountsAreKeptVerbatim() throws {
        let plan = try SeedPlan(distribution: SeedDistribution(parsing: "counts:5000,3000,120,99,1,0"))
        #expect(plan.counts == [5000, 3000, 120, 99, 1, 0])
        #expect(plan.totalPlays == 8220)
        #expect(plan.smallVideoCount == 2)
        #expect(throws: SeedPlanError.self) { try SeedPlan(plays: 10, distribution: .counts([5000])) }
        #expect(throws: SeedPlanError.self) { try SeedPlan(videos: 3, distribution: .counts([1, 2])) }
        #expect(throws: SeedPlanError.self) { try SeedPlan(distribution: .counts([5000, 1]), minimumSmallVideos: 2) }
        #expect(try SeedPlan(distribution: .counts([5000, 1]), minimumSmallVideos: 1).counts == [5000, 1])
    }

    @Test func weightsSplitProportionally() throws {
        let plan = try SeedPlan(plays: 10_000, distribution: .weights([5, 3, 2]), minimumSmallVideos: 0)
        #expect(plan.counts == [5000, 3000, 2000])
        let tailed = try SeedPlan(plays: 10_000, distribution: .weights([5, 3, 2, 1]), minimumSmallVideos: 1)
        #expect(tailed.counts[3] < 100)
        #expect(tailed.totalPlays == 10_000)
        #expect(tailed.counts[0] > tailed.counts[1])
    }

    @Test func isDeterministicForASeedAndDiffersAcrossSeeds() throws {
        let one = try SeedPlan(plays: 5_000, seed: 123)
        let two = try SeedPlan(plays: 5_000, seed: 123)
        let other = try SeedPlan(plays: 5_000, seed: 124)
        #expect(one.videos == two.videos)
        #expect(one.counts == two.counts)
        #expect(Array(one.messages) == Array(two.messages))
        #expect(one.videos != other.videos)
        #expect(Array(one.messages).map { one.videos.firstIndex(of: $0)! }
            != Array(other.messages).map { other.videos.firstIndex(of: $0)! })
    }

    @Test func guidsLookLikeVersion4() throws {
        let plan = try SeedPlan(plays: 10, seed: 5)
        for video in plan.videos {
            let text = video.description
            #expect(Array(text)[14] == "4")
            #expect("89ab".contains(Array(text)[19]))
            #expect(VideoID(text) == video)
        }
    }

    @Test func messagesAreAShuffleOfTheCounts() throws {
        let plan = try SeedPlan(plays: 20_000, seed: 77)
        var seen: [VideoID: Int] = [:]
        var order: [VideoID] = []
        for video in plan.messages {
            seen[video, default: 0] += 1
            if order.count < 1000 { order.append(video) }
        }
        #expect(seen == Dictionary(uniqueKeysWithValues: plan.videoCounts.filter { $0.plays > 0 }.map { ($0.video, $0.plays) }))
        // Shuffled, not grouped: the first thousand messages mix many videos.
        #expect(Set(order).count > 30)
        #expect(plan.messages.underestimatedCount == 20_000)
    }

    @Test func bodiesAreValidPlayMessages() throws {
        let plan = try SeedPlan(plays: 50, seed: 2)
        let parser = PlayMessageParser()
        for (video, body) in zip(plan.messages, plan.messages.bodies) {
            #expect(try parser.parse(body).get() == video)
            #expect(String(decoding: body, as: UTF8.self) == #"{"video_id":"\#(video)"}"#)
        }
    }

    @Test func rejectsImpossiblePlans() {
        func message(_ build: () throws -> SeedPlan) -> String {
            do {
                _ = try build()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message { try SeedPlan(plays: -1) }.contains("≥ 0"))
        #expect(message { try SeedPlan(plays: 10, videos: 0) }.contains("≥ 1"))
        #expect(message { try SeedPlan(plays: 10, videos: 10, minimumSmallVideos: 11) }.contains("only 10 videos"))
        #expect(message { try SeedPlan(plays: 5, videos: 10, minimumSmallVideos: 6) }.contains("only 5 plays"))
        #expect(message { try SeedPlan(plays: 1_000, videos: 10, minimumSmallVideos: 10) }.contains("at most 990"))
        #expect(message { try SeedPlan(plays: 1_000, minimumSmallVideos: -1) }.contains("≥ 0"))
        #expect(message { try SeedPlan(distribution: .zipf(exponent: 1)) }.contains("required"))
        #expect(message { try SeedPlan(plays: 10, videos: 2, distribution: .weights([1, 2, 3])) }.contains("3 weights"))
        #expect(message { try SeedPlan(plays: 10, distribution: .zipf(exponent: -1)) }.contains("exponent"))
        // The boundary itself is fine.
        #expect(message { try SeedPlan(plays: 990, videos: 10, minimumSmallVideos: 10) } == "no error")
    }

    @Test func smallVideosGetAtLeastOnePlayEvenWhenPlaysAreScarce() throws {
        let plan = try SeedPlan(plays: 20, videos: 100, minimumSmallVideos: 15, seed: 1)
        #expect(plan.totalPlays == 20)
        #expect(plan.smallVideoCount >= 15)
        let allSmall = try SeedPlan(plays: 990, videos: 10, distribution: .uniform, minimumSmallVideos: 10)
        #expect(allSmall.counts.allSatisfy { $0 == 99 })
    }

    @Test(arguments: [
        ("zipf", SeedDistribution.zipf(exponent: 1)), ("zipf:1.5", .zipf(exponent: 1.5)), ("UNIFORM", .uniform),
        ("weights:5, 3,2", .weights([5, 3, 2])), ("counts:10,0,7", .counts([10, 0, 7])),
    ])
    func parsesDistributions(text: String, expected: SeedDistribution) throws {
        #expect(try SeedDistribution(parsing: text) == expected)
    }

    @Test(arguments: ["", "zipf:", "zipf:x", "zipf:-1", "uniform:3", "weights:", "weights:0,0", "weights:a", "counts:", "counts:1,-2", "counts:1.5", "normal"])
    func rejectsBadDistributions(text: String) {
        #expect(throws: SeedPlanError.self) { try SeedDistribution(parsing: text) }
    }

    @Test func randomGeneratorIsStableAndUnbiased() {
        var generator = SeededRandom(seed: 0)
        // Fixed outputs: the plans of a given seed must not change between releases.
        let first = (0..<3).map { _ in generator.next() }
        var again = SeededRandom(seed: 0)
        #expect(first == (0..<3).map { _ in again.next() })
        #expect(Set(first).count == 3)
        var buckets = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { buckets[Int(generator.below(6))] += 1 }
        #expect(buckets.allSatisfy { (9_400...10_600).contains($0) })
        #expect(generator.below(0) == 0)
        var streamOne = SeededRandom(seed: 1, stream: 1)
        var streamTwo = SeededRandom(seed: 1, stream: 2)
        #expect(streamOne.next() != streamTwo.next())
    }
}
