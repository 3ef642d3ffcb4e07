import Foundation
import HoopoeCore
import HoopoeScheduler
import HoopoeJSON
import TestSupport
import Testing
import Yams

/// What can be checked of `deploy/` on this machine: YAML parses, systemd units verify, stop timeouts stay
/// above the worker's drain, and the env example documents every variable the code reads.
@Suite struct DeployFilesTests {
    private let root = BuiltProducts.projectRoot
    private func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
    private func files(under folder: String, suffix: String) -> [String] {
        let base = root.appendingPathComponent(folder).path
        let all = (FileManager.default.enumerator(atPath: base)?.allObjects as? [String]) ?? []
        return all.filter { $0.hasSuffix(suffix) }.sorted().map { "\(folder)/\($0)" }
    }

    @Test func everyYAMLFileParses() throws {
        let yamls = files(under: "deploy", suffix: ".yaml") + files(under: "deploy", suffix: ".yml")
        #expect(yamls.count >= 5, "\(yamls)")
        for path in yamls {
            let documents = try Array(Yams.load_all(yaml: try text(path)))
            #expect(!documents.isEmpty && documents.allSatisfy { $0 is [String: Any] }, "\(path): every document is a mapping")
        }
    }

    /// The Kubernetes ConfigMap is generated from `jobs/` by the kustomization at the repository root (decision
    /// 0018): checked as structure here, so it holds on a machine without kustomize.
    @Test func kustomizationGeneratesTheJobsConfigMapFromJobs() throws {
        let kustomization = try #require(try Yams.load(yaml: try text("kustomization.yaml")) as? [String: Any])
        #expect(kustomization["resources"] as? [String] == ["deploy/kubernetes"])
        let generators = try #require(kustomization["configMapGenerator"] as? [[String: Any]])
        let generator = try #require(generators.first { $0["name"] as? String == "hoopoe-jobs" })
        let generated = try #require(generator["files"] as? [String])
        #expect(generated == ["jobs/schedule.yaml", "jobs/sms_templates.yaml"], "the generator reads the project's files")
        let keys = Set(generated.map { URL(fileURLWithPath: $0).lastPathComponent })
        let schedule = try ScheduleFile(yaml: try text("jobs/schedule.yaml"))
        #expect(!schedule.enabledTasks.isEmpty)
        _ = try #require(try Yams.load(yaml: try text("jobs/sms_templates.yaml")) as? [String: Any])

        let workloads = try #require(try Yams.load(yaml: try text("deploy/kubernetes/kustomization.yaml")) as? [String: Any])
        let resources = try #require(workloads["resources"] as? [String])
        #expect(Set(resources) == ["worker-deployment.yaml", "scheduler-deployment.yaml"])
        var mounted = Set<String>()
        for name in resources {
            let deployment = try #require(try Yams.load(yaml: try text("deploy/kubernetes/\(name)")) as? [String: Any])
            let pod = try #require(((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
            let volumes = try #require(pod["volumes"] as? [[String: Any]])
            let maps = volumes.compactMap { ($0["configMap"] as? [String: Any])?["name"] as? String }
            #expect(maps == ["hoopoe-jobs"], "\(name) mounts the generated ConfigMap by its base name")
            for container in (pod["containers"] as? [[String: Any]]) ?? [] {
                for mount in (container["volumeMounts"] as? [[String: Any]]) ?? [] {
                    if let key = mount["subPath"] as? String { mounted.insert(key) }
                }
            }
        }
        #expect(mounted == keys, "each file the generator reads is mounted, and nothing else")
        // No hand-kept copy beside the generator.
        for path in files(under: "deploy", suffix: ".yaml") {
            #expect(!(try text(path)).contains("kind: ConfigMap"), "\(path) holds a ConfigMap: generate it from jobs/ instead")
        }
    }

    /// `kubectl kustomize` (or `kustomize build`) on the repository root, where one is installed (it is not among
    /// the project's dependencies): the ConfigMap carries the files of `jobs/` byte for byte, under a hashed name
    /// both Deployments mount.
    @Test func kustomizeBuildMountsTheProjectFiles() async throws {
        let candidates = [("/usr/bin/kubectl", ["kustomize"]), ("/usr/local/bin/kubectl", ["kustomize"]),
                          ("/usr/bin/kustomize", ["build"]), ("/usr/local/bin/kustomize", ["build"])]
        guard let (tool, command) = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.0) }) else {
            return  // not on this machine: the structural test above still runs
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-kustomize-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: output) }
        let build = try ChildProcess(tool, command + [root.path, "-o", output.path])
        let status = await build.wait(timeout: .seconds(120))
        #expect(status == 0, "\(tool) \(command): \(build.output)")
        let documents = try Array(Yams.load_all(yaml: try String(contentsOf: output, encoding: .utf8))).compactMap { $0 as? [String: Any] }
        let configMap = try #require(documents.first { $0["kind"] as? String == "ConfigMap" })
        let name = try #require((configMap["metadata"] as? [String: Any])?["name"] as? String)
        #expect(name.hasPrefix("hoopoe-jobs-"), "a content hash suffix: \(name)")
        let data = try #require(configMap["data"] as? [String: String])
        #expect(data["schedule.yaml"] == (try text("jobs/schedule.yaml")))
        #expect(data["sms_templates.yaml"] == (try text("jobs/sms_templates.yaml")))
        let deployments = documents.filter { $0["kind"] as? String == "Deployment" }
        #expect(deployments.count == 2)
        for deployment in deployments {
            let pod = ((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            let maps = ((pod?["volumes"] as? [[String: Any]]) ?? []).compactMap { ($0["configMap"] as? [String: Any])?["name"] as? String }
            #expect(maps == [name], "the Deployment mounts the generated ConfigMap")
        }
    }

    /// A stop is the drain (`--shutdown-timeout`) and then up to `unsentAcknowledgementRetry` for acknowledgements
    /// Redis could not take: a kill before that ends runs finished jobs again.
    @Test func stopTimeoutsStayAboveTheWorkersDrain() throws {
        let retry = Double(WorkerOptions().unsentAcknowledgementRetry.components.seconds)
        let unit = try text("deploy/systemd/hoopoe-worker@.service")
        let drain = try #require(Self.number(after: "--shutdown-timeout ", in: unit))
        let stop = try #require(Self.number(after: "TimeoutStopSec=", in: unit))
        #expect(stop > drain + retry)
        let kubernetes = try text("deploy/kubernetes/worker-deployment.yaml")
        #expect(try #require(Self.number(after: "terminationGracePeriodSeconds: ", in: kubernetes)) > drain + retry)
        for file in ["deploy/docker-compose.yml", "deploy/docker-compose.sentinel.yml"] {
            #expect(try #require(Self.number(after: "stop_grace_period: ", in: try text(file))) > drain + retry, "\(file)")
        }
        // What docs/operating.md tells an operator who writes their own (it said 40 s after the files moved to 60).
        let operating = try text("docs/operating.md")
        for setting in ["TimeoutStopSec=", "terminationGracePeriodSeconds: ", "stop_grace_period: "] {
            #expect(try #require(Self.number(after: setting, in: operating)) > drain + retry, "docs/operating.md: \(setting)")
        }
    }

    /// The README's probe example is copied into manifests: it must run in the shipped image, whose binary is
    /// /app/bin/hoopoe and not on PATH (`hoopoe` there failed every probe, and restarted every pod).
    @Test func theReadmesProbeRunsInTheShippedImage() throws {
        let readme = try text("README.md")
        let commands = readme.matches(of: /exec: \{ command: \[([^\]]*)\] \}/).map { String($0.1) }
        #expect(!commands.isEmpty, "the README shows an exec probe")
        let dockerfile = try text("deploy/Dockerfile")
        for command in commands {
            let binary = command.split(separator: ",").first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) } ?? ""
            #expect(binary == "/app/bin/hoopoe" && dockerfile.contains(binary), "README probe: \(command)")
        }
    }

    /// Kubernetes' `runAsNonRoot` checks the image's user by number: a user given by name (`USER hoopoe`) cannot be
    /// verified, and the kubelet refuses to start the container (`CreateContainerConfigError`).
    @Test func kubernetesCanVerifyTheImagesUserIsNotRoot() throws {
        let dockerfile = try text("deploy/Dockerfile")
        let user = try #require(dockerfile.split(separator: "\n").last { $0.hasPrefix("USER ") }).dropFirst("USER ".count)
        let ids = user.split(separator: ":")
        let uid = try #require(Int(ids[0]), "deploy/Dockerfile's USER is not numeric: \(user)")
        let gid = try #require(ids.count == 2 ? Int(ids[1]) : nil, "deploy/Dockerfile's USER names no numeric group: \(user)")
        #expect(uid != 0 && gid != 0)
        #expect(dockerfile.contains("--uid \(uid) ") && dockerfile.contains("--gid \(gid) "), "the image's user and group are created with \(uid):\(gid)")
        for path in files(under: "deploy/kubernetes", suffix: ".yaml") {
            let manifest = try text(path)
            guard manifest.contains("runAsNonRoot: true") else { continue }
            let runAs = Self.number(after: "runAsUser: ", in: manifest)
            #expect(runAs == nil || runAs == Double(uid), "\(path) runs as \(runAs ?? -1), the image's user is \(uid)")
            let group = Self.number(after: "runAsGroup: ", in: manifest)
            #expect(group == nil || group == Double(gid), "\(path) runs in group \(group ?? -1), the image's is \(gid)")
        }
    }

    @Test func systemdUnitsVerify() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return }  // not on this machine: nothing to verify
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var units: [String] = []
        for name in ["hoopoe-worker@.service", "hoopoe-scheduler.service"] {
            // The installed paths do not exist here; point them at the built binary and the env example.
            let unit = try text("deploy/systemd/\(name)")
                .replacingOccurrences(of: "/opt/hoopoe/bin/hoopoe", with: BuiltProducts.hoopoe)
                .replacingOccurrences(of: "/etc/hoopoe/hoopoe.env", with: root.appendingPathComponent("deploy/hoopoe.env.example").path)
            let instance = name.replacingOccurrences(of: "@.", with: "@1.")
            try unit.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
            try unit.write(to: folder.appendingPathComponent(instance), atomically: true, encoding: .utf8)
            units.append(folder.appendingPathComponent(instance).path)
        }
        let verify = try ChildProcess(analyze, ["verify"] + units)
        let status = await verify.wait(timeout: .seconds(60))
        #expect(status == 0 && verify.output.isEmpty, "systemd-analyze verify: \(verify.output)")
    }

    @Test func envExampleDocumentsEveryVariableTheCodeReads() throws {
        let example = try text("deploy/hoopoe.env.example")
        var read = Set<String>()
        for path in files(under: "Sources", suffix: ".swift") {
            let source = try text(path)
            for pattern in [#"Environment\.value\("([A-Z0-9_]+)"\)"#, #"getenv\("([A-Z0-9_]+)"\)"#, #"environment\["([A-Z0-9_]+)"\]"#,
                            // EnvironmentReader (HoopoeJobs): env.string("KEY"), env.integer("KEY", …), env.parsed("KEY", …)
                            #"env\.[a-z]+\("([A-Z0-9_]+)""#,
                            // RedisConfiguration.applyEnvironment: value("REDIS_WAIT_REPLICAS"), ("REDIS_TLS_CA", "ca", …)
                            #"\bvalue\("([A-Z][A-Z0-9_]+)"\)"#, #"\("(REDIS_[A-Z0-9_]+)","#] {
                let regex = try NSRegularExpression(pattern: pattern)
                for match in regex.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                    read.insert(String(source[Range(match.range(at: 1), in: source)!]))
                }
            }
        }
        #expect(read.isSuperset(of: ["REDIS_URL", "LOG_LEVEL", "LOG_FORMAT", "HOOPOE_NAMESPACE", "KAVENEGAR_API_KEY", "HOOPOE_TIME_ZONE", "REDIS_WAIT_REPLICAS", "REDIS_TLS_KEY"]), "the scan finds what the code reads: \(read)")
        // `make run`'s own settings: a variable with a default (`${NAME:-value}`).
        let run = try text("scripts/run.sh")
        let setting = try NSRegularExpression(pattern: #"\$\{([A-Z][A-Z0-9_]+):-[^}]"#)
        let runSettings = setting.matches(in: run, range: NSRange(run.startIndex..., in: run)).map { String(run[Range($0.range(at: 1), in: run)!]) }
        #expect(Set(runSettings).isSuperset(of: ["HOOPOE_BIN", "LOCAL_REDIS_PORT"]), "the scan finds make run's settings: \(runSettings)")
        read.formUnion(runSettings)
        for name in read.sorted() {
            #expect(example.contains("\(name)="), "deploy/hoopoe.env.example does not document \(name)")
        }
    }

    /// Compose's `environment:` beats every `env_file`: a `REDIS_URL` with a password in `hoopoe.env` was dropped, and
    /// the worker connected without it. The Hoopoe services take their settings from env files only, `hoopoe.env` last
    /// (it wins), the shipped ones before it naming only variables Hoopoe reads.
    @Test func composeSettingsLetHoopoeEnvWin() throws {
        let example = try text("deploy/hoopoe.env.example")
        for file in ["deploy/docker-compose.yml", "deploy/docker-compose.sentinel.yml"] {
            let compose = try #require(try Yams.load(yaml: try text(file)) as? [String: Any])
            for service in ["worker", "scheduler"] {
                let settings = try #require((compose["services"] as? [String: Any])?[service] as? [String: Any], "\(file) \(service)")
                #expect(settings["environment"] == nil, "\(file) \(service): `environment:` would beat hoopoe.env")
                let files = try #require(settings["env_file"] as? [Any], "\(file) \(service) has env files").map { entry in
                    (entry as? String) ?? ((entry as? [String: Any])?["path"] as? String) ?? "?"
                }
                #expect(files.last == "hoopoe.env", "\(file) \(service): \(files)")
                let shipped = try composeEnvironment(of: settings)
                #expect(shipped["REDIS_URL"] != nil, "\(file) \(service): \(files)")
                // hoopoe.env.example, copied as hoopoe.env as it says, would override what the compose file ships
                // (a REDIS_URL of 127.0.0.1 in a container): it sets none of it.
                let exampleSets = example.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }.map { String($0.prefix { $0 != "=" }) }
                #expect(Set(exampleSets).isDisjoint(with: shipped.keys), "\(file) \(service): the example overrides \(Set(exampleSets).intersection(shipped.keys))")
                for name in shipped.keys {
                    #expect(example.contains("\(name)="), "\(file) \(service) sets \(name), which deploy/hoopoe.env.example does not document")
                }
            }
        }
    }

    /// Every liveness probe of `deploy/` (Kubernetes `livenessProbe`, Compose `healthcheck` of the Hoopoe services)
    /// is the liveness check, and passes as written beside a live worker while a stray job waits in a queue no worker
    /// serves: the false alarm that would have restarted every healthy worker.
    @Test func livenessProbesRunAsWrittenAndIgnoreUnservedQueues() async throws {
        var probes: [(String, [String])] = []
        for name in ["worker-deployment.yaml", "scheduler-deployment.yaml"] {
            let deployment = try #require(try Yams.load(yaml: try text("deploy/kubernetes/\(name)")) as? [String: Any])
            let pod = ((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            for container in (pod?["containers"] as? [[String: Any]]) ?? [] {
                let exec = (container["livenessProbe"] as? [String: Any])?["exec"] as? [String: Any]
                probes.append((name, try #require(exec?["command"] as? [String], "\(name) has an exec liveness probe")))
            }
        }
        let compose = try #require(try Yams.load(yaml: try text("deploy/docker-compose.yml")) as? [String: Any])
        for service in ["worker", "scheduler"] {
            let check = ((compose["services"] as? [String: Any])?[service] as? [String: Any])?["healthcheck"] as? [String: Any]
            let test = try #require(check?["test"] as? [String], "compose \(service) has a healthcheck")
            probes.append(("compose \(service)", Array(test.dropFirst())))  // "CMD"
        }
        #expect(probes.count == 4)

        let h = try CLIHarness()
        let worker = try await h.startWorker(["--queues", "default"])
        defer { worker.signal(SIGKILL) }
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "unserved"))
        for (file, command) in probes {
            #expect(command.first == "/app/bin/hoopoe" && command.contains("--liveness"), "\(file): \(command)")
            let (status, output) = try await h.run(Array(command.dropFirst()))
            #expect(status == 0, "\(file): \(command.joined(separator: " ")): \(output)")
        }
    }

    private static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }
}
