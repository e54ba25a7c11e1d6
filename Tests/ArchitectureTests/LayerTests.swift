import Foundation
import LocalServices
import Testing

/// The README's layer picture is the rule: a module imports only modules drawn below it.
@Suite struct LayerTests {
    /// Module → depth in the README's picture (deeper = lower layer).
    func layers() throws -> [String: Int] {
        let readme = try String(contentsOf: LocalHost.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let architecture = try #require(readme.components(separatedBy: "## Architecture").dropFirst().first)
        let picture = try #require(architecture.components(separatedBy: "```").dropFirst().first)
        var depth: [String: Int] = [:]
        var indent = 0
        for line in picture.split(separator: "\n") {
            // A line that starts with its location continues the layer above it.
            let trimmed = line.drop { $0 == " " }
            if !trimmed.hasPrefix("Sources/") { indent = line.count - trimmed.count }
            // "  Jobs/ (the catalog)   Jobs/<type>/ …" or "clients   Sources/A, B, C (…)"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let location = fields.first(where: { $0.hasPrefix("Sources/") || $0.hasPrefix("Jobs/") }) else { continue }
            let listed = line[line.range(of: String(location))!.lowerBound...].split(separator: "(").first ?? ""
            var names = listed.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") }
            names = names.map { $0.hasPrefix("Sources/") ? String($0.dropFirst("Sources/".count)) : $0 }
            for name in names where !name.isEmpty {
                depth[name.hasPrefix("Jobs/") ? "Jobs" : name] = indent
            }
        }
        return depth
    }

    /// Module → the modules it imports, read from its sources.
    func imports() throws -> [String: Set<String>] {
        let root = LocalHost.repositoryRoot
        var modules: [String: String] = ["Jobs": "Jobs"]
        for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
        where name != "Bench" && name != "LocalServices" {
            modules[name] = "Sources/" + name
        }
        var result: [String: Set<String>] = [:]
        for (module, folder) in modules {
            let directory = root.appendingPathComponent(folder).path
            let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            var found = Set<String>()
            for file in files {
                let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") {
                    found.insert(String(line.split(separator: " ").last!))
                }
            }
            result[module] = found
        }
        return result
    }

    @Test func everyModuleImportsOnlyModulesBelowIt() throws {
        let depth = try layers()
        let all = try imports()
        #expect(depth.count >= 15, "the picture names every module: \(depth.keys.sorted())")
        var checked = 0
        for (module, imported) in all.sorted(by: { $0.key < $1.key }) {
            guard let level = depth[module] else {
                Issue.record("module \(module) is not in the README's picture")
                continue
            }
            for other in imported.sorted() {
                guard let otherLevel = depth[other] else { continue }  // Foundation, swift-log, …
                checked += 1
                #expect(otherLevel > level, "\(module) imports \(other), which the picture does not draw below it")
            }
        }
        #expect(checked > 40, "imports between our modules were found (\(checked))")
    }

    @Test func nothingAboveTheClientsSeesACLibrary() throws {
        let cModules: Set = ["CHiredis", "CLibpq", "CCurl", "COpenSSL"]
        let allowed: Set = ["RedisClient", "PostgresClient", "HTTPClient", "CryptoPrimitives"]
        let all = try imports()
        for (module, imported) in all where !allowed.contains(module) {
            #expect(imported.isDisjoint(with: cModules), "\(module) imports a C module")
        }
    }
}
