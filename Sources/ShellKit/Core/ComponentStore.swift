import Locking

/// A key for `ComponentStore`: the type of the value it holds.
public protocol ComponentKey {
    associatedtype Value: Sendable
}

/// The app's long-lived components (broker, processor, …), stored by key type so modules add their own
/// without editing the shell. Wrap access in a `ShellContext` extension property for readability.
public final class ComponentStore: Sendable {
    private let storage = Locked([ObjectIdentifier: any Sendable]())

    public init() {}

    public subscript<Key: ComponentKey>(key: Key.Type) -> Key.Value? {
        get { storage.withLock { $0[ObjectIdentifier(key)] } as? Key.Value }
        set { storage.withLock { $0[ObjectIdentifier(key)] = newValue } }
    }
}
