import Foundation
import Testing

/// `--metrics-port`: a long-running command serves the store's metrics for Prometheus.
@Suite(.timeLimit(.minutes(5))) struct MetricsCommandTests {
    /// Sends `request` to 127.0.0.1:`port` and returns everything the server answers until it
    /// closes the connection.
    func exchange(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect to port \(port): errno \(errno)")
        let bytes = Array(request.utf8)
        #expect(bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } == bytes.count)
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            response += chunk[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    func get(port: Int, _ path: String) throws -> String {
        try exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// Scrapes `/metrics` until the response contains `text` (a value the command sets soon
    /// after printing, like the lag gauge after its commit); the last response after `seconds`.
    /// Polled: the command is another process, which signals nothing to the test.
    func scrape(port: Int, until text: String, seconds: Double = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let response = try get(port: port, "/metrics")
            if response.contains(text) || Date() >= deadline { return response }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The port from the `note: serving metrics at http://127.0.0.1:PORT/metrics` line, polled
    /// for in the command's stderr (a file another process writes).
    func servedPort(_ process: ToolRunner.Background, seconds: Double = 20) async -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for line in process.stderr.split(separator: "\n") where line.hasPrefix("note: serving metrics at http://127.0.0.1:") {
                return Int(line.dropFirst("note: serving metrics at http://127.0.0.1:".count).prefix { $0.isNumber })
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test func replayFollowServesTheStoreMetricsForPrometheus() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        try await tool.succeed(["produce", "t"], input: "a\nb\nc\n")
        let follower = try tool.start(["replay", "t", "--follow", "--format", "value", "--group", "g", "--commit", "--metrics-port", "0"])
        // A failing test still leaves no follower behind (Foundation reaps it).
        defer { if follower.process.isRunning { follower.send(SIGKILL) } }
        let port = try #require(await servedPort(follower), "no serving note: \(follower.stderr)")
        #expect(await follower.waitForLine("c"), "\(follower.stderr)")

        // The follower commits what it printed once the output is written out: group g is then
        // not behind.
        let lagLine = #"\#nstreamstore_consumer_lag_records{group="g",topic="t",partition="0"} 0.0\#n"#
        let response = try await scrape(port: port, until: lagLine)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response)")
        #expect(response.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(response.contains("\n# TYPE streamstore_appended_records_total counter\n"), "\(response)")
        #expect(response.contains(#"\#nstreamstore_appended_records_total{topic="t",partition="0"} "#), "\(response)")
        #expect(response.contains(lagLine), "\(response)")

        #expect(try get(port: port, "/other").hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(try exchange(port: port, "POST /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(try exchange(port: port, "garbage\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        // HEAD: the headers of a scrape, no body.
        let head = try exchange(port: port, "HEAD /metrics HTTP/1.1\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("\r\n\r\n"), "\(head)")

        follower.send(SIGINT)
        #expect(await follower.waitForExit() == 0, "\(follower.stderr)")
        #expect(follower.stdoutLines == ["a", "b", "c"])
    }

    @Test func aPortInUseIsOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        // Hold a port so the tool cannot bind it.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(holder, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))

        let result = try await tool.run(["produce", "t", "--metrics-port", String(port)], input: "x\n")
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1, "\(result.stderr)")
        #expect(result.errorLines.first?.hasPrefix("error: cannot serve metrics on 127.0.0.1:\(port): ") == true, "\(result.stderr)")
        // Nothing was appended: the command stopped before opening the store.
        #expect(try await tool.succeed(["replay", "t", "--format", "value"]).stdout.isEmpty)
    }

    @Test func aPortOutOfRangeIsAUsageError() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await tool.run(["bench", "append", "--records", "10", "--metrics-port", "65536"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--metrics-port must be between 0 and 65535, not 65536."), "\(result.stderr)")
    }
}
