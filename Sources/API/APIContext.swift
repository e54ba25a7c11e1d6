import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Request context that keeps the TCP peer's address, for client-keyed limits.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peer: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are read by the handler with their own 16 KiB cap; this only bounds the rest.
    var maxUploadSize: Int { 64 * 1024 }
}
