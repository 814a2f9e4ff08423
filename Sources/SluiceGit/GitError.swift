import CGit2
import SluiceCore

/// A libgit2 failure, with libgit2's own message and what Sluice was doing.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var message: String
    public var code: Int32

    public var description: String { "\(operation): \(message)" }

    /// The remote refused the credentials: retrying will not help.
    public var isAuthentication: Bool { operation.hasPrefix("authenticate to ") }

    /// Reads libgit2's last error for the calling thread.
    static func last(_ operation: String, code: Int32) -> GitError {
        var message = git_error_last().map { String(cString: $0.pointee.message) } ?? "libgit2 error \(code)"
        if code == GIT_ELOCKED.rawValue || message.hasPrefix("failed to lock file") {
            // libgit2 leaves the reason empty when the lock file already exists.
            if message.hasSuffix(": ") || message.hasSuffix(":") { message = String(message.dropLast(message.hasSuffix(": ") ? 2 : 1)) }
            message += ": the lock file exists, so another git process is writing, or one was killed and left it."
                + " If no git command is running on this repository, delete the .lock file (Sluice removes ones older than a minute itself)"
        }
        return GitError(operation: operation, message: message, code: code)
    }
}

/// Calls a libgit2 function and throws its error when it returns < 0.
@discardableResult
func check(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(GitError) -> Int32 {
    let code = body()
    if code < 0 { throw GitError.last(operation(), code: code) }
    return code
}

/// libgit2 must be initialised once per process before any other call.
enum LibGit2 {
    static let initialized: Void = { git_libgit2_init() ; return () }()
}

extension git_oid {
    var hex: String {
        var oid = self
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buffer, 41, &oid)
        return CStringBuffer.string(buffer)
    }
}
