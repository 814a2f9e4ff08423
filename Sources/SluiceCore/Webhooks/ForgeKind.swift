/// The forges Sluice reports to and takes webhooks from. One list: the controller
/// configuration's `forge.kind`, `SLUICE_FORGE`, the webhook verifier and the forge adapters all
/// switch over it, so adding a forge is a new case the compiler then asks for everywhere.
public enum ForgeKind: String, CaseIterable, Sendable, Hashable {
    case github, gitlab, gitea

    /// "github, gitlab or gitea", for messages.
    public static var spelled: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
