/// Checks the calls of every owner of a partitioned deployment as one run (see README "Scaling out").
///
/// Each partition's owner numbers its calls with its own sequence, so the calls are grouped by the partition
/// they name and each group goes through its own ``CallSequenceCheck``, in the order the client received them.
/// Across groups it checks what makes the merge sound: all calls name the same K (or none does), and each video
/// appears only in calls of the partition its hash gives — one owner per video, so its count never goes back.
/// A run without partitions is one group, checked exactly as before.
struct PartitionedCallCheck {
    /// What one partition's calls came to.
    struct Group {
        /// Nil for calls that name no partition (a single processor).
        let partition: Partition?
        var check: CallSequenceCheck
        var calls = 0
    }

    let maxVideosPerCall: Int
    /// In the order their first call arrived.
    private(set) var groups: [Group] = []
    private var groupIndex: [Partition?: Int] = [:]
    /// The K of the first call (nil: it named no partition); every later call must agree.
    private(set) var expectedCount: Int??
    /// Partition mismatches and wrongly placed videos, call by call.
    private var partitionViolations: [AuditViolation] = []

    init(maxVideosPerCall: Int) {
        self.maxVideosPerCall = maxVideosPerCall
    }

    mutating func add(_ call: PublishCall) {
        let count = call.partition?.count
        if let expected = expectedCount {
            if expected != count {
                partitionViolations.append(AuditViolation(
                    rule: .partitionMismatch, sequence: call.sequence, at: call.publishedAt,
                    detail: "\(Self.describe(call.partition)) call among calls \(Self.describe(count: expected))"))
            }
        } else {
            expectedCount = .some(count)
        }
        if let partition = call.partition {
            for entry in call.counts {
                let owner = Partition.of(entry.video, count: partition.count)
                if owner != partition {
                    partitionViolations.append(AuditViolation(
                        rule: .wrongPartition, sequence: call.sequence, video: entry.video, at: call.publishedAt,
                        detail: "published by partition \(partition); its hash puts it in \(owner)"))
                }
            }
        }
        let index: Int
        if let known = groupIndex[call.partition] {
            index = known
        } else {
            index = groups.count
            groupIndex[call.partition] = index
            groups.append(Group(partition: call.partition, check: CallSequenceCheck(maxVideosPerCall: maxVideosPerCall)))
        }
        groups[index].check.add(call)
        groups[index].calls += 1
    }

    /// Every group's violations (group by group, each in call order), then the partition checks'.
    var violations: [AuditViolation] { groups.flatMap(\.check.violations) + partitionViolations }

    var resends: Int { groups.reduce(0) { $0 + $1.check.resends } }

    /// Each video's rises over all groups, in time order (a video in two groups is already a violation).
    var history: [VideoID: [CallSequenceCheck.Rise]] {
        guard groups.count > 1 else { return groups.first?.check.history ?? [:] }
        var merged: [VideoID: [CallSequenceCheck.Rise]] = [:]
        for group in groups {
            merged.merge(group.check.history) { mine, theirs in (mine + theirs).sorted { $0.at < $1.at } }
        }
        return merged
    }

    /// The count each video was last published with; a video two owners published keeps the higher.
    var final: [VideoID: Int] {
        guard groups.count > 1 else { return groups.first?.check.final ?? [:] }
        var merged: [VideoID: Int] = [:]
        for group in groups { merged.merge(group.check.final) { max($0, $1) } }
        return merged
    }

    /// "a partition 1/3", "an unpartitioned".
    private static func describe(_ partition: Partition?) -> String {
        partition.map { "a partition \($0)" } ?? "an unpartitioned"
    }

    /// "of 3 partitions", "without partitions".
    private static func describe(count: Int?) -> String {
        count.map { "of \($0) partitions" } ?? "without partitions"
    }
}
