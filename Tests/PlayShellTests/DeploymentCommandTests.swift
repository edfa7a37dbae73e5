import Foundation
import Testing

@testable import PlayShell
@testable import ShellKit

/// `deployment` on the embedded broker: plays seeded straight to 2 partition topics, one owner running.
@Suite struct DeploymentCommandTests {
    @Test(.timeLimit(.minutes(2)))
    func partitionTopicsShowTheirDepthsAndTheOwnerThatRuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let captured = CapturedShell()
        PlaycountCommands.install(in: captured.shell)
        let setUp = await captured.run([
            "set client file:\(directory.path)/calls.jsonl",
            "set realtime-threshold 1000",
            "seed 400 zipf --videos 20 --partitions 2",
        ])
        #expect(setUp == .finished(failures: 0), "\(captured.err.text)")

        /// What one command printed.
        func printed(_ arguments: [String]) async -> String {
            let before = captured.out.text.utf8.count
            #expect(await captured.shell.execute(arguments) == .success, "\(captured.err.text)")
            return String(decoding: captured.out.text.utf8.dropFirst(before), as: UTF8.self)
        }
        func report() async throws -> [String: Any] {
            let text = await printed(["deployment", "--partitions", "2", "--json"])
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        func topics(_ report: [String: Any]) -> [String: [String: Any]] {
            let list = report["topics"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: list.map { ($0["topic"] as? String ?? "", $0) })
        }
        func depth(_ topic: [String: Any]?) -> Int {
            let channels = topic?["channels"] as? [[String: Any]] ?? []
            return (topic?["depth"] as? Int ?? 0) + channels.reduce(0) { $0 + ($1["depth"] as? Int ?? 0) }
        }

        // Before any owner: the 400 plays wait in the partition topics, the source topic has none.
        let before = topics(try await report())
        #expect(Set(before.keys) == ["plays", "plays.p0", "plays.p1"])
        #expect(depth(before["plays.p0"]) + depth(before["plays.p1"]) == 400)
        #expect(before["plays.p1"]?["partition"] as? String == "1/2")
        #expect((before["plays"]?["nsqd"] as? [String])?.isEmpty == true)

        // Owner 0 drains its partition; partition 1 keeps its plays and shows no consumer.
        let waiting = depth(before["plays.p1"])
        #expect(await captured.run(["set partition 0/2", "start", "wait drained --timeout 60s"]) == .finished(failures: 0),
                "\(captured.err.text)")
        let running = topics(try await report())
        let ownerChannel = (running["plays.p0"]?["channels"] as? [[String: Any]])?.first { $0["channel"] as? String == "processor" }
        #expect((ownerChannel?["consumers"] as? [[String: Any]])?.isEmpty == false)
        #expect(depth(running["plays.p0"]) == 0)
        #expect(depth(running["plays.p1"]) == waiting)
        #expect(((running["plays.p1"]?["channels"] as? [[String: Any]]) ?? []).allSatisfy {
            ($0["consumers"] as? [Any])?.isEmpty == true
        })

        let table = await printed(["deployment", "--partitions", "2"])
        #expect(table.contains("plays.p1 (1/2)") && table.contains("none: no owner running"), "\(table)")
        await PlaycountCommands.shutDown(captured.shell)
    }
}
