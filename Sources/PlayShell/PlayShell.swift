// The PlayShell module; see the issue that builds it.
