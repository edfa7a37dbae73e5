import Testing
@testable import PlayCounts

/// `audit` of a partitioned deployment: every owner's calls and receipts checked as one run (issue 12).
@Suite("Audit across partition owners")
struct PartitionedAuditTests {
    static let partitions = 3

    /// The first `perPartition` test videos whose hash falls in each of the 3 partitions.
    static func videosByPartition(_ perPartition: Int) -> [[VideoID]] {
        var found = Array(repeating: [VideoID](), count: partitions)
        var number = 1
        while found.contains(where: { $0.count < perPartition }) {
            let candidate = video(number)
            let index = Partition.of(candidate, count: partitions).index
            if found[index].count < perPartition { found[index].append(candidate) }
            number += 1
        }
        return found
    }

    func receipt(_ video: VideoID, at instant: WallNanoseconds, batch: Int) -> ReceiptRecord {
        ReceiptRecord(atMs: 0, video: video, queuedAt: instant, receivedAt: instant, batch: batch)
    }

    func call(_ sequence: Int, of index: Int, at instant: WallNanoseconds, _ counts: [(VideoID, Int)]) -> PublishCall {
        PublishCall(
            sequence: sequence, publishedAt: instant, counts: counts.map { VideoCount(video: $0.0, plays: $0.1) },
            partition: Partition(index: index, count: Self.partitions))
    }

    @Test("owners' calls interleaved, each with its own sequence, audit clean and are summed per partition")
    func interleavedOwnersAuditClean() {
        let videos = Self.videosByPartition(2)
        // Each owner reads its two videos in batch 1 and 2 (one play each) and publishes each batch at once.
        let logs = (0..<Self.partitions).map { index in
            [receipt(videos[index][0], at: t0, batch: 1), receipt(videos[index][1], at: t0 + second, batch: 2)]
        }
        var calls: [PublishCall] = []
        for index in 0..<Self.partitions { calls.append(call(1, of: index, at: t0, [(videos[index][0], 1)])) }
        for index in 0..<Self.partitions { calls.append(call(2, of: index, at: t0 + second, [(videos[index][1], 1)])) }
        let result = PublishAudit.audit(receipts: ReceiptLog.merge(logs), calls: calls, realtimeGrace: 0)
        #expect(result.violations.isEmpty, "\(result.violations)")
        #expect(result.plays == 6)
        #expect(result.partitions.map(\.partition?.index) == [0, 1, 2])
        #expect(result.partitions.allSatisfy { $0.calls == 2 && $0.plays == 2 && $0.videos == 2 && $0.resends == 0 })
        // Taken as one processor's calls, each owner's repeat of a sequence would read as a resend dropping videos.
        let unpartitioned = calls.map { PublishCall(sequence: $0.sequence, publishedAt: $0.publishedAt, counts: $0.counts) }
        let single = PublishAudit.audit(receipts: ReceiptLog.merge(logs), calls: unpartitioned, realtimeGrace: 0)
        #expect(single.violations.contains { $0.rule == .resendRegressed }, "\(single.violations)")
    }

    @Test("a video published by an owner its hash does not give it is reported")
    func videoInTheWrongPartition() {
        let videos = Self.videosByPartition(1)
        let receipts = [receipt(videos[0][0], at: t0, batch: 1), receipt(videos[1][0], at: t0, batch: 1)]
        let calls = [call(1, of: 0, at: t0, [(videos[0][0], 1), (videos[1][0], 1)])]
        let violations = PublishAudit.audit(receipts: receipts, calls: calls, realtimeGrace: 0).violations
        #expect(violations.map(\.rule) == [.wrongPartition], "\(violations)")
        #expect(violations.first?.video == videos[1][0])
        #expect(violations.first?.detail.contains("its hash puts it in 1/3") == true, "\(violations)")
    }

    @Test("calls naming another K, or none, among partitioned calls are reported")
    func partitionCountsMustAgree() {
        let videos = Self.videosByPartition(1)
        let other = Partition.of(videos[0][0], count: 2)
        let receipts = [receipt(videos[0][0], at: t0, batch: 1)]
        let calls = [
            call(1, of: 0, at: t0, [(videos[0][0], 1)]),
            PublishCall(sequence: 1, publishedAt: t0, counts: [VideoCount(video: videos[0][0], plays: 2)], partition: other),
            PublishCall(sequence: 1, publishedAt: t0, counts: [VideoCount(video: videos[0][0], plays: 3)]),
        ]
        let violations = PublishAudit.audit(receipts: receipts, calls: calls, realtimeGrace: 0).violations
        let mismatches = violations.filter { $0.rule == .partitionMismatch }
        #expect(mismatches.count == 2, "\(violations)")
        #expect(mismatches.first?.detail.contains("among calls of 3 partitions") == true, "\(mismatches)")
        #expect(mismatches.last?.detail.contains("an unpartitioned call") == true, "\(mismatches)")
    }

    @Test("merged receipt logs keep each owner's batches apart, so a late call is judged by its own batch")
    func mergedBatchesStayApart() {
        let videos = Self.videosByPartition(1)
        // Owner 0's batch 1 is read at t0 + 10 s; owner 1's batch 1 at t0, and its call only goes out 5 s later.
        let logs = [[receipt(videos[0][0], at: t0 + 10 * second, batch: 1)], [receipt(videos[1][0], at: t0, batch: 1)]]
        let calls = [
            call(1, of: 0, at: t0 + 10 * second, [(videos[0][0], 1)]),
            call(1, of: 1, at: t0 + 5 * second, [(videos[1][0], 1)]),
        ]
        let merged = ReceiptLog.merge(logs)
        #expect(Set(merged.map(\.batch)).count == 2)
        let violations = PublishAudit.audit(receipts: merged, calls: calls, realtimeGrace: second).violations
        #expect(violations.map(\.rule) == [.realtimeNotPublished], "\(violations)")
        #expect(violations.first?.video == videos[1][0])
    }
}
