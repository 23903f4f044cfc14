import FlywheelDomain

/// How the log stores an event's kind, domain and channel, and a fan's touches their touchpoint:
/// a small number each (migrations v19 and v20 numbered the rows stored before). A number is never
/// changed or reused: a new case takes the next one at the end of its list. 0 stands for none of
/// them: an event the projector sets aside, a touch a report leaves out.
public enum EventCodes {
    public static let kinds = Numbering<EventKind>([
        .follow, .unfollow, .videoView, .like, .comment, .share, .liveWatch, .liveGift, .liveShare, .dmReceived, .dmSent, .dmEntered,
        .dmGranted, .dmRevoked, .groupJoin, .groupLeave, .groupMessage, .groupApplied, .postOpened, .postClicked, .liveBooked, .homepageVisit,
        .leadSubmitted, .orderPaid, .orderRefunded, .couponClaimed, .couponRedeemed, .tagAdded, .tagRemoved, .noteAdded,
    ])
    public static let domains = Numbering<SourceDomain>([.public, .commercial, .private, .offsite])
    public static let channels = Numbering<Channel>([
        .recommendFeed, .search, .liveSquare, .city, .challenge, .liveList, .douPlus, .brandAd, .qianchuan, .followFeed, .homepage, .liveFeed,
        .subscription, .dm, .group, .wechat, .offsitePool, .unknown,
    ])
    /// A fan's touches (`fan_touchpoints`).
    public static let touchpoints = Numbering<SalesTouchpoint>([.live, .dm, .group, .post, .homepage])

    /// Values numbered 1, 2, 3... in the order given.
    public struct Numbering<Value: Equatable & Sendable>: Sendable {
        private let values: [Value]

        init(_ values: [Value]) { self.values = values }

        /// 0 for a value left out of the list, which reads back as none (the codes' tests check that
        /// every case is in it). Found by comparing cases, a third of the time a dictionary took
        /// hashing each case's name (three lookups a stored event).
        public func number(_ value: Value) -> Int64 { values.firstIndex(of: value).map { Int64($0 + 1) } ?? 0 }

        public func value(_ number: Int64) -> Value? {
            number >= 1 && number <= Int64(values.count) ? values[Int(number - 1)] : nil
        }
    }
}
