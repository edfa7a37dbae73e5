import NSQ
import ShellKit

/// How the processor asks nsqd to buffer its output (the `output-buffer` and `catch-up-buffer` settings).
///
/// `adaptive` keeps an unbuffered connection for live traffic and a buffered one (`catch-up-buffer`) for
/// draining a backlog, and moves the RDY window between them (``NSQConsumerConfiguration/CatchUp``); the others
/// keep one connection per nsqd with fixed IDENTIFY settings.
public enum OutputBufferChoice: Sendable, Equatable {
    case adaptive
    /// Every message written at once (`output_buffer_size` -1): realtime, but three writes per message on nsqd.
    case unbuffered
    /// nsqd's defaults: 16 KiB, flushed every 250 ms.
    case nsqdDefault
    /// `SIZE/TIMEOUT`: a buffer of SIZE bytes flushed at least every TIMEOUT.
    case buffered(size: Int, timeout: ShellDuration)

    /// The IDENTIFY settings of one connection, for the fixed choices (nil for `adaptive`).
    var fixedBuffering: NSQConsumerConfiguration.OutputBuffering? {
        switch self {
        case .adaptive: return nil
        case .unbuffered: return .unbuffered
        case .nsqdDefault: return .serverDefault
        case .buffered(let size, let timeout): return .buffered(size: size, timeout: timeout.duration)
        }
    }
}

extension OutputBufferChoice: ShellValueConvertible {
    public static var typeName: String { "adaptive|unbuffered|nsqd|SIZE/TIMEOUT" }

    public static func parse(_ text: String) throws -> OutputBufferChoice {
        switch text {
        case "adaptive": return .adaptive
        case "unbuffered": return .unbuffered
        case "nsqd": return .nsqdDefault
        default:
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let size = Int(parts[0]), let timeout = ShellDuration(argument: String(parts[1]))
            else {
                throw ShellError(
                    "'\(text)' is not adaptive, unbuffered, nsqd or SIZE/TIMEOUT (bytes and a duration, e.g. 16384/25ms)")
            }
            return .buffered(size: size, timeout: timeout)
        }
    }

    public init?(shellValue: ShellValue) {
        guard case .string(let text) = shellValue, let value = try? Self.parse(text) else { return nil }
        self = value
    }

    public var shellValue: ShellValue {
        switch self {
        case .adaptive: return .string("adaptive")
        case .unbuffered: return .string("unbuffered")
        case .nsqdDefault: return .string("nsqd")
        case .buffered(let size, let timeout): return .string("\(size)/\(timeout.description)")
        }
    }

    /// nsqd v1.3.0's limits for a client's buffer (its own flags can narrow the timeout range further).
    var problem: String? {
        guard case .buffered(let size, let timeout) = self else { return nil }
        if !(64...65536).contains(size) { return "the size must be 64 to 65536 bytes (nsqd's limits)" }
        if timeout.duration < .milliseconds(1) { return "the timeout must be at least 1ms" }
        return nil
    }
}

extension Setting where Value == OutputBufferChoice {
    /// How nsqd buffers what it sends the processor.
    public static var outputBuffer: Setting<OutputBufferChoice> {
        Setting(
            name: "output-buffer", defaultValue: .adaptive,
            help: """
                How nsqd buffers messages to the processor: adaptive (an unbuffered connection for live plays and \
                a catch-up-buffer one for backlogs, RDY on one at a time), unbuffered, nsqd (its 16 KiB/250ms \
                default) or SIZE/TIMEOUT.
                """,
            suggestions: ["adaptive", "unbuffered", "nsqd", "16384/25ms"],
            validate: { $0.problem })
    }

    /// The buffered connection's settings under `output-buffer adaptive`.
    public static var catchUpBuffer: Setting<OutputBufferChoice> {
        Setting(
            name: "catch-up-buffer",
            defaultValue: .buffered(size: 16 * 1024, timeout: ShellDuration(.milliseconds(25), description: "25ms")),
            help: """
                SIZE/TIMEOUT of the connection that drains backlogs (output-buffer adaptive); 25ms is the lowest \
                timeout a stock nsqd accepts (--min-output-buffer-timeout).
                """,
            suggestions: ["16384/25ms", "65536/25ms"],
            validate: { choice in
                guard case .buffered = choice else { return "use SIZE/TIMEOUT, e.g. 16384/25ms" }
                return choice.problem
            })
    }
}

extension Setting where Value == ShellDuration {
    /// The `msg_timeout` the processor asks nsqd for: how soon a crashed processor's messages come back.
    public static var msgTimeout: Setting<ShellDuration> {
        Setting(
            name: "msg-timeout", defaultValue: ShellDuration(.seconds(5), description: "5s"),
            help: """
                How long nsqd waits for a message's FIN before delivering it again (IDENTIFY msg_timeout): after a \
                crash, uncommitted plays come back this soon. Messages held longer are TOUCHed.
                """,
            validate: { (.seconds(1) ... .seconds(900)).contains($0.duration) ? nil : "must be 1s to 15m (nsqd's limits)" })
    }
}
