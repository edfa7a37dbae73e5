import NSQ

/// nsqd's `/stats` output (JSON with Go's field order, or the text form) and the lookupd answers.
enum StatsRendering {
    static func json(_ stats: NSQBrokerStats, includeClients: Bool) -> String {
        let latency = "\"e2e_processing_latency\":{\"count\":0,\"percentiles\":null}"
        let topics = stats.topics.map { topic -> String in
            let channels = topic.channels.map { channel -> String in
                let clients = includeClients ? channel.clients.map(client).joined(separator: ",") : ""
                return "{\"channel_name\":\(GoJSON.string(channel.name)),\"depth\":\(channel.depth),\"backend_depth\":0,"
                    + "\"in_flight_count\":\(channel.inFlightCount),\"deferred_count\":\(channel.deferredCount),"
                    + "\"message_count\":\(channel.messageCount),\"requeue_count\":\(channel.requeueCount),"
                    + "\"timeout_count\":\(channel.timeoutCount),\"client_count\":\(channel.clients.count),"
                    + "\"clients\":[\(clients)],\"paused\":false,\(latency)}"
            }.joined(separator: ",")
            return "{\"topic_name\":\(GoJSON.string(topic.name)),\"channels\":[\(channels)],\"depth\":\(topic.depth),"
                + "\"backend_depth\":0,\"message_count\":\(topic.messageCount),\"message_bytes\":\(topic.messageBytes),"
                + "\"paused\":false,\(latency)}"
        }.joined(separator: ",")
        let memory = "{\"heap_objects\":0,\"heap_idle_bytes\":0,\"heap_in_use_bytes\":0,\"heap_released_bytes\":0,"
            + "\"gc_pause_usec_100\":0,\"gc_pause_usec_99\":0,\"gc_pause_usec_95\":0,\"next_gc_bytes\":0,\"gc_total_runs\":0}"
        let producers = stats.producers.isEmpty || !includeClients
            ? "null" : "[" + stats.producers.map(client).joined(separator: ",") + "]"
        return "{\"version\":\"\(NSQProtocol.version)\",\"health\":\"OK\",\"start_time\":\(stats.startTime),"
            + "\"topics\":[\(topics)],\"memory\":\(memory),\"producers\":\(producers)}"
    }

    static func client(_ client: NSQBrokerStats.Client) -> String {
        "{\"client_id\":\(GoJSON.string(client.clientID)),\"hostname\":\(GoJSON.string(client.hostname)),"
            + "\"version\":\"V2\",\"remote_address\":\(GoJSON.string(client.remoteAddress)),\"state\":\(client.state),"
            + "\"ready_count\":\(client.readyCount),\"in_flight_count\":\(client.inFlightCount),"
            + "\"message_count\":\(client.messageCount),\"finish_count\":\(client.finishCount),"
            + "\"requeue_count\":\(client.requeueCount),\"connect_ts\":\(client.connectTime),"
            + "\"sample_rate\":\(client.sampleRate),\"deflate\":false,\"snappy\":false,"
            + "\"user_agent\":\(GoJSON.string(client.userAgent)),\"tls\":false,\"tls_cipher_suite\":\"\","
            + "\"tls_version\":\"\",\"tls_negotiated_protocol\":\"\",\"tls_negotiated_protocol_is_mutual\":false}"
    }

    /// A compact form of nsqd's text stats.
    static func text(_ stats: NSQBrokerStats) -> String {
        var lines = ["nsqd v\(NSQProtocol.version) (playcount embedded broker)", "start_time \(stats.startTime)", "",
                     "Health: OK", ""]
        if stats.topics.isEmpty { lines.append("   NO_TOPICS") } else { lines.append("Topics:") }
        for topic in stats.topics {
            lines.append("   [\(topic.name)] depth: \(topic.depth) be-depth: 0 msgs: \(topic.messageCount)")
            for channel in topic.channels {
                lines.append("      [\(channel.name)] depth: \(channel.depth) be-depth: 0 inflt: \(channel.inFlightCount)"
                    + " def: \(channel.deferredCount) re-q: \(channel.requeueCount) timeout: \(channel.timeoutCount)"
                    + " msgs: \(channel.messageCount)")
                for client in channel.clients {
                    lines.append("        [V2 \(client.clientID)] state: \(client.state) inflt: \(client.inFlightCount)"
                        + " rdy: \(client.readyCount) fin: \(client.finishCount) re-q: \(client.requeueCount)"
                        + " msgs: \(client.messageCount) connected: \(client.connectTime)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
