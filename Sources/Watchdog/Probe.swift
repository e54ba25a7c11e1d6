/// One check of one thing. A probe never throws: whatever went wrong is its failure's detail.
protocol Probe: Sendable {
    func check(timeout: Duration) async -> ProbeResult
}

enum ProbeResult: Sendable, Equatable {
    case success(String)
    case failure(String)

    var succeeded: Bool {
        if case .success = self { true } else { false }
    }

    var detail: String {
        switch self {
        case .success(let text), .failure(let text): text
        }
    }
}
