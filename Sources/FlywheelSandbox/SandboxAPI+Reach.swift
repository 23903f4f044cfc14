import FlywheelDomain
import FlywheelPlatform
import FlywheelSimulator
import Foundation
import HTTPTypes
import Hummingbird

/// Fan groups and subscription posts: the platform's group calls (`POST /im/group/fans/create/`,
/// `/im/group/setting/set/`, `/im/group/enter/audit/set/`), and what the platform has no open API
/// for, served here so the whole loop runs in the demo and the tests: `POST /sandbox/post/publish/`
/// pushes a post to the fans named, `POST /sandbox/group/apply` lets a fan apply to join, and
/// `POST /sandbox/live/book` lets a fan book a live.
extension SandboxAPI {
    /// A call the token admits, with its body.
    struct Call {
        var app: App
        var account: String
        var body: [String: Any]
        var time: Int64
    }

    /// Serves a call the token admits (once: a refusal counts against the app's calls a second,
    /// as the platform counts it), or answers why not.
    func serve(_ request: Request, _ handle: (Call) async -> Response) async throws -> Response {
        let body = try await json(request, limit: 1 << 23)
        let time = now()
        let token = request.headers[HTTPField.Name("access-token")!] ?? ""
        let account = request.uri.queryParameters.get("open_id") ?? ""
        switch state.withLock({ admit(token: token, account: account, at: time, &$0) }) {
        case .success(let app): return await handle(Call(app: app, account: account, body: body, time: time))
        case .failure(let refusal): return answer(refusal.errNo, refusal.message)
        }
    }

    func createGroup(_ call: Call) async -> Response {
        let (app, account, body) = (call.app, call.account, call.body)
        guard let name = body["group_name"] as? String, (1...30).contains(name.count) else { return answer(Self.invalidParameter, "group_name must be 1 to 30 characters") }
        let (id, number) = state.withLock { state -> (String, String) in
            state.nextId += 1
            let id = "sbx-grp-\(state.nextId)"
            let number = String(80_000_000 + state.nextId)
            state.groups[id] = SandboxGroup(clientKey: app.clientKey, account: account, name: name, number: number)
            return (id, number)
        }
        return answer(0, "success", ["group_id": id, "group_number": number])
    }

    /// A group the account made on the platform before any app: the sandbox knows it from now on.
    public func existingGroup(clientKey: String, account: String, group: String, number: String) {
        state.withLock { state in
            if state.groups[group] == nil { state.groups[group] = SandboxGroup(clientKey: clientKey, account: account, name: group, number: number) }
        }
    }

    func setGreeting(_ call: Call) async -> Response {
        let (account, body) = (call.account, call.body)
        let group = body["group_id"] as? String ?? ""
        let text = ((body["msg_list"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        let found = state.withLock { state -> Bool in
            guard state.groups[group]?.account == account else { return false }
            state.groups[group]?.greeting = text
            return true
        }
        return found ? answer(0, "success") : answer(Self.invalidParameter, "group_id is not a group of this account")
    }

    /// Approves (status 1) or rejects (2) an application; an approved fan joins, as the platform pushes it.
    func decideJoin(_ call: Call) async -> Response {
        let (app, account, body, time) = (call.app, call.account, call.body, call.time)
        let applyId = body["apply_id"] as? String ?? ""
        let status = (body["status"] as? NSNumber)?.intValue ?? 0
        guard status == 1 || status == 2 else { return answer(Self.invalidParameter, "status must be 1 (approve) or 2 (reject)") }
        let joined = state.withLock { state -> (group: String, fan: String)? in
            guard let application = state.applications[applyId], state.groups[application.group]?.account == account else { return nil }
            state.applications[applyId] = nil
            if status == 1 { state.groups[application.group]?.members.insert(application.fan) }
            return application
        }
        guard let joined else { return answer(Self.invalidParameter, "apply_id is not a waiting application to a group of this account") }
        if status == 1, let push {
            let delivery = deliver(app, "group_fans_event", from: joined.fan, to: account, id: "sbx-join-\(applyId)",
                                   content: Self.string(["open_id": joined.fan, "im_group_id": joined.group, "group_type": 1, "create_time": time,
                                                         "create_group_type": "5"]))
            Task { await push(delivery) }
        }
        return answer(0, "success")
    }

    /// The sandbox's own door: a fan applies to join a group (`{"client_key", "account", "group_id", "fan"}`), pushed as
    /// `enter_group_audit_change` for the app to decide.
    func fanApplies(_ request: Request) async throws -> Response {
        let body = try await json(request)
        guard let key = body["client_key"] as? String, let account = body["account"] as? String, let group = body["group_id"] as? String,
              let fan = body["fan"] as? String, !fan.isEmpty, fan.utf8.count <= 200 else {
            return answer(Self.invalidParameter, "needs client_key of an app, account (one of its open_ids), group_id and fan (an open_id)")
        }
        guard push != nil else { return answer(Self.invalidParameter, "this sandbox pushes nowhere") }
        guard let applyId = await apply(clientKey: key, account: account, group: group, fan: fan) else {
            return answer(Self.invalidParameter, "client_key, account or group_id names no group of the app's accounts")
        }
        return answer(0, "success", ["apply_id": applyId])
    }

    /// A fan applies to join one of the account's groups; returns the application's id, nil when there is no such group.
    public func apply(clientKey: String, account: String, group: String, fan: String) async -> String? {
        guard let app = apps[clientKey], app.accountOpenIds.contains(account), let push else { return nil }
        let applyId = state.withLock { state -> String? in
            guard state.groups[group]?.account == account else { return nil }
            state.nextId += 1
            let id = "sbx-apply-\(state.nextId)"
            state.applications[id] = (group, fan)
            return id
        }
        guard let applyId else { return nil }
        await push(deliver(app, "enter_group_audit_change", from: fan, to: account, id: applyId,
                           content: Self.string(["apply_id": applyId, "group_id": group, "apply_status": 1, "create_time": now(), "user_nicker": fan])))
        return applyId
    }

    /// The sandbox's own door: a fan books a live (`{"client_key", "account", "live_id", "fan"}`), pushed as `live_booking`.
    func fanBooks(_ request: Request) async throws -> Response {
        let body = try await json(request)
        guard let key = body["client_key"] as? String, let account = body["account"] as? String, let live = body["live_id"] as? String, !live.isEmpty,
              live.utf8.count <= 200, let fan = body["fan"] as? String, !fan.isEmpty, fan.utf8.count <= 200 else {
            return answer(Self.invalidParameter, "needs client_key of an app, account (one of its open_ids), live_id and fan (an open_id)")
        }
        guard push != nil else { return answer(Self.invalidParameter, "this sandbox pushes nowhere") }
        guard await book(clientKey: key, account: account, live: live, fan: fan) else { return answer(Self.invalidParameter, "client_key or account is not the app's") }
        return answer(0, "success")
    }

    /// A fan books one of the account's lives; false when the app or account is unknown.
    public func book(clientKey: String, account: String, live: String, fan: String) async -> Bool {
        guard let app = apps[clientKey], app.accountOpenIds.contains(account), let push else { return false }
        await push(deliver(app, "live_booking", from: fan, to: account, id: "sbx-book-\(live)-\(fan)", content: ["live_id": live, "create_time": now()]))
        return true
    }

    /// Pushes a post to the fans named: each may open it, click its tool (and claim its coupon),
    /// and, touched more than it tolerates in a week, unfollow.
    func publishPost(_ call: Call) async -> Response {
        let (app, account, body, time) = (call.app, call.account, call.body, call.time)
        guard let postId = body["post_id"] as? String, !postId.isEmpty, let fans = body["open_ids"] as? [String] else {
            return answer(Self.invalidParameter, "post_id and open_ids are required")
        }
        let coupon: (activityId: String, couponMetaId: String)? = body["tool_kind"] as? String == "coupon"
            ? (body["tool_ref"] as? String ?? "", "post-\(postId)") : nil
        var deliveries: [Delivery] = []
        if let model = app.reactions {
            let counts = touch(fans, of: account, at: time)
            let at = time + Int64(reactAfter.components.seconds) * 1_000
            for (fan, count) in zip(fans, counts) {
                var g = SeededGenerator(seed: UInt64(bitPattern: Int64("\(postId)|\(fan)".hashValueStable)))
                let outcome = model.react(toPostWithCoupon: coupon, touchesThisWeek: count, patience: Self.patience(of: fan)) { Double(g.next() >> 11) / Double(1 << 53) }
                if outcome.opened {
                    deliveries.append(deliver(app, "post_open", from: fan, to: account, id: "sbx-open-\(postId)-\(fan)", content: ["post_id": postId, "create_time": at]))
                }
                if outcome.clicked {
                    deliveries.append(deliver(app, "post_click", from: fan, to: account, id: "sbx-click-\(postId)-\(fan)", content: ["post_id": postId, "create_time": at]))
                    if body["tool_kind"] as? String == "live_booking", let live = body["tool_ref"] as? String {
                        deliveries.append(deliver(app, "live_booking", from: fan, to: account, id: "sbx-book-\(live)-\(fan)", content: ["live_id": live, "create_time": at]))
                    }
                }
                deliveries += reactionDeliveries(app, account: account, fan: fan, reactions: outcome.reactions, id: "sbx-post-\(postId)-\(fan)", at: at)
            }
        }
        if let push, !deliveries.isEmpty {
            let delay = reactAfter
            Task {
                try? await Task.sleep(for: delay)
                for delivery in deliveries { await push(delivery) }
            }
        }
        return answer(0, "success", ["post_id": postId, "delivered": fans.count])
    }

    /// Records a touch on each fan and returns each one's touches in the last 7 days, this one included.
    func touch(_ fans: [String], of account: String, at time: Int64) -> [Int] {
        state.withLock { state in
            fans.map { fan in
                let key = "\(account)|\(fan)"
                var times = (state.touched[key] ?? []).filter { $0 > time - 7 * 86_400_000 }
                times.append(time)
                state.touched[key] = times
                return times.count
            }
        }
    }

    /// A group send touches every member: the tired ones unfollow.
    func groupTouched(_ app: App, account: String, group: String, at time: Int64) -> [Delivery] {
        guard let model = app.reactions else { return [] }
        let members = state.withLock { $0.groups[group]?.members.sorted() ?? [] }
        let counts = touch(members, of: account, at: time)
        let at = time + Int64(reactAfter.components.seconds) * 1_000
        return zip(members, counts).flatMap { fan, count -> [Delivery] in
            var g = SeededGenerator(seed: UInt64(bitPattern: Int64("\(group)|\(fan)|\(time)".hashValueStable)))
            guard model.tired(touchesThisWeek: count, patience: Self.patience(of: fan), draw: { Double(g.next() >> 11) / Double(1 << 53) }) else { return [] }
            return reactionDeliveries(app, account: account, fan: fan, reactions: [.unfollow], id: "sbx-tired-\(group)-\(fan)-\(time)", at: at)
        }
    }

    /// A fan's own extra tolerance of touches (0 to 4), the same every run.
    static func patience(of fan: String) -> Int { Int(UInt64(bitPattern: Int64(fan.hashValueStable)) % 5) }

    /// A push as the platform signs it.
    func deliver(_ app: App, _ event: String, from: String, to: String, id: String, content: Any) -> Delivery {
        let root: [String: Any] = ["event": event, "client_key": app.clientKey, "from_user_id": from, "to_user_id": to, "content": content]
        let body = Array((try? JSONSerialization.data(withJSONObject: root)) ?? Data())
        return Delivery(msgId: id, body: body, signature: WebhookSignature.sign(body: body, secret: app.clientSecret))
    }
}
