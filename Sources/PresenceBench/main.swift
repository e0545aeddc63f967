import CLinux

#if canImport(Glibc)
import Glibc
#endif

// Entry point: parse the options, run the scenario, print the table and write the JSON.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") {
    print(BenchOptions.usage)
    exit(arguments.isEmpty ? 2 : 0)
}

signal(SIGPIPE, SIG_IGN)
_ = clinux_raise_nofile_limit()

do {
    let options = try BenchOptions(arguments: arguments)
    let report = try ScenarioRunner(options: options).run()
    print(report.tableText(), terminator: "")
    if let path = options.jsonPath { try report.writeJSON(to: path) }
} catch {
    writeToStandardError("presence-bench: \(error.description)\n")
    exit(1)
}
