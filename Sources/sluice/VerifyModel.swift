import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct VerifyModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-model",
        abstract: "Check a model version's files, as the registry serves them now (MLflow, or the artifact store), against the signature the gate made (gate.signing).",
        discussion: "Every file is hashed again. Exit 0 when the signature holds for the files and the key, 1 when it does not, 2 when it cannot be checked.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The model's name.")
    var model: String

    @Argument(help: "The version.")
    var version: String

    @Option(help: "The signer's public key (PEM), e.g. from openssl ec -in signing.pem -pubout.")
    var publicKey: String

    func run() async throws {
        let result: ModelVerification.Result
        do {
            guard let pem = FileManager.default.contents(atPath: publicKey) else { throw LoadError(message: "\(publicKey) cannot be read") }
            result = try ModelOperations(location: global.repo, stateDirectory: global.stateDirectory, model: model,
                                         environment: ProcessInfo.processInfo.environment)
                .verifyModel(version: version, publicKeyPEM: String(decoding: pem, as: UTF8.self))
        } catch {
            throw Output.fail(error)
        }
        if let problem = result.problem {
            Output.out("\(model) version \(version) (run \(result.run)): NOT verified: \(problem)")
            throw ExitCode(1)
        }
        Output.out("\(model) version \(version) (run \(result.run)): verified, \(Output.count(result.files, "file", "files")) as signed (read from \(result.source))")
    }
}
