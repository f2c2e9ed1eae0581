import Foundation
import Testing

/// `stream-tool sagas list|show` over the instances the demo's order saga leaves.
@Suite(.timeLimit(.minutes(5))) struct SagasCommandTests {
    @Test func listAndShowTheDemosOrderSagas() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        _ = try await tool.succeed(["demo", "--records", "0", "--saga-orders", "10"])
        let listed = try jsonObject(try await tool.succeed(["sagas", "list", "--json"]).stdout)
        let sagas = try #require(listed["sagas"] as? [[String: Any]])
        #expect(sagas.count == 10)
        #expect(sagas.filter { $0["state"] as? String == "completed" }.count == 8)
        let compensated = sagas.filter { $0["state"] as? String == "compensated" }
        #expect(compensated.count == 2)
        #expect(compensated.allSatisfy { $0["compensatedSteps"] as? [Int] == [0] })

        let table = try await tool.succeed(["sagas", "list", "--state", "compensated"]).stdoutLines
        #expect(table.first?.hasPrefix("SAGA") == true && table.count == 3)
        let id = try #require(compensated.first?["id"] as? String)
        #expect(table.contains { $0.contains(id) && $0.contains("compensated") })

        let shown = try await tool.succeed(["sagas", "show", id]).stdout
        #expect(shown.contains("state     compensated"))
        for event in ["saga-started", "saga-step-failed", "saga-compensation-started", "saga-compensation-succeeded", "saga-compensated"] {
            #expect(shown.contains(event), "sagas show has no \(event)")
        }
        #expect(shown.contains("stream-tool trace \(id)"))
        let history = try jsonObject(try await tool.succeed(["sagas", "show", id, "--json"]).stdout)
        #expect((history["history"] as? [[String: Any]])?.first?["messageId"] as? String == "\(id)#0")

        // trace follows the whole flow through the participants' topics.
        let traced = try jsonObject(try await tool.succeed(["trace", id, "--json"]).stdout)
        let topics = Set(((traced["records"] as? [[String: Any]]) ?? []).compactMap { $0["topic"] as? String })
        #expect(topics == ["order.sagas", "stock", "payments", "order.saga-replies"])

        let error = try await tool.fail(["sagas", "show", "no-such-order"])
        #expect(error.contains("No saga has an instance no-such-order"))
        let unknown = try await tool.fail(["sagas", "list", "--saga", "nothing"])
        #expect(unknown.contains("There is no saga nothing"))
        #expect(try await tool.succeed(["sagas", "list", "--state", "failed"]).stdout == "No saga instances in state failed.\n")
    }
}
