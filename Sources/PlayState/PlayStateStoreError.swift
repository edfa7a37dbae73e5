/// A failure of the state store, always naming the state file so the user knows which file to fix or move.
public struct PlayStateStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in categories a caller can act on.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable {
            case cannotOpen, notADatabase, notAPlayStateFile, newerSchema, corrupt, storageFailed, otherPartition
        }

        private let code: Code

        /// The file cannot be opened or created (missing directory, permissions, locked).
        public static let cannotOpen = Kind(code: .cannotOpen)
        /// The file exists but is not an SQLite database (random bytes, truncated header, encrypted).
        public static let notADatabase = Kind(code: .notADatabase)
        /// A valid SQLite database that belongs to some other application.
        public static let notAPlayStateFile = Kind(code: .notAPlayStateFile)
        /// Written by a newer playcount whose schema this version does not know.
        public static let newerSchema = Kind(code: .newerSchema)
        /// An SQLite database whose pages or stored values are damaged.
        public static let corrupt = Kind(code: .corrupt)
        /// A read or write failed (disk full, I/O error, read-only file system, ...).
        public static let storageFailed = Kind(code: .storageFailed)
        /// The file holds the counts of another partition (or of the whole topic): counting on would mix them.
        public static let otherPartition = Kind(code: .otherPartition)

        public var description: String {
            switch code {
            case .cannotOpen: "cannot open"
            case .notADatabase: "not a database"
            case .notAPlayStateFile: "not a playcount state file"
            case .newerSchema: "written by a newer playcount"
            case .corrupt: "corrupt"
            case .storageFailed: "storage failed"
            case .otherPartition: "counts another partition"
            }
        }
    }

    public let kind: Kind
    /// The state file's path (`:memory:` for an in-memory store).
    public let path: String
    /// What the store was doing and what SQLite said.
    public let detail: String

    public init(kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String { "state file \(path): \(kind): \(detail)" }
}
