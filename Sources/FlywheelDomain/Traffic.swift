/// The three domains (三域) a visit or a fan comes from, with off-site private pools kept apart.
public enum SourceDomain: String, CaseIterable, Codable, Sendable {
    /// Free platform traffic: recommendation feed, live square, city page, challenges, search.
    case `public`
    /// Paid traffic: brand ads, DOU+, Qianchuan-style promotion.
    case commercial
    /// The account's own reach: follow feed, homepage, subscription posts, DMs, fan groups.
    case `private`
    /// Private pools outside the platform, such as WeChat groups.
    case offsite
}

/// Where on (or off) the platform an interaction happened.
public enum Channel: String, CaseIterable, Codable, Sendable {
    case recommendFeed = "recommend_feed"
    case search
    case liveSquare = "live_square"
    case city
    case challenge
    case liveList = "live_list"
    case douPlus = "dou_plus"
    case brandAd = "brand_ad"
    case qianchuan
    case followFeed = "follow_feed"
    case homepage
    case liveFeed = "live_feed"
    case subscription
    case dm
    case group
    case wechat
    case offsitePool = "offsite_pool"
    /// The platform did not say (most webhook events); counted in the public domain.
    case unknown

    /// The domain a channel belongs to when the source does not name one.
    public var defaultDomain: SourceDomain {
        switch self {
        case .recommendFeed, .search, .liveSquare, .city, .challenge, .liveList, .unknown: .public
        case .douPlus, .brandAd, .qianchuan: .commercial
        case .followFeed, .homepage, .liveFeed, .subscription, .dm, .group: .private
        case .wechat, .offsitePool: .offsite
        }
    }
}
