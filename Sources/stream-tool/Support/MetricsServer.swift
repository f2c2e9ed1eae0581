#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Prometheus
import Synchronization

/// A tiny HTTP/1.1 server for one route: `GET /metrics`, the registry in Prometheus's text
/// format. One background thread accepts connections and answers them one at a time, each with
/// one response and `Connection: close`; that is all a Prometheus scraper needs, and it keeps
/// an event-loop library out of the tool.
///
/// Anything else gets a status and no metrics: a request line that is not
/// `METHOD TARGET HTTP/x.y` (or a head over ``maxRequestBytes``) 400, another method 405,
/// another path 404. A client that sends nothing is dropped after ``socketTimeoutSeconds``.
final class MetricsServer: Sendable {
    static let maxRequestBytes = 8192
    static let socketTimeoutSeconds = 2
    /// How often the accept loop looks at the stop flag.
    static let pollMilliseconds: Int32 = 200

    /// The port it listens on (the one the kernel picked, when asked for port 0).
    let port: Int
    private let listener: Int32
    private let registry: PrometheusCollectorRegistry
    private let stopped = Atomic<Bool>(false)

    private init(listener: Int32, port: Int, registry: PrometheusCollectorRegistry) {
        self.listener = listener
        self.port = port
        self.registry = registry
    }

    /// Binds `host:port` (a numeric address or a name; port 0 for any free one), listens, and
    /// starts answering on a background thread. Throws a sentence for the `error:` line.
    static func start(host: String, port: Int, registry: PrometheusCollectorRegistry) throws(ToolError) -> MetricsServer {
        let endpoint = "\(displayHost(host)):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let address = found else {
            throw ToolError("cannot serve metrics on \(endpoint): \(String(cString: gai_strerror(status))); give --metrics-host an address of this machine, like 127.0.0.1.")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard fd >= 0 else { throw ToolError("cannot serve metrics on \(endpoint): socket: \(String(cString: strerror(errno))).") }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ToolError("cannot serve metrics on \(endpoint): \(reason); pick another --metrics-port (0 takes any free one).")
        }
        let server = MetricsServer(listener: fd, port: boundPort(fd) ?? port, registry: registry)
        let thread = Thread { server.acceptLoop() }
        thread.name = "stream-tool metrics"
        thread.start()
        return server
    }

    /// Stops accepting; the thread closes the listening socket within ``pollMilliseconds``.
    func stop() {
        stopped.store(true, ordering: .releasing)
    }

    static func displayHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    private static func boundPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: return nil
            }
        }
    }

    // MARK: Serving

    private func acceptLoop() {
        defer { close(listener) }
        while !stopped.load(ordering: .acquiring) {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, Self.pollMilliseconds) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: Self.socketTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let head = readHead(client) else {
            respond(client, status: "400 Bad Request", body: "The request has no complete head within \(Self.maxRequestBytes) bytes.\n")
            return
        }
        switch MetricsRequest(head: head) {
        case .malformed:
            respond(client, status: "400 Bad Request", body: "The request line is not METHOD TARGET HTTP/x.y.\n")
        case .otherMethod:
            respond(client, status: "405 Method Not Allowed", extraHeaders: "Allow: GET, HEAD\r\n", body: "Only GET and HEAD are served.\n")
        case .otherPath:
            respond(client, status: "404 Not Found", body: "Metrics are at /metrics.\n")
        case .metrics(let withBody):
            let body = registry.emitToBuffer()
            respond(client, status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: body, sendBody: withBody)
        }
    }

    /// The bytes up to the blank line that ends the head, or nil when the client stops, times
    /// out or sends more than ``maxRequestBytes`` without one.
    private func readHead(_ client: Int32) -> [UInt8]? {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while head.count < Self.maxRequestBytes {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            let searchFrom = max(0, head.count - 3)
            head += chunk[..<count]
            if let range = head[searchFrom...].firstRange(of: end) { return Array(head[..<range.lowerBound]) }
        }
        return nil
    }

    private func respond(
        _ client: Int32, status: String, contentType: String = "text/plain; charset=utf-8", extraHeaders: String = "", body: String
    ) {
        respond(client, status: status, contentType: contentType, extraHeaders: extraHeaders, body: Array(body.utf8), sendBody: true)
    }

    private func respond(
        _ client: Int32, status: String, contentType: String, extraHeaders: String = "", body: [UInt8], sendBody: Bool
    ) {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\(extraHeaders)Connection: close\r\n\r\n"
        var response = Array(head.utf8)
        if sendBody { response += body }
        // A client gone meanwhile costs nothing but this response: SIGPIPE is ignored (main).
        response.withUnsafeBytes { _ = writeAll(fd: client, bytes: $0) }
    }
}

/// What a request head asks the metrics server for.
enum MetricsRequest: Equatable {
    case metrics(withBody: Bool)
    case otherPath
    case otherMethod
    case malformed

    init(head: [UInt8]) {
        let lineEnd = head.firstRange(of: Array("\r\n".utf8))?.lowerBound ?? head.endIndex
        let parts = head[..<lineEnd].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].first == UInt8(ascii: "/"), parts[2].starts(with: Array("HTTP/1.".utf8)) else {
            self = .malformed
            return
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        guard method == "GET" || method == "HEAD" else {
            self = .otherMethod
            return
        }
        let path = parts[1].split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        self = String(decoding: path, as: UTF8.self) == "/metrics" ? .metrics(withBody: method == "GET") : .otherPath
    }
}
