/// Checks a run rule by rule from what was received and what was published.
public enum PublishAudit {
    /// Parses a receipt log and a publish log (JSON lines) and checks them.
    public static func check(
        receiptLog: String, publishLog: String,
        configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
        realtimeGrace: WallNanoseconds = 1_000_000_000
    ) throws(LogParseError) -> [AuditViolation] {
        let receipts = try ReceiptLog.parse(text: receiptLog)
        let calls = try PublishLog.parse(text: publishLog)
        return check(receipts: receipts, calls: calls, configuration: configuration, realtimeGrace: realtimeGrace)
    }

    /// Returns every violation; see ``audit(receipts:calls:configuration:realtimeGrace:)``.
    public static func check(
        receipts: [ReceiptRecord],
        calls: [PublishCall],
        configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
        realtimeGrace: WallNanoseconds = 1_000_000_000
    ) -> [AuditViolation] {
        audit(receipts: receipts, calls: calls, configuration: configuration, realtimeGrace: realtimeGrace).violations
    }

    /// Checks every rule. Violations come call by call first (rules 3 and 4, counts going down, the sequence
    /// numbers and resends), then play by play in receipt order (rules 1 and 2), then the final counts.
    ///
    /// - Parameters:
    ///   - receipts: every play received, in receipt order, with its batch number (unique across owners: see
    ///     ``ReceiptLog/merge(_:)``). A play recorded more than
    ///     once under the same message (its message id and queue time: the processor died before its read batch
    ///     was committed, and nsqd delivered it again) counts once, as its last receipt.
    ///   - calls: every delivered call, in the order the client received them (a publish log's line order). A
    ///     call repeating the latest sequence is a resend of that call (see ``CallSequenceCheck``). Calls of
    ///     several partitions' owners may be mixed in any order: each partition's keep their own order and
    ///     sequence (see ``PartitionedCallCheck``).
    ///   - realtimeGrace: how long after its batch was read a realtime play may become visible. The calls made
    ///     "right after the batch" go out at once, but after a client error or behind calls already queued they
    ///     leave later; 0 demands the call at the very instant of the read (a simulated, instantaneous client).
    public static func audit(
        receipts: [ReceiptRecord],
        calls: [PublishCall],
        configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
        realtimeGrace: WallNanoseconds = 1_000_000_000
    ) -> PublishAuditResult {
        let receipts = lastReceiptPerMessage(receipts)
        var callCheck = PartitionedCallCheck(maxVideosPerCall: configuration.maxVideosPerCall)
        for call in calls { callCheck.add(call) }
        var violations = callCheck.violations
        let history = callCheck.history
        let finalPublished = callCheck.final

        // The instant each batch was read: its last play's receive time.
        var batchTime: [Int: WallNanoseconds] = [:]
        for record in receipts { batchTime[record.batch] = max(batchTime[record.batch] ?? .min, record.receivedAt) }

        // Rules 1 and 2, play by play: the n-th play of a video is visible from the first call carrying ≥ n.
        var ordinal: [VideoID: Int] = [:]
        var cursor: [VideoID: Int] = [:]
        for record in receipts {
            let n = ordinal[record.video, default: 0] + 1
            ordinal[record.video] = n
            let calls = history[record.video] ?? []
            var index = cursor[record.video, default: 0]
            while index < calls.count, calls[index].plays < n { index += 1 }
            cursor[record.video] = index
            let visibleAt = index < calls.count ? calls[index].at : nil
            let readAt = batchTime[record.batch] ?? record.receivedAt
            if n <= configuration.realtimeThreshold {
                if !isVisible(visibleAt, by: readAt.saturatingAdd(realtimeGrace)) {
                    let when = visibleAt.map { "visible \(Double($0.saturatingSubtract(readAt)) / 1e6) ms after" } ?? "never visible after"
                    violations.append(AuditViolation(
                        rule: .realtimeNotPublished, video: record.video,
                        unavoidable: false, at: readAt.saturatingAdd(realtimeGrace),
                        detail: "play \(n) (\(when) batch \(record.batch) was read)"))
                }
            } else {
                let deadline = record.queuedAt.saturatingAdd(configuration.maxStaleness)
                if !isVisible(visibleAt, by: deadline) {
                    let when = visibleAt.map { "visible \(Double($0.saturatingSubtract(record.queuedAt)) / 1e6) ms" } ?? "never visible"
                    violations.append(AuditViolation(
                        rule: .heldPlayStale, video: record.video,
                        unavoidable: record.receivedAt > deadline, at: deadline,
                        detail: "play \(n) \(when) after it was queued"))
                }
            }
        }

        // Final counts.
        var videos = Set(ordinal.keys)
        videos.formUnion(finalPublished.keys)
        for video in videos.sorted() {
            let received = ordinal[video, default: 0]
            let published = finalPublished[video, default: 0]
            if received != published {
                violations.append(AuditViolation(
                    rule: .finalCountMismatch, video: video,
                    detail: "received \(received) plays, last published \(published)"))
            }
        }
        return PublishAuditResult(
            violations: violations, plays: receipts.count, resends: callCheck.resends, configuration: configuration,
            realtimeGrace: realtimeGrace, partitions: partitionSummaries(callCheck, receipts: receipts))
    }

    /// One summary per partition that published, in the order their first call arrived; the plays are those
    /// whose hash falls in it (none for a run without partitions, which is one summary of every play).
    private static func partitionSummaries(
        _ check: PartitionedCallCheck, receipts: [ReceiptRecord]
    ) -> [PublishAuditResult.PartitionSummary] {
        var plays: [Partition?: Int] = [:]
        if case .some(.some(let count)) = check.expectedCount {
            for record in receipts { plays[Partition.of(record.video, count: count), default: 0] += 1 }
        } else {
            plays[nil] = receipts.count
        }
        return check.groups.map { group in
            PublishAuditResult.PartitionSummary(
                partition: group.partition, calls: group.calls, resends: group.check.resends,
                videos: group.check.final.count, plays: plays[group.partition, default: 0])
        }
    }

    /// `receipts` with only the last receipt of each message (records without a message id are all kept).
    static func lastReceiptPerMessage(_ receipts: [ReceiptRecord]) -> [ReceiptRecord] {
        guard receipts.contains(where: { $0.messageID != nil }) else { return receipts }
        struct Message: Hashable {
            let id: String
            let queuedAt: WallNanoseconds
        }
        var seen: Set<Message> = []
        var kept: [ReceiptRecord] = []
        for record in receipts.reversed() {
            if let id = record.messageID, !seen.insert(Message(id: id, queuedAt: record.queuedAt)).inserted { continue }
            kept.append(record)
        }
        return kept.reversed()
    }

    private static func isVisible(_ visibleAt: WallNanoseconds?, by limit: WallNanoseconds) -> Bool {
        guard let visibleAt else { return false }
        return visibleAt <= limit
    }
}
