import Foundation

enum JSONCheck {
    /// Whether text is one JSON value (object, array, or scalar).
    static func isJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }
}
