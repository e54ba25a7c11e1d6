import Domain
import Jobs
import Testing

@Suite struct MessagesTests {
    let triggers = ("Jobs/notify.sms/triggers.json", Array(#"{"callback_failed": {"to": "managers", "variables": ["site", "visitor"]}}"#.utf8))

    func load(_ en: String, _ ru: String) throws -> Messages {
        try Messages.load(triggers: triggers, templates: [
            ("callback_failed.en.mustache", Array(en.utf8)), ("callback_failed.ru.mustache", Array(ru.utf8)),
        ])
    }

    @Test func theShippedMessagesLoadAndRenderInTheSitesLanguage() throws {
        let messages = try Messages.load()
        let english = try messages.render("callback_failed", language: "en", variables: ["site": "Shop", "visitor": "+79161234567", "reason": "busy"])
        #expect(english == "Shop: we could not reach +79161234567 (busy). Please call them back yourself.")
        let russian = try messages.render("callback_failed", language: "ru", variables: ["site": "Магазин", "visitor": "+79161234567", "reason": "busy"])
        #expect(russian.hasPrefix("Магазин: не удалось дозвониться до +79161234567"))
    }

    @Test func aTemplateUsingAnUndeclaredVariableStopsStartUp() {
        #expect {
            try load("{{site}} {{visitor}} {{balance}}", "{{site}}")
        } throws: { error in
            "\(error)" == "Jobs/notify.sms/templates/callback_failed.en.mustache: field 'balance': the template uses a variable its rule does not declare (declared: site, visitor)"
        }
    }

    @Test func everyMessageNeedsATemplatePerLanguage() {
        #expect {
            try Messages.load(triggers: triggers, templates: [("callback_failed.en.mustache", Array("{{site}}".utf8))])
        } throws: { "\($0)".contains("callback_failed.ru.mustache: missing") }
    }

    @Test func renderingWithoutADeclaredVariableIsRefusedNotBlank() throws {
        let messages = try load("{{site}} {{visitor}}", "{{site}} {{visitor}}")
        #expect(throws: (any Error).self) { try messages.render("callback_failed", language: "en", variables: ["site": "Shop"]) }
    }

    /// The events an owner can turn off in the cabinet are the shipped triggers, with the same
    /// e-mail flag: a trigger added to the file must be added there too.
    @Test func theOwnersNotificationEventsAreTheShippedTriggers() throws {
        let rules = try Messages.load().rules
        #expect(Set(NotificationSettings.events.map(\.name)) == Set(rules.keys))
        for event in NotificationSettings.events {
            #expect(rules[event.name]?.email == event.byEmail, "\(event.name)")
        }
    }
}
