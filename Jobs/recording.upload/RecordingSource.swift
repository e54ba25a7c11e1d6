import HTTPClient
import Queue

/// Where a recording may be downloaded from. The URL arrives in a provider's webhook, so it is
/// outside input: a request to it must not reach the cloud's metadata service or an internal
/// address (server-side request forgery). Only the configured recording hosts are accepted
/// (`REDIAL_RECORDING_HOSTS`, default the telephony provider's host); a host name must resolve
/// to public addresses only, and the address checked is the one connected to. An IP literal in
/// the list is the operator's explicit choice (the local sandbox on 127.0.0.1) and is used as is.
struct RecordingSource: Sendable {
    let allowedHosts: [String]

    /// The address to connect to for `url`; a permanent failure naming what is wrong when the
    /// URL may not be fetched, a retry when its host cannot be resolved right now.
    func address(for url: String) async throws -> String {
        guard let parts = URLParts(url) else { throw PermanentJobError("recording URL '\(url.prefix(100))' is not an http(s) URL") }
        guard allowedHosts.contains(parts.host) else {
            throw PermanentJobError("recording host '\(parts.host)' is not a configured recording host (REDIAL_RECORDING_HOSTS)")
        }
        if OutboundAddress.bytes(parts.host) != nil { return parts.host }
        let addresses = try await OutboundAddress.resolve(parts.host)
        if let inside = addresses.first(where: { !OutboundAddress.isPublic($0) }) {
            throw PermanentJobError("recording host '\(parts.host)' resolves to \(inside), not a public address")
        }
        guard let address = addresses.first else { throw PermanentJobError("recording host '\(parts.host)' resolves to nothing") }
        return address
    }
}
