/// Sluice's own version, printed by `sluice --version` and recorded in run metadata.
public enum SluiceVersion {
    public static let current = "0.1.0"
}
