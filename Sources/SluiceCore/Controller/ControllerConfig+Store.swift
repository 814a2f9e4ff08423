/// `store: { url-env: SLUICE_DATABASE_URL }` in the controller configuration: the run store in
/// the PostgreSQL database whose URL that variable holds (see `DatabaseSettings`), so that
/// several replicas share it; without it, `SLUICE_DATABASE_URL` if set, else the state folder.
extension ControllerConfigDecoder {
    public static let storeKeys = ["url-env"]

    static func decodeStore(_ node: Node, _ reader: inout NodeReader) -> String? {
        guard let fields = reader.mapping(node, what: "'store'", allowed: storeKeys) else { return nil }
        guard let value = Fields(fields)["url-env"] else {
            reader.error(node, "'store' needs 'url-env'", hint: "e.g. store: { url-env: SLUICE_DATABASE_URL } (a postgres:// URL in that variable)")
            return nil
        }
        return reader.nonEmptyString(value, what: "'store.url-env'")
    }
}
