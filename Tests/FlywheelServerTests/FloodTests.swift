import FlywheelEngine
import FlywheelServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Floods and slow clients: what the server holds at once is bounded, and sign-in floods do not
/// slow the webhook.
@Suite struct FloodTests {
    static let clientKey = "awr8bfr64vxgk036"
    static let accountOpenId = "e3af6e1d-d83a-4116-8f9f-5cb8ac2413c7"

    /// More body bytes than the server may hold across requests: 503 with `Retry-After`, and the
    /// allowance comes back once the request is answered.
    @Test func bodiesOverTheInFlightAllowanceAre503WithRetryAfter() async throws {
        let f = try await ServerFixture(settings: ServerSettings(runProjector: false, limits: ServerLimits(maxBodyBytesInFlight: 64 << 10)))
        try await f.test { client in
            _ = try await client.account(key: f.key, clientKey: Self.clientKey, secret: "s1", openId: Self.accountOpenId)
            let big = Array(#"{"event":"im_receive_msg","client_key":"awr8bfr64vxgk036","content":{"text":""#.utf8)
                + [UInt8](repeating: 0x61, count: 100 << 10) + Array(#""}}"#.utf8)
            let refused = try await client.deliver(big, secret: "s1", msgId: "m1")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(try errorCode(refused) == "overloaded")
            let body = Array(try Data(contentsOf: samplesDirectory().appendingPathComponent("NewFollowActionEvent.json")))
            let stored = try await client.deliver(body, secret: "s1", msgId: "m2")
            #expect(stored.status == .ok, "the refused body's bytes were given back")
        }
    }

    /// Sign-ins hash on threads of their own: while 40 wrong passwords from 40 addresses are
    /// checked, webhook deliveries answer about as fast as before (a generous bound against the
    /// same run's baseline, not a tight timing).
    @Test func webhooksStayFastDuringASignInFlood() async throws {
        // One hashing thread and a short queue keep the test's own time bounded (at most 5 hashes).
        let f = try await ServerFixture(limits: FlywheelLimits(passwordHashers: 1, waitingSignIns: 4))
        try await f.test { client in
            _ = try await client.account(key: f.key, clientKey: Self.clientKey, secret: "s1", openId: Self.accountOpenId)
            let body = Array(try Data(contentsOf: samplesDirectory().appendingPathComponent("NewVideoDiggEvent.json")))
            func slowestOf50(_ prefix: String) async throws -> Duration {
                var slowest = Duration.zero
                for i in 0..<50 {
                    let started = ContinuousClock.now
                    let response = try await client.deliver(body, secret: "s1", msgId: "\(prefix)-\(i)")
                    #expect(response.status == .ok)
                    slowest = max(slowest, ContinuousClock.now - started)
                }
                return slowest
            }
            let baseline = try await slowestOf50("before")
            let signIn = f.flywheel.signIn
            // Unknown names from distinct addresses: no lockout, so every attempt hashes or is refused as busy.
            let flood = Task {
                try await withThrowingTaskGroup(of: ConsoleSignIn.Outcome.self) { group in
                    for i in 0..<40 {
                        group.addTask { try await signIn.signIn(name: "intruder\(i)", password: "guess \(i)", client: "10.0.0.\(i)") }
                    }
                    var outcomes: [ConsoleSignIn.Outcome] = []
                    for try await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
            }
            let during = try await slowestOf50("during")
            let outcomes = try await flood.value
            #expect(during < max(.seconds(2), baseline * 20), "slowest delivery \(during) during the flood, \(baseline) before")
            #expect(outcomes.count == 40 && outcomes.allSatisfy { $0 == .refused || $0 == .busy })
            #expect(outcomes.contains(.refused), "some attempts were checked")
        }
    }
}
