/// Action requested on the command line, with the configuration already loaded for a run.
///
/// `main.swift` builds it with `LaunchCommand(arguments:)`, prints a thrown `LaunchError` to stderr and
/// exits with its `exitCode`.
enum LaunchCommand: Equatable {
    /// Start the gateway with this configuration, read from `configPath`.
    case run(GatewayConfig, configPath: String)
    /// Validate the configuration at `configPath` and the plugins, then exit 0 or 1.
    case check(configPath: String)
    /// Print `LaunchCommand.usage` to stdout and exit 0.
    case help
    /// Print `LaunchCommand.versionText` to stdout and exit 0.
    case version

    static let versionNumber = "0.1.0"
    static let versionText = "presence-gateway \(versionNumber)"
    static let defaultConfigPath = "config.toml"

    static let usage = """
        Usage: presence-gateway [--config PATH]
               presence-gateway --check [--config PATH]
               presence-gateway --help | --version

        Runs the presence gateway, a WebSocket server that tells everyone in a shared
        document who else is there, where their cursors are and who is typing.

        Options:
          -c, --config PATH  TOML configuration file (default: config.toml in the
                             working directory). Every key is described in
                             docs/configuration.md.
              --check        Validate the configuration and load every plugin, then
                             exit without starting the gateway.
          -h, --help         Print this help and exit.
              --version      Print the version and exit.

        Exit status: 0 on success, 1 when the configuration or a plugin is invalid,
        2 when the command line is invalid.

        """

    /// Parses `arguments` (without the program name) and, for a run, loads the configuration.
    init(arguments: [String]) throws(LaunchError) {
        let options = try LaunchOptions(arguments: arguments)
        if options.help {
            self = .help
        } else if options.version {
            self = .version
        } else if options.check {
            self = .check(configPath: options.configPath)
        } else {
            do {
                self = .run(try GatewayConfig.load(path: options.configPath), configPath: options.configPath)
            } catch {
                throw .invalidConfig(error)
            }
        }
    }
}

/// The flags found on the command line, before any file is read.
struct LaunchOptions: Equatable {
    var configPath = LaunchCommand.defaultConfigPath
    var check = false
    var help = false
    var version = false

    init(arguments: [String]) throws(LaunchError) {
        var configGiven = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help":
                help = true
            case "--version":
                version = true
            case "--check":
                check = true
            case "-c", "--config":
                guard index < arguments.count, !arguments[index].hasPrefix("-") else {
                    let found = index < arguments.count ? "\"\(arguments[index])\"" : "nothing"
                    throw .usage("\(argument) needs a file path after it, but found \(found)")
                }
                try setConfigPath(arguments[index], option: argument, alreadyGiven: &configGiven)
                index += 1
            default:
                if argument.hasPrefix("--config=") {
                    let path = String(argument.dropFirst("--config=".count))
                    try setConfigPath(path, option: "--config", alreadyGiven: &configGiven)
                } else if argument.hasPrefix("-") {
                    throw .usage("unknown option \"\(argument)\"")
                } else {
                    throw .usage("unexpected argument \"\(argument)\"; the configuration file goes after --config")
                }
            }
        }
    }

    private mutating func setConfigPath(_ path: String, option: String, alreadyGiven: inout Bool) throws(LaunchError) {
        guard !alreadyGiven else {
            throw .usage("\(option) is given more than once; pass one configuration file")
        }
        guard !path.isEmpty else {
            throw .usage("\(option) needs a file path, but the path is empty")
        }
        configPath = path
        alreadyGiven = true
    }
}

/// Reason the process cannot start, with the exit status to use.
enum LaunchError: Error, Equatable, CustomStringConvertible {
    /// The command line is invalid. `message` names the argument and the problem.
    case usage(String)
    /// The configuration file is missing or invalid.
    case invalidConfig(ConfigError)

    /// 2 for an invalid command line, as getopt-based tools use; 1 for an invalid configuration.
    var exitCode: Int32 {
        switch self {
        case .usage: 2
        case .invalidConfig: 1
        }
    }

    /// The text to print to stderr: the reason, and the usage for command line errors.
    var description: String {
        switch self {
        case .usage(let message):
            "presence-gateway: \(message).\n\n\(LaunchCommand.usage)"
        case .invalidConfig(let error):
            "presence-gateway: \(error.description)\n"
        }
    }
}
