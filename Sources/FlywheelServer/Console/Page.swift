import Foundation
import Hummingbird

/// The console's languages: Chinese (the demo's default) and English.
enum Language: String, CaseIterable, Sendable {
    case zh, en

    /// The phrase in this language; phrases are written in English.
    func callAsFunction(_ phrase: String) -> String {
        (self == .en ? Self.english[phrase] : Self.chinese[phrase]) ?? phrase
    }

    /// Names from the model (tiers, domains) as English readers expect them.
    static let english: [String: String] = [
        "potential": "Potential", "passerby": "Passerby", "liking": "Liking", "true_love": "True love", "new": "New",
        "public": "Public", "commercial": "Commercial", "private": "Private", "offsite": "Off-site", "female": "Female", "male": "Male",
        "fan": "Fan", "operator": "Operator", "system": "System",
    ]

    static let chinese: [String: String] = [
        "Sign in": "登录", "Sign out": "退出", "User": "用户名", "Password": "密码", "Overview": "概览", "Fans": "粉丝",
        "Segments": "人群", "Tags": "标签", "Settings": "设置", "Flywheel console": "Flywheel 私域运营台",
        "Wrong user or password": "用户名或密码错误", "Fans by tier": "粉丝分层", "Tier mix over 30 days": "近 30 天分层变化",
        "New fans by domain, 30 days": "近 30 天各域新增粉丝", "Events by channel, 30 days": "近 30 天各渠道互动",
        "potential": "潜在粉丝", "passerby": "路人粉", "liking": "喜爱粉", "true_love": "真爱粉",
        "public": "公域", "commercial": "商域", "private": "私域", "offsite": "站外",
        "All accounts": "全部账号", "Account": "账号", "Enterprise": "企业", "Search": "搜索", "Filter": "筛选",
        "Nickname": "昵称", "Tier": "分层", "Level": "等级", "Intimacy": "亲密度", "Last active": "最近活跃", "Source": "来源",
        "GMV": "成交额", "Timeline": "时间线", "Profile": "画像", "Following": "已关注", "Not following": "未关注",
        "Next page": "下一页", "Predicate": "条件", "Preview": "预览", "Matching fans": "符合条件的粉丝", "Name": "名称", "Size": "人数",
        "State": "状态", "New segment": "新建人群", "Save segment": "保存人群", "Transitions, 30 days": "近 30 天分层流转",
        "Total fans": "粉丝总数", "Choose an account to see its fans.": "请选择一个账号查看粉丝。", "Any tier": "全部分层",
        "Groups": "粉丝群", "Interests": "兴趣", "Notes and actions": "备注与操作", "Language": "语言",
        "Tier rules": "分层规则", "Auto-tag rules": "自动标签规则", "Users": "成员", "Platform apps": "平台应用", "Points": "积分",
        "Add tag": "打标签", "Remove tag": "去标签", "Note": "备注", "Add note": "添加备注", "fan": "粉丝", "operator": "运营", "system": "系统",
        "Export CSV": "导出 CSV", "Export SHA-256": "导出 SHA-256", "Portrait": "人群画像", "Gender": "性别", "Age band": "年龄段",
        "First domain": "首次来源", "Tag group": "标签组", "Import open_ids": "导入 open_id", "Import": "导入", "Find lookalikes": "相似人群扩展", "Add user": "添加成员", "Issue me an API key": "为我生成 API 密钥", "Add app": "添加应用",
        "Your new API key, shown once:": "新的 API 密钥（只显示这一次）：", "New fans per day": "每日新增粉丝", "New fans": "新增粉丝", "New tag": "新建标签", "Save": "保存", "female": "女", "male": "男", "Segment saved": "人群已保存",
        "Flat": "每次", "Per amount": "按数额", "Levels": "等级", "Daily cap": "每日上限",
    ]
}

/// A console page: the frame (navigation, scope switcher, language, sign-out) around its content.
struct Page {
    var title: String
    var language: Language
    var csrf: String?
    var nav: String?
    var scope: String = ""
    var body: String

    func response(status: HTTPResponse.Status = .ok) -> Response {
        let t = language
        let menu = nav.map { current in
            [("Overview", "/console"), ("Fans", "/console/fans"), ("Segments", "/console/segments"), ("Tags", "/console/tags"), ("Settings", "/console/settings")].map { label, href in
                "<a href=\"\(href)\(scopeQuery)\"\(label == current ? " aria-current=\"page\"" : "")>\(html(t(label)))</a>"
            }.joined()
        } ?? ""
        let signOut = csrf.map {
            "<form method=\"post\" action=\"/console/logout\"><input type=\"hidden\" name=\"csrf\" value=\"\(html($0))\"><button>\(html(t("Sign out")))</button></form>"
        } ?? ""
        let other = language == .zh ? ("en", "English") : ("zh", "中文")
        let page = """
            <!doctype html><html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>\(html(title)) · Flywheel</title>
            <style>\(Self.style)</style></head><body>
            <header><strong>\(html(t("Flywheel console")))</strong><nav>\(menu)</nav>\(scope)
            <a class="lang" href="?lang=\(other.0)">\(other.1)</a>\(signOut)</header>
            <main><h1>\(html(title))</h1>\(body)</main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    var scopeQuery: String = ""

    static let style = """
        *{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;color:#0f172a;background:#f8fafc}
        header{display:flex;gap:18px;align-items:center;padding:10px 24px;background:#0f172a;color:#fff;flex-wrap:wrap}
        header nav{display:flex;gap:4px}header a{color:#cbd5e1;text-decoration:none;padding:6px 10px;border-radius:6px}
        header a[aria-current]{background:#1e293b;color:#fff}header form{margin:0}header select{padding:4px}
        header button{background:#334155;color:#fff;border:0;padding:6px 12px;border-radius:6px;cursor:pointer}.lang{margin-left:auto}
        main{padding:20px 24px;max-width:1200px}h1{font-size:22px;margin:4px 0 16px}h2{font-size:17px}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-bottom:16px}
        .card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:12px 16px}.card b{display:block;font-size:24px}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
        figure.chart{background:#fff;border:1px solid #e2e8f0;border-radius:10px;margin:0;padding:12px}figcaption{font-weight:600;margin-bottom:6px}
        svg{width:100%;height:auto;max-height:300px}svg .label,svg .tick{font-size:12px;fill:#475569}svg .value{font-size:13px;font-weight:600;fill:#0f172a}svg .axis{stroke:#cbd5e1}
        .legend{display:flex;gap:14px;flex-wrap:wrap;font-size:13px;margin-top:4px}.key i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
        table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e2e8f0;border-radius:10px}
        th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #f1f5f9;font-size:14px}th{background:#f1f5f9;font-weight:600}
        form.inline{display:flex;gap:8px;margin-bottom:14px;flex-wrap:wrap}input,select,textarea{padding:7px 9px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
        button.primary{background:#2563eb;color:#fff;border:0;padding:8px 14px;border-radius:6px}
        .error{color:#b91c1c;background:#fef2f2;border:1px solid #fecaca;padding:8px 12px;border-radius:6px}
        .ok{color:#065f46;background:#ecfdf5;border:1px solid #a7f3d0;padding:8px 12px;border-radius:6px}
        .pill{display:inline-block;padding:1px 8px;border-radius:999px;background:#e0e7ff;margin:0 4px 4px 0;font-size:13px}
        .login{max-width:360px;margin:80px auto;background:#fff;padding:24px;border-radius:12px;border:1px solid #e2e8f0}
        .login label{display:block;margin:10px 0 4px}.login input{width:100%}
        """
}
