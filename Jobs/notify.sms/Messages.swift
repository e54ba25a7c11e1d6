import Foundation
import Mustache
import Queue

/// SMS messages: the trigger rules (`triggers.json`) and one template per message and language
/// (`templates/<message>.<language>.mustache`). Validated at start-up: a template that uses a
/// variable its rule does not declare is an error then, not a blank in a customer's SMS.
public struct Messages: Sendable {
    public struct Rule: Sendable {
        public let to: String
        /// Also sent by email (to the site's address), with a subject and HTML templates.
        public let email: Bool
        public let variables: Set<String>
    }

    public static let languages = ["en", "ru"]

    public let rules: [String: Rule]
    let templates: [String: MustacheTemplate]

    /// The shipped rules and templates.
    public static func load() throws(CatalogError) -> Messages {
        try load(triggers: ("Jobs/notify.sms/triggers.json", PackageResources.triggers_json), templates: [
            ("callback_failed.en.mustache", PackageResources.callback_failed_en_mustache),
            ("callback_failed.ru.mustache", PackageResources.callback_failed_ru_mustache),
            ("after_hours.en.mustache", PackageResources.after_hours_en_mustache),
            ("after_hours.ru.mustache", PackageResources.after_hours_ru_mustache),
            ("low_balance.en.mustache", PackageResources.low_balance_en_mustache),
            ("low_balance.ru.mustache", PackageResources.low_balance_ru_mustache),
            ("callback_failed.en.subject.mustache", PackageResources.callback_failed_en_subject_mustache),
            ("callback_failed.ru.subject.mustache", PackageResources.callback_failed_ru_subject_mustache),
            ("callback_failed.en.html.mustache", PackageResources.callback_failed_en_html_mustache),
            ("callback_failed.ru.html.mustache", PackageResources.callback_failed_ru_html_mustache),
            ("low_balance.en.subject.mustache", PackageResources.low_balance_en_subject_mustache),
            ("low_balance.ru.subject.mustache", PackageResources.low_balance_ru_subject_mustache),
            ("low_balance.en.html.mustache", PackageResources.low_balance_en_html_mustache),
            ("low_balance.ru.html.mustache", PackageResources.low_balance_ru_html_mustache),
        ])
    }

    public static func load(triggers: (path: String, contents: [UInt8]),
                            templates files: [(name: String, contents: [UInt8])]) throws(CatalogError) -> Messages {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(triggers.contents))) as? [String: [String: Any]] else {
            throw CatalogError(file: triggers.path, "expected an object of message rules")
        }
        var rules: [String: Rule] = [:]
        for (message, rule) in object {
            guard let to = rule["to"] as? String, ["managers", "owner"].contains(to) else {
                throw CatalogError(file: triggers.path, field: "\(message).to", "expected managers or owner")
            }
            guard let variables = rule["variables"] as? [String] else {
                throw CatalogError(file: triggers.path, field: "\(message).variables", "expected a list of variable names")
            }
            rules[message] = Rule(to: to, email: rule["email"] as? Bool ?? false, variables: Set(variables))
        }
        var templates: [String: MustacheTemplate] = [:]
        for file in files {
            let parts = file.name.split(separator: ".")
            let path = parts.count == 4 ? "Jobs/notify.email/templates/\(file.name)" : "Jobs/notify.sms/templates/\(file.name)"
            guard (parts.count == 3 || (parts.count == 4 && ["subject", "html"].contains(parts[2]))), parts.last == "mustache",
                  let rule = rules[String(parts[0])], languages.contains(String(parts[1])) else {
                throw CatalogError(file: path, "expected <message>.<en|ru>[.subject|.html].mustache for a message declared in triggers.json")
            }
            let text = String(decoding: file.contents, as: UTF8.self)
            for tag in Self.tags(in: text) where !rule.variables.contains(tag) {
                throw CatalogError(file: path, field: tag, "the template uses a variable its rule does not declare (declared: \(rule.variables.sorted().joined(separator: ", ")))")
            }
            do {
                templates[parts.dropLast().joined(separator: ".")] = try MustacheTemplate(string: text)
            } catch {
                throw CatalogError(file: path, "not a valid Mustache template: \(error)")
            }
        }
        for message in rules.keys.sorted() {
            for language in languages where templates["\(message).\(language)"] == nil {
                throw CatalogError(file: "Jobs/notify.sms/templates/\(message).\(language).mustache", "missing: every message needs a template per language")
            }
            for language in languages where rules[message]?.email == true {
                for part in ["subject", "html"] where templates["\(message).\(language).\(part)"] == nil {
                    throw CatalogError(file: "Jobs/notify.email/templates/\(message).\(language).\(part).mustache",
                                       "missing: an emailed message needs a subject and an HTML template per language")
                }
            }
        }
        return Messages(rules: rules, templates: templates)
    }

    /// Names inside `{{…}}` and `{{{…}}}` (sections and comments are not used in SMS templates).
    static func tags(in text: String) -> [String] {
        text.matches(of: /\{\{\{?\s*([^}\s]+)\s*\}?\}\}/).map { String($0.1) }
    }

    /// The text of `message` in `language` (English when the site's language has no template);
    /// `part` "subject" or "html" for an email's.
    public func render(_ message: String, language: String, part: String? = nil, variables: [String: String]) throws -> String {
        let name = [message, language, part].compactMap { $0 }.joined(separator: ".")
        let fallback = [message, "en", part].compactMap { $0 }.joined(separator: ".")
        guard let rule = rules[message], let template = templates[name] ?? templates[fallback] else {
            throw PermanentJobError("no message template '\(name)'")
        }
        let missing = rule.variables.subtracting(variables.keys)
        guard missing.isEmpty else { throw PermanentJobError("SMS \(message) lacks variables: \(missing.sorted().joined(separator: ", "))") }
        return template.render(variables).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
