import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<state>/sluice.sqlite.migrate-lock` held while the schema is
/// created or migrated, so two processes opening one new state folder do not both try to
/// create the tables ("table runs already exists"). The kernel drops it if the process dies.
final class MigrationLock: Sendable {
    let fd: Int32

    init(stateDirectory: String) throws(RunStore.StoreError) {
        let path = stateDirectory + "/sluice.sqlite.migrate-lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .init(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .init(description: "cannot lock \(path): \(reason)")
            }
        }
        fd = descriptor
    }

    deinit { close(fd) }
}
