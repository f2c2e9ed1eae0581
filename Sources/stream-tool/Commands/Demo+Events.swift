import StreamStore

/// Sample events for `demo`: the life of orders in a shop, as a service would log them.
///
/// Each order is placed, then paid, then shipped; about fifty orders are in flight at once, so
/// the three kinds interleave as they would in a real log. Every event is keyed by its customer
/// (so a customer's events share a partition, as Kafka's partitioner places them) and carries
/// `event-type`, `correlation-id` (the order) and `message-id` headers. Values are 200 to 300
/// bytes of JSON.
struct DemoEventGenerator {
    static let customers: [String] = (1...1000).map { number in
        "customer-" + String(repeating: "0", count: 4 - String(number).count) + String(number)
    }

    private static let skus = (0..<40).map { "SKU-\(10_000 + $0 * 733)" }
    private static let carriers = ["DHL", "UPS", "DPD", "GLS", "FedEx"]
    private static let warehouses = ["fra-1", "fra-2", "ams-1", "dub-3", "waw-1"]
    private static let cities = [("Berlin", "DE", "10115"), ("Paris", "FR", "75002"), ("Amsterdam", "NL", "1012"), ("Dublin", "IE", "D02"), ("Warsaw", "PL", "00-001"), ("Lisbon", "PT", "1100-148")]
    private static let channels = ["web", "ios", "android", "store"]
    private static let methods = ["card", "paypal", "sepa", "applepay"]

    private struct Order {
        var id: String
        var customer: String
        var amountCents: Int
        var paid = false
        /// The order's last event: the cause its next event follows up (`causation-id`).
        var lastEvent: Record?
    }

    private var random: SplitMix64
    private let customers: [String]
    private let orderPrefix: String
    private var nextOrderNumber: Int64
    private var inFlight: [Order] = []
    private var messageNumber: Int64 = 0

    /// Events for `partition`, whose customers are the ones Kafka's partitioner puts there.
    /// Order numbers start at `firstOrderNumber` (the partition's log end offset), so a second
    /// run continues with new orders rather than repeating the first run's.
    init(partition: Int, customers: [String], firstOrderNumber: Int64) {
        self.random = SplitMix64(seed: UInt64(truncatingIfNeeded: firstOrderNumber) &* 31 &+ UInt64(partition))
        self.customers = customers.isEmpty ? Self.customers : customers
        self.orderPrefix = "ord-\(partition)-"
        self.nextOrderNumber = firstOrderNumber
    }

    /// The customers whose key lands on each partition.
    static func customersByPartition(partitionCount: Int) -> [[String]] {
        var result = [[String]](repeating: [], count: partitionCount)
        for customer in customers {
            result[KafkaPartitioner.partition(forKey: Array(customer.utf8), partitionCount: partitionCount)].append(customer)
        }
        return result
    }

    /// Appends the next event to `batch`; returns the value's byte count.
    @discardableResult
    mutating func appendNext(to batch: inout RecordBatch) throws(StreamStoreError) -> Int {
        let (type, order, value) = nextEvent()
        messageNumber += 1
        let messageID = "\(order.id)-\(messageNumber)-\(hex(random.next()))"
        let record: Record
        if let cause = order.lastEvent {
            // Same correlation id, causation id = the cause's message id: `trace` shows the chain.
            record = Record.followUp(
                to: cause, key: order.customer, value: value, eventType: type, messageID: messageID,
                headers: [RecordHeader(key: "content-type", value: "application/json")])
        } else {
            record = Record(key: order.customer, value: value, headers: [
                RecordHeader(key: "event-type", value: type),
                RecordHeader(key: "correlation-id", value: order.id),
                RecordHeader(key: "message-id", value: messageID),
                RecordHeader(key: "content-type", value: "application/json"),
            ])
        }
        if let index = inFlight.firstIndex(where: { $0.id == order.id }) { inFlight[index].lastEvent = record }
        try batch.append(record)
        return record.value?.count ?? 0
    }

    /// The correlation id of an order the demo makes: `ord-<partition>-<number>`.
    static func correlationID(partition: Int, orderNumber: Int64) -> String { "ord-\(partition)-\(orderNumber)" }

    private mutating func nextEvent() -> (type: String, order: Order, value: String) {
        let timestamp = ISO8601.format(milliseconds: Clocks.nowMilliseconds())
        if inFlight.isEmpty || (inFlight.count < 50 && random.below(10) < 4) {
            return placeOrder(at: timestamp)
        }
        let index = random.below(inFlight.count)
        var order = inFlight[index]
        if !order.paid {
            order.paid = true
            inFlight[index] = order
            let value = """
                {"type":"payment-settled","orderId":"\(order.id)","customerId":"\(order.customer)",\
                "paymentId":"pay-\(hex(random.next()))","amountCents":\(order.amountCents),"currency":"EUR",\
                "method":"\(Self.methods[random.below(Self.methods.count)])","processor":"adyen","settledAt":"\(timestamp)"}
                """
            return ("payment-settled", order, value)
        }
        inFlight.swapAt(index, inFlight.count - 1)
        inFlight.removeLast()
        let city = Self.cities[random.below(Self.cities.count)]
        let value = """
            {"type":"order-shipped","orderId":"\(order.id)","customerId":"\(order.customer)",\
            "carrier":"\(Self.carriers[random.below(Self.carriers.count)])","trackingNumber":"JD\(100_000_000 + random.below(900_000_000))",\
            "warehouse":"\(Self.warehouses[random.below(Self.warehouses.count)])","shippedAt":"\(timestamp)",\
            "address":{"city":"\(city.0)","country":"\(city.1)","postcode":"\(city.2)"}}
            """
        return ("order-shipped", order, value)
    }

    private mutating func placeOrder(at timestamp: String) -> (type: String, order: Order, value: String) {
        let customer = customers[random.below(customers.count)]
        var items: [String] = []
        var amount = 0
        for _ in 0..<(1 + random.below(3)) {
            let quantity = 1 + random.below(3)
            let price = 299 + random.below(120) * 50
            amount += quantity * price
            items.append("{\"sku\":\"\(Self.skus[random.below(Self.skus.count)])\",\"qty\":\(quantity),\"priceCents\":\(price)}")
        }
        let order = Order(id: orderPrefix + String(nextOrderNumber), customer: customer, amountCents: amount)
        nextOrderNumber += 1
        inFlight.append(order)
        let value = """
            {"type":"order-placed","orderId":"\(order.id)","customerId":"\(customer)","items":[\(items.joined(separator: ","))],\
            "amountCents":\(amount),"currency":"EUR","channel":"\(Self.channels[random.below(Self.channels.count)])","placedAt":"\(timestamp)"}
            """
        return ("order-placed", order, value)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A small, fast, seeded generator, so the demo's data is varied but reproducible per run.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
