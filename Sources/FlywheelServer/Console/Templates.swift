import FlywheelEngine
import Foundation
import Hummingbird
import Mustache

/// The console's pages are mustache templates (Sources/FlywheelServer/Templates), loaded once when
/// the router is built and filled from view models: plain structs of strings already in the
/// reader's language. Templates only place values, every one with `{{ }}`, which escapes it for
/// HTML; none uses `{{{ }}}`. A page template extends `layout` (the frame) and fills its
/// `content` block; repeated bits are partials (`cards`, `chart`, `notice`, `style`).
struct ConsoleTemplates: Sendable {
    let library: MustacheLibrary?
    /// Why the templates could not be loaded; the console then answers a plain-text error.
    let problem: String?

    /// Templates the routes render; a build without one of them does not serve broken pages.
    static let required = ["layout", "style", "cards", "chart", "notice", "login", "overview", "fans", "fan", "segments",
                           "segment", "tags", "settings", "key", "choose", "error", "inbox", "leads", "replytimes", "posts", "groups", "lives", "homepage", "sales", "goals", "review", "person", "bulk", "jobs", "msegments", "fieldhelp"]

    /// From the resources built into the server.
    static func load() -> ConsoleTemplates {
        guard let directory = Bundle.module.url(forResource: "Templates", withExtension: nil)
            ?? Bundle.module.resourceURL?.appendingPathComponent("Templates") else {
            return ConsoleTemplates(library: nil, problem: "the Templates folder is missing from the build")
        }
        return load(from: directory)
    }

    /// Every `*.mustache` file of `directory`, by its name without the extension. (Read here, not
    /// with `MustacheLibrary(directory:)`, which is async, so that building the router stays
    /// synchronous; each file is checked for phrases that have no translation.)
    static func load(from directory: URL) -> ConsoleTemplates {
        var templates: [String: MustacheTemplate] = [:]
        do {
            let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            for file in files where file.pathExtension == "mustache" {
                let text = try String(contentsOf: file, encoding: .utf8)
                do {
                    templates[file.deletingPathExtension().lastPathComponent] = try MustacheTemplate(string: text)
                } catch {
                    return ConsoleTemplates(library: nil, problem: "\(file.lastPathComponent) does not parse: \(error)")
                }
                let unknown = phraseNames(in: text).filter { Phrase(rawValue: $0) == nil }
                guard unknown.isEmpty else {
                    return ConsoleTemplates(library: nil, problem: "\(file.lastPathComponent) uses phrases Language does not have: \(unknown.joined(separator: ", "))")
                }
            }
        } catch {
            return ConsoleTemplates(library: nil, problem: "the templates cannot be read from \(directory.path): \(error)")
        }
        let missing = required.filter { templates[$0] == nil }
        guard missing.isEmpty else {
            return ConsoleTemplates(library: nil, problem: "templates missing from \(directory.path): \(missing.joined(separator: ", "))")
        }
        return ConsoleTemplates(library: MustacheLibrary(templates: templates), problem: nil)
    }

    /// The names in `{{t.name}}` tags.
    static func phraseNames(in text: String) -> [String] {
        text.components(separatedBy: "{{t.").dropFirst().map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "_" }) }
    }

    /// The page `template` in the frame, as an HTML response.
    func render<Content>(_ template: String, _ content: Content, frame: Frame, language: Language,
                         status: HTTPResponse.Status = .ok) -> Response {
        guard let library else { return Self.unavailable(problem ?? "the templates were not loaded") }
        let model = ConsolePage(frame: frame, t: language.phrases, page: content)
        guard let text = library.render(model, withTemplate: template) else { return Self.unavailable("no template named '\(template)'") }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// What the console answers when it cannot draw pages: plain text, no HTML.
    static func unavailable(_ problem: String) -> Response {
        Response(status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: "The console cannot draw its pages: \(problem)\n")))
    }
}

/// What every page template gets: the frame, the phrases (`{{t.name}}`) and its own view model
/// (inside `{{#page}}`).
struct ConsolePage<Content> {
    var frame: Frame
    var t: [String: String]
    var page: Content
}

// MARK: The frame

/// Header and title of every page: navigation with the current item marked, the scope switcher,
/// the link to the same page in the other language, sign-out.
struct Frame {
    var htmlLang: String
    var title: String
    var menu: Menu?
    var switcher: Switcher?
    var languageHref: String
    var languageName: String
    var signOut: SignOut?

    struct Menu { var links: [NavLink] }
    struct NavLink { var label: String; var href: String; var current: Bool }
    struct SignOut { var csrf: String }

    /// - Parameters:
    ///   - current: the navigation item to mark; with `menu` false there is no navigation (sign-in).
    ///   - scopeQuery: `?account=…`, kept by the navigation's links.
    ///   - csrf: the session's token, for the sign-out form; nil when signed out.
    ///   - here: the path and query (percent-encoded, as requested) of the page the language link
    ///     opens in the other language.
    init(title: String, language: Language, menu: Bool, current: Phrase? = nil, scopeQuery: String = "", csrf: String?,
         switcher: Switcher? = nil, here: (path: String, query: String?)) {
        htmlLang = language.htmlLang
        self.title = title
        let items: [(Phrase, String)] = [(.overview, "/console"), (.fans, "/console/fans"), (.inbox, "/console/inbox"), (.leads, "/console/leads"),
                                         (.replyTimes, "/console/reply-times"), (.posts, "/console/posts"), (.groups, "/console/groups"),
                                         (.lives, "/console/lives"), (.homepage, "/console/homepage"), (.sales, "/console/sales"), (.goals, "/console/goals"),
                                         (.journeys, "/console/journeys"), (.segments, "/console/segments"),
                                         (.tags, "/console/tags"), (.settings, "/console/settings")]
        self.menu = menu ? Menu(links: items.map { NavLink(label: language($0.0), href: $0.1 + scopeQuery, current: $0.0 == current) }) : nil
        self.switcher = switcher
        languageHref = Self.link(path: here.path, query: here.query, language: language.other)
        languageName = language.other.ownName
        signOut = csrf.map { SignOut(csrf: $0) }
    }

    /// The same path and query with only `lang` changed, so switching the language keeps the page
    /// and its scope (`?account=`, the fan, the segment, the search).
    static func link(path: String, query: String?, language: Language) -> String {
        let kept = (query ?? "").split(separator: "&").filter { pair in
            let name = pair.split(separator: "=", maxSplits: 1).first.map { $0.removingPercentEncoding ?? String($0) }
            return name != "lang" && !pair.isEmpty
        }.map(String.init)
        // Only console pages: never a link off the site.
        let base = path == "/console" || path.hasPrefix("/console/") ? path : "/console"
        return base + "?" + (kept + ["lang=\(language.rawValue)"]).joined(separator: "&")
    }
}

/// The header's scope switcher: every account the user may see, grouped by enterprise.
struct Switcher {
    var action: String
    var groups: [Group]

    struct Group { var label: String; var options: [SelectOption] }
}

/// An `<option>`.
struct SelectOption {
    var value: String
    var label: String
    var selected: Bool = false
}

/// A labelled number (or word) in a card.
struct Card {
    var label: String
    var value: String
}

/// A message shown where it happened: what went wrong, or what was done.
struct Notice {
    var text: String
    var isError: Bool
}

// MARK: Errors as pages

/// A 400, 403, 404 or any other error under `/console` is a page in the frame, in the reader's
/// language, not the API's JSON. Added outside `ErrorMiddleware`, so every error it sees is
/// already an `APIError` with its status and message.
struct ConsoleErrorMiddleware: RouterMiddleware {
    let flywheel: Flywheel
    let templates: ConsoleTemplates
    /// Behind a proxy of our own: `X-Forwarded-Proto` says whether cookies are `Secure`.
    var trustProxy = false

    struct Content {
        var status: Int
        var explanation: String
        /// The server's own message (English, as the API words it); nil when it adds nothing.
        var message: String?
        var backHref: String
    }

    func handle(_ request: Request, context: FlywheelRequestContext,
                next: (Request, FlywheelRequestContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/console" || path.hasPrefix("/console/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return await page(status: error.status, message: error.message, request)
        } catch {
            context.logger.error("console request failed", metadata: ["error": "\(error)"])
            return await page(status: .internalServerError, message: nil, request)
        }
    }

    func page(status: HTTPResponse.Status, message: String?, _ request: Request) async -> Response {
        let t = ConsoleRoutes.language(request)
        // The frame shows the navigation and sign-out to a signed-in user; the session is looked
        // up again because the one `SessionMiddleware` found is not visible out here.
        var csrf: String?
        if let token = request.cookies[ConsoleRoutes.cookie]?.value, let found = try? await flywheel.signIn.session(token: token) {
            csrf = found.session.csrf
        }
        let words: (title: Phrase, explanation: Phrase) = switch status {
        case .badRequest: (.badRequestTitle, .badRequestText)
        case .unauthorized: (.unauthorizedTitle, .unauthorizedText)
        case .forbidden: (.forbiddenTitle, .forbiddenText)
        case .notFound: (.notFoundTitle, .notFoundText)
        case .conflict: (.conflictTitle, .conflictText)
        case .contentTooLarge: (.tooLargeTitle, .tooLargeText)
        default: (.errorTitle, .errorText)
        }
        // A route that does not exist says nothing more than the title; a server fault's details stay in the log.
        let shown = message.flatMap { $0.hasPrefix("no such route") || status.code >= 500 ? nil : $0 }
        let scopeQuery = request.query("account").map { "?account=\(ConsoleRoutes.queryValue($0))" } ?? ""
        let frame = Frame(title: t(words.title), language: t, menu: csrf != nil, scopeQuery: scopeQuery, csrf: csrf,
                          here: (request.uri.path, request.uri.query))
        let content = Content(status: status.code, explanation: t(words.explanation), message: shown,
                              backHref: csrf == nil ? "/console/login" : "/console" + scopeQuery)
        return ConsoleRoutes.remember(request, templates.render("error", content, frame: frame, language: t, status: status), trustProxy: trustProxy)
    }
}
