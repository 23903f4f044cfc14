import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Reach's refusals through the API: each a 4xx naming the field, nothing planned or sent.
@Suite struct ReachAPITests {
    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    @Test(arguments: StoreKind.allCases) func badPostsGroupsAndLivesAreRefusedNamingTheField(_ kind: StoreKind) async throws {
        let clock = TestClock(Int64(Date().timeIntervalSince1970 * 1000))
        let f = try await ServerFixture(kind, clock: clock)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-reach", secret: "s", openId: "acct-reach")
            let base = "/v1/accounts/\(accountId)"
            // Another tenant's segment is no audience of this account.
            let other = try await f.flywheel.tenancy.createTenant(name: "Other", kind: .enterprise, actor: "t")
            let otherAccount = try await client.account(key: other.key.token, clientKey: "ck-other", secret: "s", openId: "acct-other")
            let segment = try await client.post("/v1/accounts/\(otherAccount)/segments", key: other.key.token, ["name": "theirs", "predicate": "following"])["id"] as! String
            var (code, body) = try await status(client, .post, "\(base)/posts", key: f.key, #"{"title":"t","segmentId":"\#(segment)"}"#)
            #expect(code == 400 && body.contains("segmentId"), "\(body)")
            (code, body) = try await status(client, .post, "\(base)/posts", key: f.key, #"{"title":"t","format":"video"}"#)
            #expect(code == 400 && body.contains("mediaRef"), "\(body)")
            (code, body) = try await status(client, .post, "\(base)/posts", key: f.key, #"{"title":"t","scheduledAt":"2020-01-01T00:00:00Z"}"#)
            #expect(code == 400 && body.contains("scheduledAt"), "\(body)")
            // Eight in a month, then the ninth is refused naming the next day with room.
            let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
            let today = calendar.day(ofMillis: env.now())
            let month = SubscriptionQuota.firstDay(ofMonthOf: today + 40)
            for i in 0..<8 {
                let at = Date(timeIntervalSince1970: TimeInterval(calendar.startOfDay(month + i) / 1000 + 3_600)).formatted(.iso8601)
                (code, body) = try await status(client, .post, "\(base)/posts", key: f.key, #"{"title":"p\#(i)","scheduledAt":"\#(at)"}"#)
                #expect(code == 201, "\(body)")
            }
            let ninth = Date(timeIntervalSince1970: TimeInterval(calendar.startOfDay(month + 20) / 1000)).formatted(.iso8601)
            (code, body) = try await status(client, .post, "\(base)/posts", key: f.key, #"{"title":"p9","scheduledAt":"\#(ninth)"}"#)
            let nextMonth = AccountCalendar.dateText(ofDay: SubscriptionQuota.firstDay(ofMonthOf: month + 31))
            #expect(code == 400 && body.contains("scheduledAt") && body.contains("8 posts of that month are used") && body.contains(nextMonth), "\(body)")

            // An eleventh admin, and a threshold that does not parse.
            let admins = (1...11).map { "\"staff-\($0)\"" }.joined(separator: ",")
            (code, body) = try await status(client, .post, "\(base)/groups", key: f.key, #"{"name":"真爱粉群","admins":[\#(admins)]}"#)
            #expect(code == 400 && body.contains("admins") && body.contains("eleventh"), "\(body)")
            (code, body) = try await status(client, .post, "\(base)/groups", key: f.key, #"{"name":"真爱粉群","threshold":"level >>= 9"}"#)
            #expect(code == 400 && body.contains("threshold"), "\(body)")
            #expect(try await env.store.groups(of: try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))).isEmpty)
            #expect(try await env.store.outboxCounts().isEmpty, "nothing queued")

            // A reminder for a live that has started.
            let started = Date(timeIntervalSince1970: TimeInterval(env.now() / 1000 + 60)).formatted(.iso8601)
            let live = try await client.post("\(base)/lives", key: f.key, ["title": "今晚直播", "startsAt": started])["lives"] as? [[String: Any]]
            let liveId = try #require(live?.first?["id"] as? String)
            clock.advance(by: 120_000)
            (code, body) = try await status(client, .post, "\(base)/lives/\(liveId)/remind", key: f.key, "")
            #expect(code == 400 && body.contains("liveId"), "\(body)")
            (code, body) = try await status(client, .post, "\(base)/lives", key: f.key, #"{"title":"x","times":["25:00"]}"#)
            #expect(code == 400 && body.contains("times[0]"), "\(body)")
            (code, body) = try await status(client, .put, "\(base)/touch-budget", key: f.key, #"{"perDay":5,"perWeek":3}"#)
            #expect(code == 400 && body.contains("perWeek"), "\(body)")
        }
    }
}
