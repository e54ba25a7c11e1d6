/// Where call recordings are kept: a bucket of objects by key. `S3ObjectStorage` speaks the S3
/// API (AWS, MinIO, Ceph, moto); another store is one more adapter.
public protocol ObjectStorage: Sendable {
    /// The bucket (container) the objects go to, as recordings record it.
    var bucket: String { get }
    /// Creates the bucket when it does not exist yet.
    func ensureBucket() async throws
    /// Uploads a file under `key` and checks what the store kept against what was sent.
    func put(file path: String, key: String, contentType: String) async throws -> StoredObject
    /// Size and ETag of an object, nil when there is none.
    func head(_ key: String) async throws -> (size: Int, etag: String)?
    func get(_ key: String, maxBytes: Int) async throws -> [UInt8]
    /// Deletes an object; deleting one that is gone succeeds.
    func delete(_ key: String) async throws
}

/// What the store holds after an upload.
public struct StoredObject: Sendable, Equatable {
    public let key: String
    public let size: Int
    public let etag: String
    public let parts: Int
    /// SHA-256 (hex) of the bytes uploaded, hashed as they were read for the upload.
    public let sha256: String
}

/// The object store failed or answered what was not asked; worth retrying.
public struct ObjectStorageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
