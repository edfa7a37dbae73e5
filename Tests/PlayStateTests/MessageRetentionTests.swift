import Foundation
import GRDB
import PlayCounts
@testable import PlayState
import Testing

/// How long committed message ids are kept, in both kinds of store: two generations, rotated by `prune(now:)`
/// (see `MessageGenerations`). An id must survive at least the retention after its last commit (else a
/// redelivery would be counted twice) and must not be kept much longer than twice that (else the state grows).
@Suite struct MessageRetentionTests {
    private func withStore(
        inFile: Bool, retention: WallNanoseconds, _ body: (PlayStateStore) throws -> Void
    ) throws {
        let options = PlayStateStore.Options(retention: retention)
        if !inFile { return try body(try PlayStateStore(path: PlayStateStore.inMemoryPath, options: options)) }
        try withTemporaryDirectory { directory in
            let store = try PlayStateStore(path: directory.appendingPathComponent("state.db").path, options: options)
            defer { try? store.close() }
            try body(store)
        }
    }

    @Test(arguments: [true, false])
    func generationsRotateOnceTheCurrentOneIsOlderThanTheRetention(inFile: Bool) throws {
        try withStore(inFile: inFile, retention: 10 * minute) { store in
            try store.commit(BatchCommit(messages: [key(1)], countDeltas: [video(1): 1]))
            #expect(try store.prune(now: 1 * minute) == 0)  // starts the current generation
            try store.commit(BatchCommit(messages: [key(2)], countDeltas: [video(1): 1]))
            #expect(try store.prune(now: 11 * minute) == 0)  // started exactly a retention ago: kept
            #expect(try store.prune(now: 11 * minute + 1) == 0)  // rotates: the previous one was empty
            try store.commit(BatchCommit(messages: [key(3)], countDeltas: [video(1): 1]))
            #expect(try store.alreadyCommitted([key(1), key(2), key(3)]) == [key(1), key(2), key(3)])
            #expect(try store.prune(now: 21 * minute + 1) == 0)
            #expect(try store.prune(now: 21 * minute + 2) == 2)  // keys 1 and 2, a generation at once
            #expect(try store.alreadyCommitted([key(1), key(2), key(3)]) == [key(3)])
            #expect(try store.committedMessageCount() == 1)
            #expect(try store.load().counts == [video(1): 3])  // pruning ids never touches counts
        }
    }

    @Test(arguments: [true, false])
    func anIdCommittedAgainIsKeptFromItsLastCommit(inFile: Bool) throws {
        try withStore(inFile: inFile, retention: minute) { store in
            try store.prune(now: 0)
            try store.commit(BatchCommit(messages: [key(1), key(2)], countDeltas: [:]))
            try store.prune(now: minute + 1)  // keys 1 and 2 are now the previous generation
            try store.commit(BatchCommit(messages: [key(1)], countDeltas: [:]))  // and key 1 the current one too
            #expect(try store.committedMessageCount() == 2)
            #expect(try store.prune(now: 2 * minute + 2) == 2)
            #expect(try store.alreadyCommitted([key(1), key(2)]) == [key(1)])
        }
    }

    /// Random commits and prunes checked against the contract, for every id at every prune.
    @Test(arguments: [true, false])
    func everyIdIsKeptAtLeastTheRetentionAndAtMostTwiceItPlusAPruneInterval(inFile: Bool) throws {
        let retention = 10 * minute
        let pruneInterval = minute
        let maxStep = 20 * second
        // Prunes come at most a prune interval plus a step apart; an id leaves at the second rotation after it.
        let longestKept = 2 * retention + 2 * (pruneInterval + maxStep)
        try withStore(inFile: inFile, retention: retention) { store in
            var generator = SystemRandomNumberGenerator()
            var lastCommit: [MessageKey: WallNanoseconds] = [:]
            var now: WallNanoseconds = 0
            var nextPrune: WallNanoseconds = 0
            var nextID: UInt64 = 0
            while now < 90 * minute {
                // A batch of new ids, now and then with an id committed before (a re-commit).
                var keys: [MessageKey] = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                    nextID += 1
                    return key(nextID)
                }
                if let old = lastCommit.keys.randomElement(using: &generator), Bool.random(using: &generator) {
                    keys.append(old)
                }
                try store.commit(BatchCommit(messages: keys, countDeltas: [:]))
                for key in keys { lastCommit[key] = now }
                now += WallNanoseconds.random(in: 1...maxStep, using: &generator)
                if now >= nextPrune {
                    try store.prune(now: now)
                    nextPrune = now + pruneInterval
                    let kept = try store.alreadyCommitted(Array(lastCommit.keys))
                    for (key, committed) in lastCommit {
                        if now - committed <= retention {
                            #expect(kept.contains(key), "\(key) committed at \(committed) dropped at \(now)")
                        } else if now - committed > longestKept {
                            #expect(!kept.contains(key), "\(key) committed at \(committed) still kept at \(now)")
                        }
                    }
                }
            }
        }
    }

    /// A state file of schema v1 kept each id with its commit time, in one table with an index on the time.
    /// Opening it moves the ids into the current generation, which starts at the oldest commit: none is
    /// dropped before its retention.
    @Test func aVersionOneStateFileKeepsItsIds() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v1.db").path
            do {
                let queue = try DatabaseQueue(path: path)
                try PlayStateSchema.migrator.migrate(queue, upTo: "v1")
                try queue.write { db in
                    for (n, committedAt) in [(1, 5 * minute), (2, 7 * minute)] as [(UInt64, WallNanoseconds)] {
                        let key = key(n)
                        try db.execute(
                            sql: "INSERT INTO committed_message (id_high, id_low, queued_at, committed_at) VALUES (?, ?, ?, ?)",
                            arguments: [Int64(bitPattern: key.idHigh), Int64(bitPattern: key.idLow), key.timestamp, committedAt])
                    }
                }
                try queue.close()
            }
            let store = try PlayStateStore(path: path, options: .init(retention: 10 * minute))
            defer { try? store.close() }
            #expect(try store.alreadyCommitted([key(1), key(2), key(3)]) == [key(1), key(2)])
            #expect(try store.prune(now: 15 * minute) == 0)  // key 1 is exactly a retention old: kept
            #expect(try store.prune(now: 15 * minute + 1) == 0)  // rotates: both are now the previous generation
            #expect(try store.alreadyCommitted([key(1), key(2)]) == [key(1), key(2)])
            #expect(try store.prune(now: 25 * minute + 2) == 2)
        }
    }
}
