import Foundation
import StreamStore

/// What the README's examples take as given, so that they compile as written: an application's
/// own types and functions here, and the values every example function receives as parameters
/// (`store`, `orders`, `path`, ...; see ``ReadmeSnippetFile``). The examples are compiled, not
/// run: ReadmeWalkthroughTests and MessagingReadmeTests run what the README shows running.

/// An order as the examples decode it.
struct Order: Codable {
    var customer: String
    var amountCents: Int
}

/// An event an application appends on the fast path: a key and a payload.
struct Event {
    var key: [UInt8]
    var payload: [UInt8]
}

/// The application's side effect: charging the customer of a record or an order.
func charge(_ record: StoredRecord) async throws {
    _ = record.valueString
}

func charge(_ order: Order) async throws {
    _ = order.amountCents
}

/// A batch job's output.
func report(_ record: StoredRecord) {
    _ = record.offset
}

/// The parameters every example function takes: the names the examples use without making them.
enum ReadmeGivenNames {
    static let parameters =
        "store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int"
}
