/// Checks the calls one by one in the order the client received them: rule 3 (videos per call), rule 4 (only
/// changed counts), counts never going down, and the sequence numbers; meanwhile it keeps each video's publish
/// history for the deadline checks of rules 1 and 2.
///
/// A call that repeats the latest call's sequence is a *resend* of that call, not a new publish: after a crash
/// (or a lost acknowledgement) the processor sends the unacknowledged call again with the same sequence (and
/// `Idempotency-Key`) and current counts. The client may already show the first attempt, so a resend carrying the
/// same counts is not an unchanged count. A resend must carry every video of the call it repeats, each with a
/// count at least the one sent before; videos it adds are checked like a new call's. A sequence lower than the
/// latest one is reported.
struct CallSequenceCheck {
    /// One rise of a video's published count.
    struct Rise {
        var at: WallNanoseconds
        var plays: Int
    }

    let maxVideosPerCall: Int
    private(set) var violations: [AuditViolation] = []
    /// Calls recognised as resends of the call before them.
    private(set) var resends = 0
    /// The highest count published so far for each video (the client never shows less).
    private(set) var highest: [VideoID: Int] = [:]
    /// The count each video was last published with (what the client shows at the end).
    private(set) var final: [VideoID: Int] = [:]
    /// Per video, the instants its published count rose, in call order.
    private(set) var history: [VideoID: [Rise]] = [:]
    /// The highest sequence seen: the call a resend repeats.
    private var latestSequence: Int?
    /// The counts of the latest new call, raised by its resends so far: what a further resend must not go below.
    private var original: [VideoID: Int] = [:]

    init(maxVideosPerCall: Int) {
        self.maxVideosPerCall = maxVideosPerCall
    }

    mutating func add(_ call: PublishCall) {
        if call.counts.count > maxVideosPerCall {
            violations.append(AuditViolation(
                rule: .callTooLarge, sequence: call.sequence, at: call.publishedAt,
                detail: "\(call.counts.count) videos, at most \(maxVideosPerCall)"))
        }
        let isResend: Bool
        let isNew: Bool
        if let latest = latestSequence, call.sequence <= latest {
            isResend = call.sequence == latest
            isNew = false
            if isResend {
                resends += 1
                reportVideosMissing(from: call)
            } else {
                violations.append(AuditViolation(
                    rule: .sequenceBackwards, sequence: call.sequence, at: call.publishedAt,
                    detail: "call \(call.sequence) after call \(latest) (only a resend repeats the latest sequence)"))
            }
        } else {
            latestSequence = call.sequence
            original = [:]
            isResend = false
            isNew = true
        }
        for entry in call.counts {
            let prior = highest[entry.video, default: 0]
            if isResend, let sent = original[entry.video] {
                // The same video of the call it repeats: the client may show `sent` already, so only going below
                // it is wrong (rule 4 was checked against what came before, on the first attempt).
                if entry.plays < sent {
                    violations.append(AuditViolation(
                        rule: .resendRegressed, sequence: call.sequence, video: entry.video, at: call.publishedAt,
                        detail: "resent with count \(entry.plays), below \(sent) sent before with this sequence"))
                }
                original[entry.video] = max(sent, entry.plays)
            } else {
                if isNew || isResend { original[entry.video] = entry.plays }
                if entry.plays == prior {
                    violations.append(AuditViolation(
                        rule: .unchangedCount, sequence: call.sequence, video: entry.video, at: call.publishedAt,
                        detail: "count \(entry.plays) already published"))
                } else if entry.plays < prior {
                    violations.append(AuditViolation(
                        rule: .countDecreased, sequence: call.sequence, video: entry.video, at: call.publishedAt,
                        detail: "count \(entry.plays) after \(prior)"))
                }
            }
            final[entry.video] = entry.plays
            if entry.plays > prior {
                highest[entry.video] = entry.plays
                history[entry.video, default: []].append(Rise(at: call.publishedAt, plays: entry.plays))
            }
        }
    }

    /// A resend that leaves out a video of the call it repeats goes back on what the client was sent.
    private mutating func reportVideosMissing(from resend: PublishCall) {
        let carried = Set(resend.counts.map(\.video))
        for (video, sent) in original.sorted(by: { $0.key < $1.key }) where !carried.contains(video) {
            violations.append(AuditViolation(
                rule: .resendRegressed, sequence: resend.sequence, video: video, at: resend.publishedAt,
                detail: "resent without this video (count \(sent) sent before with this sequence)"))
        }
    }
}
