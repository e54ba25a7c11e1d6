import Foundation
import FuzzTargets

#if LIBFUZZER
/// The target this libFuzzer binary drives: `REDIAL_FUZZ_TARGET` (one of `FuzzTargets.all`).
let target: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["REDIAL_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        fatalError("REDIAL_FUZZ_TARGET: expected one of \(FuzzTargets.all.keys.sorted().joined(separator: ", ")), got '\(name)'")
    }
    return target
}()

/// One input, as libFuzzer hands it over.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// libFuzzer's driver (compiler-rt), which its own `main` would call.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM makes an executable's `main` this module's entry symbol, so libFuzzer's `main` is not
/// the one that runs: this one hands the command line to libFuzzer's driver instead.
@_cdecl("redial_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, fuzzOne)
}
#else
/// `redial-fuzz replay NAME PATH…`: every file (or every file in a directory) through one
/// target, without a sanitizer build. A crash ends the process; the last path on stderr is
/// the input that did it.
@main
struct RedialFuzz {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count >= 3, arguments[0] == "replay", let target = FuzzTargets.all[arguments[1]] else {
            FileHandle.standardError.write(Data("usage: redial-fuzz replay {\(FuzzTargets.all.keys.sorted().joined(separator: "|"))} PATH…\n".utf8))
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst(2) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("redial-fuzz: no such file or directory: \(path)\n".utf8))
                exit(66)
            }
            let files = isDirectory.boolValue ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                FileHandle.standardError.write(Data("\(file)\n".utf8))
                target(Array(data))
                count += 1
            }
        }
        print("redial-fuzz: \(count) inputs replayed, none crashed")
    }
}
#endif
