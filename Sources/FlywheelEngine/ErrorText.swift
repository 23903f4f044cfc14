import FlywheelDomain
import FlywheelPlatform
import FlywheelStore

/// What an answer (the API, the console, `/health`) may say about an error that is kept and shown
/// later, such as why an event was set aside or a segment failed to build: Flywheel's own
/// explanations of bad data as they are, anything else (the database's words, I/O) only as a
/// pointer to the log, where the detail is.
public enum ErrorText {
    public static func forAnswer(_ error: any Error) -> String {
        if let problem = error as? EventProblem { return problem.description }
        if let problem = error as? PredicateError { return problem.description }
        if let rule = error as? RuleError, case .invalid(let field, let message) = rule { return "\(field): \(message)" }
        if let platform = error as? PlatformError { return platform.description }
        if let sealing = error as? TokenSealer.Failure { return sealing.description }
        switch error as? StoreError {
        case .notFound(let what)?: return "\(what) not found"
        case .corrupt?: return "stored data could not be read; the detail is in the server's log"
        default: return "a storage or server error; the detail is in the server's log"
        }
    }
}
