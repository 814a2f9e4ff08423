import Crypto
import FoundationEssentials
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// A content-addressed store of stage outputs under `<state>/cas/sha256/ab/<hex>`.
/// Files are written to a temporary name, synced, then renamed into place, so a
/// blob either exists whole or not at all (a full disk leaves nothing behind).
/// A folder is stored as its files plus a manifest (one `digest size path` line per
/// file, sorted); the folder's digest is the manifest's.
///
/// With a `remote` (an S3 bucket), every blob is copied there before `store` returns, and a
/// blob the folder lacks is fetched from there and checked against its digest before use.
public struct ArtifactStore: Sendable {
    public let root: String
    public let remote: (any RemoteBlobStore)?

    public struct ArtifactError: Error, Sendable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    public struct Stored: Sendable, Hashable {
        public var path: String
        public var digest: String
        public var kind: ArtifactKind
        public var size: Int64
    }

    public init(stateDirectory: String, remote: (any RemoteBlobStore)? = nil) {
        root = stateDirectory + "/cas"
        self.remote = remote
    }

    func blobPath(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return "\(root)/sha256/\(hex.prefix(2))/\(hex)"
    }

    /// The local path of a blob, fetched from the remote store first when the folder lacks it.
    func localBlob(_ digest: String, shownAs: String) throws(ArtifactError) -> String {
        let path = blobPath(digest)
        if access(path, F_OK) == 0 { return path }
        guard let remote else {
            throw ArtifactError(description: "artifact \(digest) of output '\(shownAs)' is missing from the store")
        }
        do throws(ArtifactError) {
            _ = try write(shownAs: shownAs, expecting: digest, copyToRemote: false) { (sink: (UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) in
                try remote.download(digest, receive: sink)
            }
        } catch {
            throw ArtifactError(description: "artifact \(digest) of output '\(shownAs)' is not in this state folder and could not be fetched from \(remote.location): \(error)")
        }
        return path
    }

    // MARK: storing

    /// Stores the output `relative` of the workspace. Refuses paths that leave the
    /// workspace, through `..` or through a symbolic link.
    public func store(output relative: String, workspace: String) throws(ArtifactError) -> Stored {
        let full = try Self.resolveInside(workspace: workspace, relative: relative)
        var info = stat()
        guard lstat(full, &info) == 0 else {
            throw ArtifactError(description: "declared output '\(relative)' was not produced (no such file or folder in the workspace)")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            var lines: [String] = []
            var total: Int64 = 0
            for file in try Self.files(under: full, workspace: workspace, shownAs: relative) {
                let (digest, size) = try storeFile(full + "/" + file, shownAs: relative + "/" + file)
                lines.append("\(digest) \(size) \(file)")
                total += size
            }
            let manifest = lines.joined(separator: "\n") + "\n"
            let digest = try storeBytes(Array(manifest.utf8), shownAs: relative)
            return Stored(path: relative, digest: digest, kind: .directory, size: total)
        }
        let (digest, size) = try storeFile(full, shownAs: relative)
        return Stored(path: relative, digest: digest, kind: .file, size: size)
    }

    /// The absolute path of `relative` inside `workspace`, refusing escapes.
    static func resolveInside(workspace: String, relative: String) throws(ArtifactError) -> String {
        let parts = relative.split(separator: "/")
        if relative.hasPrefix("/") || parts.contains("..") {
            throw ArtifactError(description: "output '\(relative)' points outside the workspace; outputs must be paths inside the repository")
        }
        let full = workspace + "/" + parts.joined(separator: "/")
        // Every existing prefix must resolve inside the workspace (no symlink escapes).
        guard let base = realPath(workspace) else { throw ArtifactError(description: "the workspace \(workspace) is gone") }
        var prefix = workspace
        for part in parts {
            prefix += "/" + part
            guard let resolved = realPath(prefix) else { break }
            if resolved != base, !resolved.hasPrefix(base + "/") {
                throw ArtifactError(description: "output '\(relative)' leads outside the workspace through a symbolic link ('\(prefix.dropFirst(workspace.count + 1))' -> \(resolved)); refused")
            }
        }
        return full
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Regular files below `folder`, relative to it, sorted. Symbolic links must stay inside the workspace.
    static func files(under folder: String, workspace: String, shownAs: String) throws(ArtifactError) -> [String] {
        guard let base = realPath(workspace) else { throw ArtifactError(description: "the workspace \(workspace) is gone") }
        var result: [String] = []
        var pending = [""]
        while let dir = pending.popLast() {
            let full = dir.isEmpty ? folder : folder + "/" + dir
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: full) else {
                throw ArtifactError(description: "cannot list output folder '\(shownAs)/\(dir)'")
            }
            for name in entries {
                let rel = dir.isEmpty ? name : dir + "/" + name
                var info = stat()
                guard lstat(folder + "/" + rel, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                if type == S_IFLNK {
                    guard let target = realPath(folder + "/" + rel), target.hasPrefix(base + "/") else {
                        throw ArtifactError(description: "output '\(shownAs)/\(rel)' is a symbolic link leading outside the workspace; refused")
                    }
                    var t = stat()
                    stat(target, &t)
                    if (t.st_mode & S_IFMT) == S_IFDIR { pending.append(rel) } else { result.append(rel) }
                } else if type == S_IFDIR {
                    pending.append(rel)
                } else if type == S_IFREG {
                    result.append(rel)
                }
            }
        }
        return result.sorted()
    }

    private func storeFile(_ path: String, shownAs: String) throws(ArtifactError) -> (String, Int64) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ArtifactError(description: "cannot read output '\(shownAs)': \(String(cString: strerror(errno)))") }
        defer { close(input) }
        return try write(shownAs: shownAs) { (sink: (UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) in
            try Self.stream(input, shownAs: "output '\(shownAs)'", into: sink)
        }
    }

    /// Hands the bytes of `fd` to `sink`, a MiB at a time.
    private static func stream(_ fd: Int32, shownAs: String, into sink: (UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw ArtifactError(description: "reading \(shownAs) failed: \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private func storeBytes(_ bytes: [UInt8], shownAs: String) throws(ArtifactError) -> String {
        try write(shownAs: shownAs) { (sink: (UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) in
            do {
                try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in try sink(b) }
            } catch let e as ArtifactError { throw e } catch { throw ArtifactError(description: "\(error)") }
        }.0
    }

    /// Streams bytes into a temporary file while hashing, then moves it to its digest's path.
    /// With `expecting`, bytes of another digest are refused (nothing is stored); with a remote
    /// store and `copyToRemote`, the blob is there too before this returns.
    private func write(
        shownAs: String, expecting: String? = nil, copyToRemote: Bool = true,
        _ produce: ((UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) -> Void
    ) throws(ArtifactError) -> (String, Int64) {
        let tmpDir = root + "/tmp"
        try? FileManager.default.createDirectory(atPath: tmpDir, withIntermediateDirectories: true)
        var template = Array("\(tmpDir)/blob-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ArtifactError(description: "cannot create a file in \(tmpDir): \(String(cString: strerror(errno)))") }
        let tmpPath = CStringBuffer.string(template)
        var done = false
        defer {
            if !done { unlink(tmpPath) }
        }
        var hasher = SHA256()
        var size: Int64 = 0
        do throws(ArtifactError) {
            try produce { (chunk: UnsafeRawBufferPointer) throws(ArtifactError) in
                hasher.update(bufferPointer: chunk)
                size += Int64(chunk.count)
                var offset = 0
                while offset < chunk.count {
                    let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if n < 0, errno == EINTR { continue }
                    if n < 0 { throw ArtifactError(description: "storing output '\(shownAs)' failed: \(String(cString: strerror(errno))) (artifact store \(root))") }
                    offset += n
                }
            }
            if fsync(fd) != 0 { throw ArtifactError(description: "storing output '\(shownAs)' failed: \(String(cString: strerror(errno))) (artifact store \(root))") }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        let digest = "sha256:" + ContentHash.hex(hasher.finalize())
        if let expecting, digest != expecting {
            throw ArtifactError(description: "the copy of \(expecting) holds other bytes (\(size) bytes hashing to \(digest)); it was not stored")
        }
        let target = blobPath(digest)
        if access(target, F_OK) != 0 {  // else already stored: the temp file is dropped
            let folder = String(target.prefix(upTo: target.lastIndex(of: "/")!))
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ArtifactError(description: "storing output '\(shownAs)' failed: cannot create \(folder): \(error)")
            }
            guard rename(tmpPath, target) == 0 else {
                throw ArtifactError(description: "storing output '\(shownAs)' failed: \(String(cString: strerror(errno)))")
            }
            done = true
        }
        if copyToRemote, let remote {
            do throws(ArtifactError) {
                if try !remote.contains(digest, size: size) { try remote.upload(target, digest: digest, size: size) }
            } catch {
                throw ArtifactError(description: "output '\(shownAs)' is stored in this state folder but could not be copied to \(remote.location): \(error)")
            }
        }
        return (digest, size)
    }

    /// Takes in the blob `digest` from the file `path` (another state folder's blob), checked
    /// against the digest, and copied to the bucket too when there is one.
    /// Stores a file that is no stage output (a finished stage's log) and returns its digest.
    public func storeFile(at path: String, shownAs: String) throws(ArtifactError) -> String {
        try storeFile(path, shownAs: shownAs).0
    }

    /// A stored file's bytes, fetched from the remote store first when the folder lacks it.
    public func contents(_ digest: String, shownAs: String) throws(ArtifactError) -> Data {
        let path = try localBlob(digest, shownAs: shownAs)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArtifactError(description: "artifact \(digest) of '\(shownAs)' could not be read from \(path)")
        }
        return data
    }

    public func adopt(_ path: String, digest: String) throws(ArtifactError) {
        if access(blobPath(digest), F_OK) == 0, remote == nil { return }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ArtifactError(description: "cannot read \(path) (blob \(digest)): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        _ = try write(shownAs: path, expecting: digest) { (sink: (UnsafeRawBufferPointer) throws(ArtifactError) -> Void) throws(ArtifactError) in
            try Self.stream(input, shownAs: path, into: sink)
        }
    }

    /// Copies a stored output (a folder: its manifest and every file) from another artifact
    /// store, each blob checked against its digest.
    public func copy(_ digest: String, kind: ArtifactKind, relative: String, from other: ArtifactStore) throws(ArtifactError) {
        if kind == .directory {
            for file in try other.files(of: digest, kind: .directory, relative: relative) { try adopt(file.blob, digest: file.digest) }
        }
        try adopt(try other.localBlob(digest, shownAs: relative), digest: digest)
    }

    /// The SHA-256 (hex) of a stored file's content as it is on disk now, not as recorded: what
    /// checking a signature needs.
    public func rehash(_ file: StoredFile) throws(ArtifactError) -> String {
        let fd = open(file.blob, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArtifactError(description: "\(file.path) (\(file.blob)) cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw ArtifactError(description: "\(file.path) (\(file.blob)) cannot be read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return ContentHash.hex(hasher.finalize())
    }

    // MARK: restoring

    /// Puts a stored output back at `relative` in the workspace (cache hit).
    public func restore(_ digest: String, kind: ArtifactKind, to relative: String, workspace: String) throws(ArtifactError) {
        let full = try Self.resolveInside(workspace: workspace, relative: relative)
        switch kind {
        case .file:
            try copyBlob(digest, to: full, shownAs: relative)
        case .directory:
            guard let data = FileManager.default.contents(atPath: try localBlob(digest, shownAs: relative)) else {
                throw ArtifactError(description: "artifact \(digest) of output '\(relative)' is missing from the store")
            }
            try? FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 2)
                guard parts.count == 3 else { continue }
                let file = String(parts[2])
                if file.split(separator: "/").contains("..") { throw ArtifactError(description: "corrupt manifest \(digest)") }
                try copyBlob(String(parts[0]), to: full + "/" + file, shownAs: relative + "/" + file)
            }
        }
    }

    /// One file of a stored output, where its bytes are in the store.
    public struct StoredFile: Sendable, Hashable {
        /// Inside the output folder; for a single-file output, the file's name.
        public var path: String
        public var blob: String
        public var digest: String
        public var size: Int64
    }

    /// The files of a stored output (`relative` as declared), to hand them to another store.
    public func files(of digest: String, kind: ArtifactKind, relative: String) throws(ArtifactError) -> [StoredFile] {
        func size(_ blob: String) throws(ArtifactError) -> Int64 {
            var info = stat()
            guard stat(blob, &info) == 0 else { throw ArtifactError(description: "artifact \(digest) of output '\(relative)' is missing from the store") }
            return Int64(info.st_size)
        }
        switch kind {
        case .file:
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            let blob = try localBlob(digest, shownAs: relative)
            return [StoredFile(path: name, blob: blob, digest: digest, size: try size(blob))]
        case .directory:
            guard let data = FileManager.default.contents(atPath: try localBlob(digest, shownAs: relative)) else {
                throw ArtifactError(description: "artifact \(digest) of output '\(relative)' is missing from the store")
            }
            var result: [StoredFile] = []
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 2)
                guard parts.count == 3, let bytes = Int64(parts[1]), !parts[2].split(separator: "/").contains("..") else {
                    throw ArtifactError(description: "corrupt manifest \(digest) of output '\(relative)'")
                }
                let blob = try localBlob(String(parts[0]), shownAs: relative + "/" + parts[2])
                guard try size(blob) == bytes else { throw ArtifactError(description: "artifact \(parts[0]) of output '\(relative)/\(parts[2])' has the wrong size in the store") }
                result.append(StoredFile(path: String(parts[2]), blob: blob, digest: String(parts[0]), size: bytes))
            }
            return result
        }
    }

    private func copyBlob(_ digest: String, to path: String, shownAs: String) throws(ArtifactError) {
        let source = try localBlob(digest, shownAs: shownAs)
        let parent = String(path.prefix(upTo: path.lastIndex(of: "/")!))
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: path)
        do { try FileManager.default.copyItem(atPath: source, toPath: path) } catch {
            throw ArtifactError(description: "restoring output '\(shownAs)' failed: \(error)")
        }
    }
}

