# Hoopoe: the two commands a fresh Debian 12 machine needs are `make run` and `make test`.
# Both install what is missing first (scripts/install-deps.sh).

SWIFT ?= swift
LOCAL_REDIS_DIR := .redis-data
LOCAL_REDIS_PORT ?= 6379

.PHONY: deps build release test run bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# The release binary: static Swift runtime and Foundation, packed relocations, start-up code first in .text
# (scripts/build-release.sh; decision 0035). Debug builds (`build`, `test`) stay dynamic.
release: deps
	SWIFT="$(SWIFT)" scripts/build-release.sh

# Suites that spawn many processes or push thousands of jobs through a real worker (fuzzing, SIGKILLs, the secrets
# grep, Redis ACL servers, conformance, `make run`, Python examples, megabytes of envelopes). They get a phase of their own, run one at a
# time: in the parallel pool they starved the timing-sensitive tests on 2 cores. A new suite of that kind is
# added here (a regex over suite names, matched by `swift test --filter/--skip`). The Redis Cluster suites are here
# too: creating the test cluster blocks a cooperative thread for ~3 s, which stalled the health checks' relative-timing
# tests in the parallel phase. And the health checks' suites themselves: their relative-timing tests (a check with short
# windows ends before one with the default windows) need a pool no other suite is blocking.
HEAVY_SUITES := EnvelopeFuzzTests|JobStoreSentinelErrorTests|HeartbeatOwnConnectionTests|HostileInputProcessTests|SecretsInOutputTests|RedisACLTests|ConformanceTests|MakeRunTests|MakeRunCtrlCTests|WorkerProcessTests|PythonExamplesTests|ProtocolExamplesTests|EnvelopeRulesWorkerTests|ClusterCLITests|SentinelFailoverTests|RedisClientDurableTests|SentinelProcessTests|DeploySentinelTests|ClusterClientTests|ClusterTests|ClusterEngineTests|ClusterFailoverTests|TopologyReportTests|HealthCheckTests|HealthCheckCommandTests|QueuePauseProcessTests|ClusterPauseTests|ClusterCancelTests|PauseWatchTests|LeaseUnderLoadTests|JobPromotionRaceTests|AcknowledgerClusterTests|DashboardLargeJobsTests|JobStoreSearchTests|ClusterSchedulerTests|LeaseRenewalClusterTests|WorkerShutdownClusterTests|AcknowledgerOutageTests|SettleOutageTests|HandBackOutageTests|ReplyArenaLimitsTests|FunctionLibraryClusterTests|HealthCheckClusterTests|WriteRefusalSettleTests|ShutdownHandBackLogTests|ClusterForgetTests|ClusterJobDeadEventTests|RedisClientDurableErrorTests|RedisACLDashboardTests|WriteRefusalClusterTests

# How many tests the first phase runs at once (Swift Testing's SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH; decision
# 0052). Unbounded, all ~470 started together on 2 cores: CPU-bound suites held both cooperative threads and the first
# test finished only after 7-10 s, and in-process workers, CLI workers and provider deadlines missed their windows in
# most runs. At 8 the phase takes about as long and passed every run.
PARALLEL_WIDTH ?= 8

# A private redis-server on a free port for the whole test run; stopped by its own pid afterwards.
test: deps
	@# A warning about the project's own code fails the build (scripts/build-warning-free.sh).
	scripts/build-warning-free.sh $(SWIFT) build --build-tests
	@# Three runs, so heavy work never shares a parallel pool with the engine's and CLI's quick tests:
	@# 1. everything else, in parallel, at most PARALLEL_WIDTH tests at a time; 2. HEAVY_SUITES one at a time;
	@# 3. the domain jobs' end-to-end suites, at most PARALLEL_WIDTH tests at a time too (~316 tests, 17 files of them
	@#    starting real `hoopoe worker` processes: unbounded they all start at once, as the first phase did).
	scripts/test-redis.sh sh -c 'SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(PARALLEL_WIDTH) $(SWIFT) test --skip-build --skip "HoopoeJobsTests|$(HEAVY_SUITES)" && $(SWIFT) test --skip-build --no-parallel --filter "$(HEAVY_SUITES)" && SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(PARALLEL_WIDTH) $(SWIFT) test --skip-build --filter HoopoeJobsTests'
	@# The PHP, Go and Python clients' tests against a real worker (the debug binary built above) and the fake providers.
	scripts/test-redis.sh scripts/test-clients.sh
	@# Black-box, in Python (Tests/blackbox): the official provider SDKs against `hoopoe dev fake-providers --control`,
	@# and seed scenarios driving `hoopoe worker` and `hoopoe scheduler` processes against the same fakes.
	scripts/test-redis.sh scripts/test-blackbox.sh
	@# The dashboard in a real headless chromium (selenium): pages, console errors, retry, CSRF, auth, read-only.
	scripts/test-redis.sh scripts/test-browser.sh

# Builds release, starts a local Redis (AOF on, data in .redis-data/) unless REDIS_URL is set,
# then runs Hoopoe against it.
run: release
	@scripts/run.sh

# Every figure of issue 17 beside its target, with the peers, in one run (~17 min; scripts/bench.sh's header lists
# the sections and their BENCH_* switches, e.g. BENCH_ONLY="engine memory" or BENCH_BIN_DIR for other binaries).
bench: release
	@scripts/test-redis.sh scripts/bench.sh

clean:
	rm -rf .build
