/// Records kept in memory for `audit`, within a budget. A partial record would audit wrongly, so once an
/// append would exceed the budget everything kept is released and only the fact is remembered: a run that
/// lasts for days holds at most the budget, and `audit` says it cannot audit from memory instead of lying.
struct KeptRecords<Element: Sendable>: Sendable {
    /// The most units kept (an element costs what its `append` says).
    let limit: Int
    private var elements: [Element] = []
    private var used = 0
    private var overflowed = false

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Keeps `newElements`, which together cost `cost` units, unless that would exceed the budget.
    mutating func append(contentsOf newElements: some Collection<Element>, cost: Int) {
        guard limit > 0, !overflowed, !newElements.isEmpty else { return }
        let (total, overflow) = used.addingReportingOverflow(max(0, cost))
        guard !overflow, total <= limit else {
            overflowed = true
            elements = []  // frees the storage: the run goes on without them
            used = 0
            return
        }
        used = total
        elements.append(contentsOf: newElements)
    }

    /// Everything appended, in order; or why it was not kept.
    var kept: Result<[Element], KeptRecordsShortfall> {
        if overflowed { return .failure(.overflowed(limit: limit)) }
        if limit == 0 { return .failure(.notKept) }
        return .success(elements)
    }
}

/// Why the records of a run cannot be audited from memory.
public enum KeptRecordsShortfall: Error, Sendable, Hashable {
    /// The budget was 0: nothing was kept.
    case notKept
    /// More than `limit` units arrived; what was kept has been released.
    case overflowed(limit: Int)
}
