import FlywheelDomain
import Foundation
@testable import FlywheelEngine
import Testing

@Suite struct ImportTests {
    @Test func aLineParsesWithIsoTimeAndDerivedDomain() throws {
        let line = try EventImport.parse(#"{"kind":"live_gift","openId":"u1","occurredAt":"2026-03-01T08:00:00+08:00","channel":"live_feed","amount":500}"#, line: 1)
        #expect(line.event.occurredAt == 1_772_323_200_000)
        #expect(line.event.domain == .private)
        #expect(line.event.id.hasPrefix("sha256:"))
        #expect(line.account == nil)
    }

    @Test func theSameContentGetsTheSameIdAndAnExplicitIdWins() throws {
        let text = #"{"kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#
        #expect(try EventImport.parse(Substring(text), line: 1).event.id == (try EventImport.parse(Substring(text), line: 9).event.id))
        let other = #"{"kind":"like","openId":"u2","occurredAt":1772323200000,"channel":"search"}"#
        #expect(try EventImport.parse(Substring(text), line: 1).event.id != (try EventImport.parse(Substring(other), line: 1).event.id))
        #expect(try EventImport.parse(#"{"id":"x-1","kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#, line: 1).event.id == "x-1")
    }

    @Test func aLinesContentIdStaysWhatEarlierReleasesGaveIt() throws {
        // The log keeps it: a release that computed it otherwise would import an old file again.
        let plain = #"{"kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#
        let full = #"{"account":"acc_1","kind":"order_paid","openId":"粉丝-7","occurredAt":1772323200000,"channel":"live_feed","domain":"private","amount":990,"ref":"o-1","attributes":{"b":"2","a":"1"}}"#
        let ids = try [plain, full].map { try EventImport.parse(Substring($0), line: 1).event.id }
        // SHA-256 of the fields joined by U+001F (the attributes as a=1&b=2), as Python's hashlib computes it.
        #expect(ids == ["sha256:19c4d7ff6dd4ff8aefd61fff239c2bca0a3d5f0a8930d3cd18b07ecca21c2786",
                        "sha256:51fa2a08c0af11e3438891c9701eb83db7b5d8a54b8fd9da5607d9d944146f94"])
    }

    @Test func badLinesNameTheLineAndTheField() {
        func error(_ text: String) -> EventImport.LineError? {
            do {
                _ = try EventImport.parse(Substring(text), line: 7)
                return nil
            } catch { return error }
        }
        #expect(error(#"{"kind":"like","openId":"u","occurredAt":1}"#)?.field == "channel")
        #expect(error(#"{"kind":"liek","openId":"u","occurredAt":1,"channel":"dm"}"#)?.field == "kind")
        #expect(error(#"{"kind":"like","openId":"u","occurredAt":"yesterday","channel":"dm"}"#)?.field == "occurredAt")
        #expect(error(#"{"kind":"order_paid","openId":"u","occurredAt":1772323200000,"channel":"dm"}"#)?.field == "amount")
        #expect(error(#"{"kind":"like","openId":"u","occurredAt":1772323200000,"channel":"dm","amount":3}"#)?.field == "amount")
        #expect(error(#"{"kind":"like","openId":"","occurredAt":1772323200000,"channel":"dm"}"#)?.field == "openId")
        #expect(error(#"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm","domain":"moon"}"#)?.field == "domain")
        #expect(error("not json")?.description == "line 7: line: not a JSON object")
    }

    @Test func anEventRoundTripsThroughItsLine() throws {
        let event = FanEvent(id: "r1", kind: .orderPaid, openId: "u9", occurredAt: 1_772_323_200_123, domain: .commercial, channel: .qianchuan,
                             amount: 39_900, ref: "order-7", attributes: ["nickname": "阿明"])
        let line = EventImport.line(event, account: "acc_1")
        let parsed = try EventImport.parse(Substring(line), line: 1)
        #expect(parsed.event == event)
        #expect(parsed.account == "acc_1")
        #expect(line == #"{"account":"acc_1","amount":39900,"attributes":{"nickname":"阿明"},"channel":"qianchuan","domain":"commercial","id":"r1","kind":"order_paid","occurredAt":1772323200123,"openId":"u9","ref":"order-7"}"#)

        // Text that JSON must escape comes back as written, through the fast reader and Foundation's.
        let awkward = FanEvent(id: "q\"uote\\back/slash", kind: .comment, openId: "u\t1", occurredAt: 1_772_323_200_000, channel: .recommendFeed,
                               ref: "line\nbreak\u{1}", attributes: ["b": "\"}", "a": "\\", "c": "😀"])
        let text = EventImport.line(awkward, account: nil)
        #expect(try EventImport.parse(Substring(text), line: 1).event == awkward)
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(decoded?["ref"] as? String == "line\nbreak\u{1}")
        #expect(decoded?["attributes"] as? [String: String] == ["b": "\"}", "a": "\\", "c": "😀"])
    }

    @Test func valuesOutsideTheirBoundsAreRefusedNamingTheField() {
        func field(_ text: String) -> String? {
            do {
                _ = try EventImport.parse(Substring(text), line: 1)
                return nil
            } catch { return error.field }
        }
        #expect(field(#"{"kind":"like","openId":"u","occurredAt":9223372036854775807,"channel":"dm"}"#) == "occurredAt")
        #expect(field(#"{"kind":"like","openId":"u","occurredAt":-9223372036854775808,"channel":"dm"}"#) == "occurredAt")
        #expect(field(#"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm"}"#) == "occurredAt", "1970 is before any enterprise account")
        #expect(field(#"{"kind":"order_paid","openId":"u","occurredAt":1772323200000,"channel":"dm","amount":9223372036854775807}"#) == "amount")
        #expect(field(#"{"kind":"like","openId":"\#(String(repeating: "x", count: 201))","occurredAt":1772323200000,"channel":"dm"}"#) == "openId")
        #expect(field(#"{"kind":"order_paid","openId":"u","occurredAt":1772323200000,"channel":"dm","amount":100000000000}"#) == nil)
    }

    @Test func bytesThatAreNotUTF8AreRefusedNotReplaced() throws {
        let good = Array(#"{"kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#.utf8)
        var bad = Array(#"{"kind":"like","openId":"u"#.utf8) + [0xFF, 0xFE] + Array(#"","occurredAt":1772323200000,"channel":"search"}"#.utf8)
        #expect(throws: EventImport.LineError(line: 3, field: "openId", message: "is not valid UTF-8; send text as UTF-8")) {
            _ = try EventImport.lines(good + [10, 10] + bad)
        }
        bad = good + [10] + [0xC3]
        #expect(throws: EventImport.LineError(line: 2, field: "line", message: "is not valid UTF-8; send text as UTF-8")) { _ = try EventImport.lines(bad) }
        #expect(try EventImport.lines(good + [10, 32, 10] + good).map(\.number) == [1, 3])
    }

    @Test func spacesAndTabsAroundALineAreDropped() throws {
        let line = #"{"kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#
        let wide = #"{"kind":"like","openId":"阿明","occurredAt":1772323200000,"channel":"search"}"#
        let text = " \t\(line)\t \n\u{3000}\(wide) \u{3000}\n \t \n"
        let lines = try EventImport.lines(Array(text.utf8))
        #expect(lines.map(\.number) == [1, 2] && lines.map { String($0.text) } == [line, wide])
    }

    /// The one-pass reader and JSONDecoder read every line the reader takes alike; what it does
    /// not take (nil) goes to the decoder, so messages stay the decoder's.
    @Test func theFastReaderReadsLinesAsTheDecoderDoes() throws {
        let taken = [
            #"{"id":"a","account":"acc_1","kind":"like","openId":"u1","occurredAt":1772323200000,"channel":"search"}"#,
            #" { "kind" : "order_paid" , "openId":"u\"1\\","occurredAt":-5,"channel":"dm","amount":39900,"ref":null,"domain":null } "#,
            #"{"kind":"comment","openId":"\u4e2d\ud83d\ude00\n\t\/","occurredAt":0,"channel":"dm","attributes":{"nickname":"阿明","text":"a\"b"},"extra":7}"#,
            #"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm","attributes":{},"id":null,"note":"ignored","flag":null}"#,
            // Plain text first, then bytes beyond ASCII and escapes further on in the same string.
            #"{"kind":"like","openId":"ab阿明\"c","occurredAt":1,"channel":"dm","attributes":{"k":"ascii 中文 \n","中":"é"}}"#,
        ]
        for line in taken {
            let fast = try #require(ImportLineReader.read(Substring(line)), "\(line)")
            #expect(fast == (try JSONDecoder().decode(EventImport.Raw.self, from: Data(line.utf8))), "\(line)")
        }
        let refused = [
            #"{"kind":"like","openId":"u","occurredAt":"2026-03-01T08:00:00+08:00","channel":"dm"}"#,
            #"{"kind":"like","openId":"u","occurredAt":1.5,"channel":"dm"}"#,
            #"{"kind":"like","openId":"u","occurredAt":01,"channel":"dm"}"#,
            #"{"kind":"like","kind":"share","openId":"u","occurredAt":1,"channel":"dm"}"#,
            #"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm","more":{"a":1}}"#,
            #"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm"} x"#,
            #"{"kind":"like","openId":"\ud83d","occurredAt":1,"channel":"dm"}"#,
            #"{"kind":"like","openId":"u","occurredAt":99999999999999999999,"channel":"dm"}"#,
            #"{"kind":null,"openId":"u","occurredAt":1,"channel":"dm"}"#,
            #"{"id":null,"kind":"like","openId":"u","occurredAt":1,"channel":"dm","id":"x"}"#,
            #"{"kind":"like","openId":"u","occurredAt":1,"channel":"dm","note":1,"note":2}"#,
            "{\"kind\":\"like\",\"openId\":\"u\u{01}\",\"occurredAt\":1,\"channel\":\"dm\"}",
        ]
        for line in refused { #expect(ImportLineReader.read(Substring(line)) == nil, "\(line)") }
    }
}
