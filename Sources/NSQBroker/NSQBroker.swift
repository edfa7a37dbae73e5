// The NSQBroker module; see the issue that builds it.
