import CryptoPrimitives

/// The PostgreSQL columns that hold personal data sealed (`DataProtection`). A column's name is
/// the associated data of its values, so a value copied into another column does not open.
public enum SealedColumn: String, Sendable, CaseIterable {
    case callbackPhone = "callbacks.phone"
    case callbackName = "callbacks.name"
    case siteManagers = "sites.managers"
    case siteOwnerPhone = "sites.owner_phone"
    case deliveryRecipient = "deliveries.recipient"
}

extension DataProtection {
    public func seal(_ text: String, _ column: SealedColumn) throws -> String { try seal(text, field: column.rawValue) }

    /// A value of `column` opened. A value that is not sealed is a row written before sealing
    /// existed (`redial migrate` seals those right after migration 0017): read as it is.
    public func open(_ value: String, _ column: SealedColumn) throws -> String {
        Self.keyID(of: value) == nil ? value : try open(value, field: column.rawValue)
    }

    /// The last four digits of a number, kept beside its sealed form for the console's search.
    public static func tail(_ phone: String) -> String { String(phone.filter(\.isNumber).suffix(4)) }
}
