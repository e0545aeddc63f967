import Foundation
import Observability

#if canImport(Glibc)
import Glibc
#endif

// Entry point: parse the command line, then run, check or print.
let arguments = Array(CommandLine.arguments.dropFirst())
let command: LaunchCommand
do {
    command = try LaunchCommand(arguments: arguments)
} catch {
    FileHandle.standardError.write(Data(error.description.utf8))
    exit(error.exitCode)
}

switch command {
case .help:
    print(LaunchCommand.usage, terminator: "")
    exit(0)
case .version:
    print(LaunchCommand.versionText)
    exit(0)
case .check(let path):
    exit(ConfigCheck.run(configPath: path))
case .run(let config, let path):
    LogSink.shared.configure(level: config.log.level, format: config.log.format)
    let logger = Logger(label: "gateway")
    logger.info("configuration loaded", metadata: ["config.path": path])
    let app = GatewayApp(config: config, configPath: path, logger: logger)
    exit(app.run())
}
