import PlayCounts

extension WebhookPublishError: ClassifiedPublishError {
    public var kind: PublishFailureKind {
        switch code {
        case .badStatus: .status
        case .timeout: .timeout
        case .connectFailed: .connect
        case .connectionFailed: .connection
        case .tlsFailed: .tls
        }
    }
}
