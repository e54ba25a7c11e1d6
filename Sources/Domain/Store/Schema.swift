import PostgresClient

/// The PostgreSQL schema of the system of record, as the ordered list of shipped migrations.
public enum Schema {
    public static func migrations() throws(PostgresError) -> [Migration] {
        try Migration.parse(files: [
            ("0001_effects.sql", String(decoding: PackageResources._001_effects_sql, as: UTF8.self)),
            ("0002_callbacks.sql", String(decoding: PackageResources._002_callbacks_sql, as: UTF8.self)),
            ("0003_dialing.sql", String(decoding: PackageResources._003_dialing_sql, as: UTF8.self)),
            ("0004_notifications.sql", String(decoding: PackageResources._004_notifications_sql, as: UTF8.self)),
            ("0005_fault_review.sql", String(decoding: PackageResources._005_fault_review_sql, as: UTF8.self)),
            ("0006_site_origins.sql", String(decoding: PackageResources._006_site_origins_sql, as: UTF8.self)),
            ("0007_pages.sql", String(decoding: PackageResources._007_pages_sql, as: UTF8.self)),
            ("0008_watchdog_probes.sql", String(decoding: PackageResources._008_watchdog_probes_sql, as: UTF8.self)),
            ("0009_outbox_callback.sql", String(decoding: PackageResources._009_outbox_callback_sql, as: UTF8.self)),
            ("0010_release_channels.sql", String(decoding: PackageResources._010_release_channels_sql, as: UTF8.self)),
            ("0011_releases.sql", String(decoding: PackageResources._011_releases_sql, as: UTF8.self)),
            ("0012_release_binary.sql", String(decoding: PackageResources._012_release_binary_sql, as: UTF8.self)),
            ("0013_release_measures.sql", String(decoding: PackageResources._013_release_measures_sql, as: UTF8.self)),
            ("0014_attempt_sip_code.sql", String(decoding: PackageResources._014_attempt_sip_code_sql, as: UTF8.self)),
            ("0015_site_key_rotation.sql", String(decoding: PackageResources._015_site_key_rotation_sql, as: UTF8.self)),
            ("0016_data_retention.sql", String(decoding: PackageResources._016_data_retention_sql, as: UTF8.self)),
            ("0017_sealed_personal_data.sql", String(decoding: PackageResources._017_sealed_personal_data_sql, as: UTF8.self)),
            ("0018_outbox_notify.sql", String(decoding: PackageResources._018_outbox_notify_sql, as: UTF8.self)),
            ("0019_sites_notify.sql", String(decoding: PackageResources._019_sites_notify_sql, as: UTF8.self)),
            ("0020_widget_settings.sql", String(decoding: PackageResources._020_widget_settings_sql, as: UTF8.self)),
            ("0021_balance_ledger.sql", String(decoding: PackageResources._021_balance_ledger_sql, as: UTF8.self)),
            ("0022_owner_links.sql", String(decoding: PackageResources._022_owner_links_sql, as: UTF8.self)),
            ("0023_announcements.sql", String(decoding: PackageResources._023_announcements_sql, as: UTF8.self)),
            ("0024_site_notifications.sql", String(decoding: PackageResources._024_site_notifications_sql, as: UTF8.self)),
        ])
    }

    /// The migration after which personal data is sealed; rows from before it are sealed by
    /// `DataResealing` right after it is applied.
    public static let sealedPersonalData = 17
}
