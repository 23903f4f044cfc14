import Crypto
import Foundation

/// The platform's webhook signature: lowercase hex of SHA-1 over the app's client_secret followed
/// by the raw body bytes, sent as `X-Douyin-Signature`.
public enum WebhookSignature {
    public static func sign(body: some Collection<UInt8>, secret: String) -> String {
        var hasher = Insecure.SHA1()
        hasher.update(data: Array(secret.utf8))
        hasher.update(data: Array(body))
        return Array(hasher.finalize()).hex
    }

    /// Compares in constant time, so a forger cannot learn the signature byte by byte.
    public static func isValid(_ signature: String, body: some Collection<UInt8>, secret: String) -> Bool {
        let expected = Array(sign(body: body, secret: secret).utf8)
        let given = Array(signature.lowercased().utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for i in expected.indices { difference |= expected[i] ^ given[i] }
        return difference == 0
    }
}
