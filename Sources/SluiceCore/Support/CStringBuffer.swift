/// The text of a NUL-terminated C string a C library wrote into a Swift array (an error
/// buffer, an object id, a `mkstemp` template): up to the first NUL, as UTF-8.
public enum CStringBuffer {
    public static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
