/// The exit statuses of `playcount` (documented in `playcount --help`):
///
/// | status | meaning |
/// |-------:|---------|
/// | 0   | every command succeeded (or `quit` without a status) |
/// | 1   | a command failed (unknown command, bad arguments, failed `expect`, a command's error) |
/// | 2   | a script file given to playcount (`FILE`, `-f FILE`) could not be read |
/// | 64  | playcount itself was used wrongly (unknown flag, missing option value) — EX_USAGE |
/// | 130 | interrupted by Ctrl-C (SIGINT) while running non-interactively, or a command ignored three Ctrl-C presses |
///
/// `quit CODE` leaves with CODE (but a run where a command failed never exits 0).
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let commandFailed: Int32 = 1
    public static let scriptUnreadable: Int32 = 2
    public static let usage: Int32 = 64
    public static let interrupted: Int32 = 130
}
