import Crypto

/// SHA-256 as lower-case hex: cache keys, artifact digests, mirror folder names.
public enum ContentHash {
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
