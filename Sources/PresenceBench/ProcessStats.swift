import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and memory of one process, read from /proc.
struct ProcessSample {
    /// User plus system CPU time of all threads, in seconds. /proc reports it in clock ticks
    /// (usually 10 ms), which bounds the precision of short runs.
    var cpuSeconds: Double
    /// Resident set size (VmRSS), in KiB.
    var residentKiB: Int
    /// Peak resident set size (VmHWM), in KiB.
    var peakResidentKiB: Int
    var threads: Int

    /// Reads `/proc/PID/stat` and `/proc/PID/status`.
    static func read(pid: Int32) throws(BenchError) -> ProcessSample {
        guard let stat = readTextFile("/proc/\(pid)/stat"), let status = readTextFile("/proc/\(pid)/status") else {
            throw BenchError("cannot read /proc/\(pid): no process with id \(pid) is running; check --server-pid")
        }
        // Fields after the command name, which is in parentheses and may itself contain spaces.
        guard let close = stat.lastIndex(of: ")") else { throw BenchError("/proc/\(pid)/stat has no command field") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state, field 3 in proc(5), so utime and stime (fields 14 and 15) are at 11 and 12.
        guard fields.count > 13, let userTicks = Double(fields[11]), let systemTicks = Double(fields[12]) else {
            throw BenchError("/proc/\(pid)/stat has an unexpected layout")
        }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(
            cpuSeconds: (userTicks + systemTicks) / ticksPerSecond,
            residentKiB: statusValue(status, "VmRSS:"),
            peakResidentKiB: statusValue(status, "VmHWM:"),
            threads: statusValue(status, "Threads:"))
    }

    /// This process: CPU from clock_gettime(CLOCK_PROCESS_CPUTIME_ID), memory from /proc/self.
    static func readSelf() -> ProcessSample {
        let status = readTextFile("/proc/self/status") ?? ""
        return ProcessSample(
            cpuSeconds: Double(clinux_process_cpu_us()) / 1_000_000,
            residentKiB: statusValue(status, "VmRSS:"),
            peakResidentKiB: statusValue(status, "VmHWM:"),
            threads: statusValue(status, "Threads:"))
    }

    private static func statusValue(_ status: String, _ key: String) -> Int {
        for line in status.split(separator: "\n") where line.hasPrefix(key) {
            let parts = line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return parts.first.flatMap { Int($0) } ?? 0
        }
        return 0
    }
}

/// CPU and memory of the servers under test (summed when there are several) and of the generator.
struct ProcessWatch {
    let serverPIDs: [Int32]

    /// Samples every server and returns their sum, or nil when no `--server-pid` was given.
    func sampleServers() throws(BenchError) -> ProcessSample? {
        guard !serverPIDs.isEmpty else { return nil }
        var total = ProcessSample(cpuSeconds: 0, residentKiB: 0, peakResidentKiB: 0, threads: 0)
        for pid in serverPIDs {
            let sample = try ProcessSample.read(pid: pid)
            total.cpuSeconds += sample.cpuSeconds
            total.residentKiB += sample.residentKiB
            total.peakResidentKiB += sample.peakResidentKiB
            total.threads += sample.threads
        }
        return total
    }
}

/// The machine a run happened on, recorded with every result.
struct MachineInfo {
    var onlineCPUs: Int
    var cpuModel: String
    var kernel: String
    /// The 1-minute load average when the run started; other work on the machine skews results.
    var loadAverage: Double

    static func current() -> MachineInfo {
        let cpuinfo = readTextFile("/proc/cpuinfo") ?? ""
        var model = "unknown"
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                model = String(line[line.index(after: colon)...].drop(while: { $0 == " " }))
            }
            break
        }
        let kernel = readTextFile("/proc/sys/kernel/osrelease")?.split(separator: "\n").first.map(String.init) ?? "unknown"
        let load = readTextFile("/proc/loadavg")?.split(separator: " ").first.flatMap { Double($0) } ?? 0
        return MachineInfo(onlineCPUs: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), cpuModel: model, kernel: kernel, loadAverage: load)
    }
}

/// Reads a whole small file such as one under /proc, or nil when it cannot be opened.
func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}
