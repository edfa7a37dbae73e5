// The PlayCounts module; see the issue that builds it.
