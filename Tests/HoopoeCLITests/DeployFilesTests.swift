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
            for container in (pod?["containers"] as? [[String: Any]]) ?? [] {
                let image = container["image"] as? String ?? ""
                let reference = ImageReference(image)
                #expect(reference.name.contains("/") && reference.tag != nil && reference.tag != "latest", "the built Deployment pulls \(image)")
            }
        }
    }

    /// A stop is the drain (`--shutdown-timeout`) and then up to `unsentAcknowledgementRetry` for acknowledgements
    /// Redis could not take: a kill before that ends runs finished jobs again. Each file's drain is the
    /// `--shutdown-timeout` its worker is started with, or the CLI's default where it passes none (Kubernetes and
    /// Compose do): the test once read the systemd unit's flag alone, and would have missed a longer default.
    @Test func stopTimeoutsStayAboveTheWorkersDrain() throws {
        let retry = Double(WorkerOptions().unsentAcknowledgementRetry.components.seconds)
        let cliDefault = try Self.defaultDrain(in: try text("Sources/hoopoe/WorkerCommand.swift"))

        let unitPath = "deploy/systemd/hoopoe-worker@.service"
        let unit = try text(unitPath)
        let execStart = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }, "\(unitPath) has an ExecStart=")
        let unitDrain = try Self.drain(of: execStart.split(separator: " ").map(String.init), default: cliDefault)
        let stop = try #require(Self.number(after: "TimeoutStopSec=", in: unit))
        #expect(stop > unitDrain + retry, "\(unitPath): TimeoutStopSec=\(stop), drain \(unitDrain) s + retry \(retry) s")

        let kubernetesPath = "deploy/kubernetes/worker-deployment.yaml"
        let deployment = try #require(try Yams.load(yaml: try text(kubernetesPath)) as? [String: Any])
        let pod = try #require(((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let grace = try #require((pod["terminationGracePeriodSeconds"] as? Int).map { Double($0) }, "\(kubernetesPath) sets terminationGracePeriodSeconds")
        let worker = try #require(((pod["containers"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == "worker" }, "\(kubernetesPath) has a worker container")
        let kubernetesDrain = try Self.drain(of: Self.arguments(worker["command"]) + Self.arguments(worker["args"]), default: cliDefault)
        #expect(grace > kubernetesDrain + retry, "\(kubernetesPath): terminationGracePeriodSeconds \(grace), drain \(kubernetesDrain) s + retry \(retry) s")

        for file in ["deploy/docker-compose.yml", "deploy/docker-compose.sentinel.yml"] {
            let compose = try #require(try Yams.load(yaml: try text(file)) as? [String: Any])
            let service = try #require((compose["services"] as? [String: Any])?["worker"] as? [String: Any], "\(file) has a worker service")
            let drain = try Self.drain(of: Self.arguments(service["entrypoint"]) + Self.arguments(service["command"]), default: cliDefault)
            let period = try #require(service["stop_grace_period"].map { "\($0)" }, "\(file): the worker sets stop_grace_period")
            let grace = try #require(Self.composeSeconds(period), "\(file): stop_grace_period \(period) is not a duration")
            #expect(grace > drain + retry, "\(file): stop_grace_period \(period), drain \(drain) s + retry \(retry) s")
        }
        // What docs/operating.md tells an operator who writes their own (it said 40 s after the files moved to 60),
        // for a worker on the default drain.
        let operating = try text("docs/operating.md")
        for setting in ["TimeoutStopSec=", "terminationGracePeriodSeconds: ", "stop_grace_period: "] {
            #expect(try #require(Self.number(after: setting, in: operating)) > cliDefault + retry, "docs/operating.md: \(setting)")
        }
    }

    /// Every container image of deploy/kubernetes/ is pinned once kustomize has run: an `images:` entry (of
    /// deploy/kubernetes/kustomization.yaml, then of the root's, the order kustomize applies them) or the manifest
    /// itself gives it a tag other than `latest` (or a digest), and Hoopoe's own image (`hoopoe`, what
    /// deploy/Dockerfile builds) a registry. `hoopoe:latest` with no override was pulled as
    /// docker.io/library/hoopoe, which does not exist (ImagePullBackOff), and a `latest` pushed again changes the
    /// binary under any pod that restarts.
    @Test func kubernetesImagesArePinnedToARegistryAndATag() throws {
        var layers: [[[String: Any]]] = []
        for path in ["deploy/kubernetes/kustomization.yaml", "kustomization.yaml"] {
            let kustomization = try #require(try Yams.load(yaml: try text(path)) as? [String: Any], "\(path)")
            layers.append((kustomization["images"] as? [[String: Any]]) ?? [])
        }
        var checked = 0
        for path in files(under: "deploy/kubernetes", suffix: ".yaml") where !path.hasSuffix("/kustomization.yaml") {
            for document in try Array(Yams.load_all(yaml: try text(path))) {
                for image in Self.containerImages(in: document) {
                    checked += 1
                    let written = ImageReference(image)
                    let deployed = layers.reduce(written) { $0.applying($1) }
                    #expect(deployed.digest != nil || (deployed.tag != nil && deployed.tag != "latest"),
                            "\(path): \(image) deploys as \(deployed): pin a version (an images: entry's newTag, or the manifest's tag)")
                    if written.name == "hoopoe" {
                        #expect(deployed.name.contains("/"),
                                "\(path): \(image) is pulled as \(deployed.name), from Docker Hub, which has no Hoopoe image: give it a registry (newName)")
                    }
                }
            }
        }
        #expect(checked >= 2, "the manifests' containers were found")
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
        // Debian's systemd package has it; a machine without it fails here rather than passing without verifying.
        try #require(FileManager.default.isExecutableFile(atPath: analyze),
                     "\(analyze) is missing: install Debian's systemd package (apt-get install systemd) to verify deploy/systemd/")
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
                            // ProviderSettings.secret("KAVENEGAR_API_KEY", in: env): the keys, trimmed and checked
                            #"\bsecret\("([A-Z0-9_]+)""#,
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

    /// The examples a deployment copies its environment from offer, beside each variable, the ones the code requires
    /// with it (`ConfigurationError(key: "X", message: "required with Y…")`), and every variable whose absence the worker
    /// warns about at start (``DomainJobs/startupWarnings(_:)``: "X is not set: …", jobs that wait for it). The
    /// Kubernetes Secret offered `IPPANEL_API_KEY` without `IPPANEL_FROM_NUMBER`: filling in the key alone stopped
    /// every worker (exit 78, a CrashLoopBackOff); and it lacked `RECEIPT_BASE_URL`, which the reminders wait for.
    @Test func environmentExamplesOfferWhatTheCodeRequiresTogether() throws {
        var requiredWith: [(needed: String, with: String)] = []
        var warnedWhenUnset = Set<String>()
        let together = try NSRegularExpression(pattern: #"ConfigurationError\(\s*key: "([A-Z][A-Z0-9_]+)",\s*message: "required with ([A-Z][A-Z0-9_]+)"#)
        let warning = try NSRegularExpression(pattern: #"warnings\.append\(\s*"([A-Z][A-Z0-9_]+) is not set: "#)
        for path in files(under: "Sources", suffix: ".swift") {
            let source = try text(path)
            let range = NSRange(source.startIndex..., in: source)
            for match in together.matches(in: source, range: range) {
                requiredWith.append((String(source[Range(match.range(at: 1), in: source)!]), String(source[Range(match.range(at: 2), in: source)!])))
            }
            for match in warning.matches(in: source, range: range) { warnedWhenUnset.insert(String(source[Range(match.range(at: 1), in: source)!])) }
        }
        #expect(requiredWith.contains { $0 == ("IPPANEL_FROM_NUMBER", "IPPANEL_API_KEY") }, "the scan finds what is required together: \(requiredWith)")
        #expect(warnedWhenUnset.isSuperset(of: ["RECEIPT_BASE_URL", "BREVO_API_KEY"]), "the scan finds the start-up warnings: \(warnedWhenUnset)")

        // Each Kubernetes Secret or ConfigMap of deploy/ with variables (stringData/data), and the env files.
        var offers: [(file: String, names: Set<String>, wholeEnvironment: Bool)] = []
        for path in files(under: "deploy", suffix: ".yaml") + files(under: "deploy", suffix: ".yml") {
            for case let document as [String: Any] in try Yams.load_all(yaml: try text(path)) {
                guard ["Secret", "ConfigMap"].contains(document["kind"] as? String ?? "") else { continue }
                let entries = (document["stringData"] as? [String: Any] ?? [:]).merging(document["data"] as? [String: Any] ?? [:]) { a, _ in a }
                let names = Set(entries.keys.filter { $0.range(of: #"^[A-Z][A-Z0-9_]*$"#, options: .regularExpression) != nil })
                if !names.isEmpty { offers.append((path, names, true)) }
            }
        }
        #expect(offers.contains { $0.file == "deploy/kubernetes/secret.example.yaml" }, "\(offers.map(\.file))")
        let assignment = try NSRegularExpression(pattern: #"^#?\s*([A-Z][A-Z0-9_]*)="#, options: .anchorsMatchLines)
        for path in ["deploy/hoopoe.env.example"] + files(under: "deploy", suffix: ".env") {
            let example = try text(path)
            let names = assignment.matches(in: example, range: NSRange(example.startIndex..., in: example)).map { String(example[Range($0.range(at: 1), in: example)!]) }
            // hoopoe.env.example is the whole environment; compose's .env files add to it (the env_file list).
            offers.append((path, Set(names), path == "deploy/hoopoe.env.example"))
        }
        for offer in offers {
            for pair in requiredWith where offer.names.contains(pair.with) {
                #expect(offer.names.contains(pair.needed), "\(offer.file) offers \(pair.with) but not \(pair.needed), which the worker requires with it")
            }
            for name in warnedWhenUnset.sorted() where offer.wholeEnvironment {
                #expect(offer.names.contains(name), "\(offer.file) does not offer \(name): the worker warns at start without it")
            }
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

    /// `WorkerCommand`'s default `--shutdown-timeout`, read from its source: this test target does not depend on the
    /// `hoopoe` executable target, so it cannot construct `WorkerCommand()`.
    private static func defaultDrain(in source: String) throws -> Double {
        let declaration = /var\s+shutdownTimeout\s*:\s*Double\s*=\s*([0-9]+(?:\.[0-9]+)?)[ \t]*(?:\/\/[^\n]*)?\n/
        let match = try #require(source.firstMatch(of: declaration),
                                 "Sources/hoopoe/WorkerCommand.swift: no `var shutdownTimeout: Double = <seconds>` to read the default drain from")
        return try #require(Double(match.output.1))
    }

    /// The drain of a worker started with `arguments`: its (last) `--shutdown-timeout`, else the CLI's default.
    private static func drain(of arguments: [String], default cliDefault: Double) throws -> Double {
        var drain = cliDefault
        for (index, argument) in arguments.enumerated() {
            let value: String
            if argument == "--shutdown-timeout" {
                value = arguments.indices.contains(index + 1) ? arguments[index + 1] : ""
            } else if argument.hasPrefix("--shutdown-timeout=") {
                value = String(argument.dropFirst("--shutdown-timeout=".count))
            } else {
                continue
            }
            drain = try #require(Double(value), "--shutdown-timeout \(value) in \(arguments): not a number of seconds")
        }
        return drain
    }

    /// A container's or service's `command`/`args`/`entrypoint`: a list, or (Compose) one string split on spaces.
    private static func arguments(_ value: Any?) -> [String] {
        if let list = value as? [Any] { return list.map { "\($0)" } }
        if let line = value as? String { return line.split(whereSeparator: \.isWhitespace).map(String.init) }
        return []
    }

    /// A Compose duration (`60s`, `1m30s`, `500ms`) in seconds; nil when it is not one.
    private static func composeSeconds(_ text: String) -> Double? {
        let units: [Substring: Double] = ["us": 0.000_001, "ms": 0.001, "s": 1, "m": 60, "h": 3600]
        var seconds = 0.0
        var consumed = 0
        for match in text.matches(of: /([0-9]+(?:\.[0-9]+)?)(us|ms|h|m|s)/) {
            guard let amount = Double(match.output.1), let unit = units[match.output.2] else { return nil }
            seconds += amount * unit
            consumed += match.output.0.count
        }
        return consumed > 0 && consumed == text.count ? seconds : nil
    }

    /// The `image` of every container, init container and ephemeral container in a manifest, wherever its pod
    /// template sits (a Deployment, a CronJob, a bare Pod).
    private static func containerImages(in node: Any) -> [String] {
        if let mapping = node as? [String: Any] {
            var images: [String] = []
            for (key, value) in mapping {
                if ["containers", "initContainers", "ephemeralContainers"].contains(key), let containers = value as? [[String: Any]] {
                    images += containers.map { $0["image"] as? String ?? "" }
                } else {
                    images += containerImages(in: value)
                }
            }
            return images
        }
        if let list = node as? [Any] { return list.flatMap { containerImages(in: $0) } }
        return []
    }

    /// An image reference as kustomize's `images:` reads it: `name[:tag][@digest]`, where a registry's port is no tag.
    private struct ImageReference: CustomStringConvertible {
        var name: String
        var tag: String?
        var digest: String?

        init(_ image: String) {
            var rest = Substring(image)
            if let at = rest.firstIndex(of: "@") {
                digest = String(rest[rest.index(after: at)...])
                rest = rest[..<at]
            }
            if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
                tag = String(rest[rest.index(after: colon)...])
                rest = rest[..<colon]
            }
            name = String(rest)
        }

        /// What a kustomization's `images:` entries make of it: the entry named as this image replaces its name, tag
        /// or digest.
        func applying(_ entries: [[String: Any]]) -> ImageReference {
            guard let entry = entries.first(where: { $0["name"] as? String == name }) else { return self }
            var result = self
            if let newName = entry["newName"] { result.name = "\(newName)" }
            if let newTag = entry["newTag"] { result.tag = "\(newTag)" }
            if let digest = entry["digest"] { result.digest = "\(digest)" }
            return result
        }

        var description: String { name + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "") }
    }

    private static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }
}
