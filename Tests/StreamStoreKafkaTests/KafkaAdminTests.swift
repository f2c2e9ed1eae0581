import NIOCore
import Testing

@testable import StreamStore
@_spi(Fuzzing) @testable import StreamStoreKafka

/// DescribeConfigs and DescribeCluster, as admin clients ask for them.
@Suite(.timeLimit(.minutes(5))) struct KafkaAdminTests {
    @Test(arguments: [Int16(0), 1, 3, 4])
    func topicConfigsAreDescribedUnderKafkasNames(_ version: Int16) async throws {
        let fixture = try KafkaBrokerTests.Fixture()
        var config = TopicConfig(partitionCount: 1)
        config.retentionMilliseconds = 86_400_000
        _ = try fixture.store.createTopic("audit", config: config)
        let request = DescribeConfigsRequest.with {
            $0.resources = [.with { $0.resourceType = 2; $0.resourceName = "audit" }]
            $0.includeSynonyms = true
        }
        let response = try await fixture.call(request, version: version, as: DescribeConfigsResponse.self)
        let result = try #require(response.results.first)
        #expect(result.errorCode == 0 && result.resourceName == "audit")
        let retention = try #require(result.configs.first { $0.name == "retention.ms" })
        #expect(retention.value == "86400000")
        let segment = try #require(result.configs.first { $0.name == "segment.bytes" })
        #expect(segment.value == String(TopicConfig().segmentBytes))
        if version == 0 {
            #expect(!retention.isDefault && segment.isDefault)
        } else {
            #expect(retention.configSource == 1 && segment.configSource == 5)
            #expect(retention.synonyms.first?.name == "retention.ms")
        }
        #expect(result.configs.first { $0.name == "cleanup.policy" }?.value == "delete")
    }

    @Test func onlyTheKeysAskedForAreReturned() async throws {
        let fixture = try KafkaBrokerTests.Fixture()
        let request = DescribeConfigsRequest.with {
            $0.resources = [.with { $0.resourceType = 2; $0.resourceName = "orders"; $0.configurationKeys = ["retention.bytes", "no.such.key"] }]
        }
        let response = try await fixture.call(request, version: 2, as: DescribeConfigsResponse.self)
        #expect(response.results.first?.configs.map(\.name) == ["retention.bytes"])
    }

    @Test func brokerConfigsAndErrorsPerResource() async throws {
        let fixture = try KafkaBrokerTests.Fixture()
        let request = DescribeConfigsRequest.with {
            $0.resources = [
                .with { $0.resourceType = 4; $0.resourceName = "0" },
                .with { $0.resourceType = 4; $0.resourceName = "7" },
                .with { $0.resourceType = 2; $0.resourceName = "missing" },
                .with { $0.resourceType = 8; $0.resourceName = "0" },
            ]
        }
        let response = try await fixture.call(request, version: 1, as: DescribeConfigsResponse.self)
        #expect(response.results.map(\.errorCode) == [0, 42, 3, 42])
        let broker = response.results[0].configs
        #expect(broker.first { $0.name == "socket.request.max.bytes" }?.value == String(Limits.kafkaMaxRequestBytes))
        #expect(broker.first { $0.name == "sasl.enabled.mechanisms" }?.value == "")
        #expect(response.results[1].errorMessage?.contains("node 0") == true)
    }

    @Test(arguments: [Int16(0), 1])
    func describeClusterNamesThisBrokerAsControllerAndOnlyBroker(_ version: Int16) async throws {
        let fixture = try KafkaBrokerTests.Fixture()
        let response = try await fixture.call(DescribeClusterRequest(), version: version, as: DescribeClusterResponse.self)
        #expect(response.errorCode == 0)
        #expect(response.clusterId == "streamstore" && response.controllerId == 0)
        #expect(response.brokers.map(\.brokerId) == [0])
        #expect(response.brokers.first?.port == 9092)
        if version == 1 {
            let controllers = try await fixture.call(DescribeClusterRequest.with { $0.endpointType = 2 }, version: 1, as: DescribeClusterResponse.self)
            #expect(controllers.errorCode == KafkaErrorCode.invalidRequest.rawValue)
        }
    }
}
