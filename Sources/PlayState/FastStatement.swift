import GRDB
import GRDBSQLite

/// Executes a GRDB cached statement with integer arguments through the SQLite C API directly.
///
/// The store's hot loops (a row per video of every batch and of every publish call) spent most of their time
/// in GRDB's generic argument handling (an array of `DatabaseValue` per row); binding `Int64`s straight to the
/// prepared statement roughly halves the cost per row. Only for plain INSERT/UPDATE/SELECT statements inside a
/// GRDB transaction: GRDB still owns the connection, the transaction and the statement's lifetime.
struct FastStatement {
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer?

    init(_ statement: Statement, in db: Database) {
        self.statement = statement
        self.handle = statement.sqliteStatement
        self.connection = db.sqliteConnection
    }

    /// Runs the statement to completion with the given arguments (`nil` binds NULL).
    func execute(_ a: Int64, _ b: Int64, _ c: Int64? = nil, _ d: Int64? = nil, count: Int32) throws {
        try bind(a, b, c, d, count: count)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    private func bind(_ a: Int64, _ b: Int64, _ c: Int64?, _ d: Int64?, count: Int32) throws {
        var code = sqlite3_bind_int64(handle, 1, a)
        if code == SQLITE_OK { code = sqlite3_bind_int64(handle, 2, b) }
        if code == SQLITE_OK, count >= 3 { code = bindOptional(c, at: 3) }
        if code == SQLITE_OK, count >= 4 { code = bindOptional(d, at: 4) }
        guard code == SQLITE_OK else { throw error(code) }
    }

    private func bindOptional(_ value: Int64?, at index: Int32) -> Int32 {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: statement.sql)
    }
}
