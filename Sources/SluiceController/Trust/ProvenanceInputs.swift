import FoundationEssentials
public import SluiceCore
public import SluiceGit

/// What a provenance statement lists as the build's inputs besides the source commit: each
/// dataset with its version as a digest (a git blob or tree for data in the repository, DVC's
/// md5 for DVC-tracked data) and where it is fetched from (the repository, or DVC's default
/// remote); each image a stage ran in on Kubernetes, by the digest the kubelet resolved.
enum ProvenanceInputs {
    static func images(_ stages: [StageResultRecord]) -> [Attestations.Dependency] {
        stages.compactMap { stage in
            // `imageID` as kubelets report it: `[docker-pullable://]repository@sha256:<hex>`.
            guard let id = stage.image, let at = id.range(of: "@sha256:") else { return nil }
            let repository = id[..<at.lowerBound].replacing("docker-pullable://", with: "")
            return Attestations.Dependency(name: "image of stage \(stage.stage)", digest: ["sha256": String(id[at.upperBound...])],
                                           uri: "oci://\(repository)")
        }
    }

    static func datasets(_ spec: PipelineSpec, versions: [String: String], commit: GitCommit, repository: String) -> [Attestations.Dependency] {
        let dvcRemote = commit.contents(at: ".dvc/config").flatMap { DVCPointer.defaultRemoteURL(config: String(decoding: $0, as: UTF8.self)) }
        return spec.datasets.sorted { $0.name < $1.name }.compactMap { dataset in
            guard let version = versions[dataset.name] else { return nil }
            switch dataset.source {
            case .path(let path):
                let kind = commit.contents(at: path) == nil ? "gitTree" : "gitBlob"
                return Attestations.Dependency(name: dataset.name, digest: [kind: version], uri: "git+\(repository)@\(commit.id)#\(path)")
            case .dvcPointer, .dvcLock:
                // A folder's DVC hash is the md5 of its listing, written `<md5>.dir`.
                let md5 = version.hasSuffix(".dir") ? String(version.dropLast(4)) : version
                return Attestations.Dependency(name: dataset.name, digest: ["md5": md5], uri: dvcRemote)
            }
        }
    }
}
