"""`hoopoe dashboard` in a real browser: Debian's chromium, driven by selenium through chromium-driver.

Real parts only: the private redis-server of scripts/test-redis.sh (REDIS_URL), a real `hoopoe worker` and real
`hoopoe dashboard` processes (HOOPOE_BIN, default .build/debug/hoopoe), each test's data in a namespace of its own.
Jobs go in through `hoopoe enqueue` and the Python client (jobs/examples); a dead job that a retry can make run is
written as the worker writes one (jobs/PROTOCOL.md, "Dead jobs"), since no real failure of a job is transient on
demand.

Screenshots of the overview and dead pages go to .build/screenshots/. With UPDATE_DOCS_SCREENSHOT=1 the overview is
also written to docs/images/dashboard-overview.png (the README's picture).

    scripts/test-redis.sh scripts/test-browser.sh
"""
import base64
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import redis
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOOPOE = os.environ.get("HOOPOE_BIN", str(ROOT / ".build" / "debug" / "hoopoe"))
SCREENSHOTS = ROOT / ".build" / "screenshots"
PASSWORD_SAMPLE = ROOT / "jobs" / "samples" / "sendinblue.register.json"

sys.path.insert(0, str(ROOT / "jobs" / "examples"))
from hoopoe_enqueue import Enqueuer  # noqa: E402


def wait_for(predicate, timeout=20.0, what="condition"):
    """Polls `predicate` until it is true. A page that reloads itself (a bulk run's progress, each second) can replace
    an element between finding it and reading it, or be between two loads: that is "not yet", not a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def headless_chromium():
    """Debian's chromium, headless, through chromium-driver, keeping the browser console for the checks."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return driver


class Processes:
    """The hoopoe processes of the run, each stopped by its own pid at the end."""

    def __init__(self, environment):
        self.environment = environment
        self.running = []

    def start(self, arguments, extra=None):
        log = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen(
            [HOOPOE, *arguments], env={**self.environment, **(extra or {})}, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        self.running.append((process, log))
        return process

    def dashboard(self, *flags, extra=None):
        """Starts `hoopoe dashboard --port 0` and returns its URL, read from its first line."""
        process = self.start(["dashboard", "--port", "0", *flags], extra)
        line = process.stdout.readline().strip()
        if not line.startswith("dashboard: http://"):
            raise AssertionError(f"hoopoe dashboard did not start: {line!r}\n{self.log_of(process)}")
        return line.split(" ", 1)[1].rstrip("/")

    def log_of(self, process):
        for candidate, log in self.running:
            if candidate is process:
                log.seek(0)
                return log.read()
        return ""

    def stop(self):
        for process, _ in self.running:
            if process.poll() is None:
                process.terminate()
        for process, log in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def http(method, url, form=None, password=None, host=None):
    """(status, body) of one request, outside the browser: for what a page cannot do (a forged POST, another Host)."""
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if host is not None:
        request.add_header("Host", host)
    if password is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"ops:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class DashboardInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
        cls.namespace = "br" + secrets.token_hex(4)
        cls.enqueuer = Enqueuer(cls.redis, cls.namespace)
        schedule = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        schedule.write(
            "tasks:\n"
            "  - name: browser.canary\n"
            "    cron: \"0 3 * * *\"\n"
            "    time_zone: Asia/Tehran\n"
            "    type: diag.incr\n"
            f"    payload: {{key: \"{cls.namespace}:periodic\"}}\n")
        schedule.close()
        cls.schedule = schedule.name
        environment = {**os.environ, "HOOPOE_NAMESPACE": cls.namespace, "LOG_LEVEL": "warning"}
        environment.pop("HOOPOE_DASHBOARD_PASSWORD", None)
        cls.processes = Processes(environment)
        cls.worker = cls.processes.start(["worker", "--queues", "critical,default", "--concurrency", "2"])
        cls.url = cls.processes.dashboard("--schedule", cls.schedule)
        # Some history for the overview: jobs the worker processes, and one it buries for a bad payload.
        for index in range(12):
            cls.enqueuer.enqueue("diag.incr", {"key": f"{cls.namespace}:warmup"})
        cls.bad_id = cls.enqueuer.enqueue("diag.record", {"member": "no key"})[1]
        try:
            wait_for(lambda: int(cls.redis.get(f"{cls.namespace}:warmup") or 0) == 12, what="the worker to run the warm-up jobs")
        except AssertionError:
            log = cls.processes.log_of(cls.worker)
            cls.processes.stop()
            raise AssertionError(f"the worker ran no job (value {cls.redis.get(cls.namespace + ':warmup')}); its log:\n{log}")
        wait_for(lambda: cls.redis.zscore(f"{cls.namespace}:{{default}}:dead", cls.bad_id) is not None,
                 what="the worker to bury the malformed job")

        cls.driver = headless_chromium()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.processes.stop()
            os.unlink(cls.schedule)

    # Helpers ------------------------------------------------------------------------------------------------------

    def open(self, path, base=None):
        """Loads a page and returns the browser's console entries of level SEVERE (errors) it logged."""
        self.driver.get_log("browser")  # drop what earlier pages logged
        self.driver.get((base or self.url) + path)
        wait_for(lambda: self.driver.execute_script("return document.readyState") == "complete", what=f"{path} to load")
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def bury(self, job_type, payload, reason="worker lost (test)", queue="default"):
        """A dead job as the worker writes one: the envelope with dead_reason in <ns>:{q}:dead:jobs, the id in <ns>:{q}:dead."""
        job_id = "dead-" + secrets.token_hex(6)
        now = time.time()
        envelope = {"id": job_id, "type": job_type, "queue": queue, "payload": payload, "attempt": 3, "max_attempts": 3,
                    "enqueued_at": now - 120, "dead_reason": reason, "died_at": now}
        self.redis.hset(f"{self.namespace}:{{{queue}}}:dead:jobs", job_id, json.dumps(envelope))
        self.redis.zadd(f"{self.namespace}:{{{queue}}}:dead", {job_id: now})
        return job_id

    def dead_ids(self, queue="default"):
        return {member.decode() for member in self.redis.zrange(f"{self.namespace}:{{{queue}}}:dead", 0, -1)}

    # Tests --------------------------------------------------------------------------------------------------------

    def test_every_page_loads_without_console_errors(self):
        self.assertEqual(self.open("/"), [])
        links = {urllib.parse.urlparse(a.get_attribute("href")).path for a in self.driver.find_elements(By.CSS_SELECTOR, "nav a")}
        # Every page of issue 14 is linked (others, added later, are loaded below too).
        self.assertLessEqual({"/", "/queues", "/busy", "/scheduled", "/dead", "/periodic"}, links)
        scheduled = self.enqueuer.enqueue("diag.incr", {"key": f"{self.namespace}:later"}, run_at=time.time() + 3600)[1]
        for path in sorted(links) + [f"/job?id={self.bad_id}", f"/job?id={scheduled}", "/job?id=no-such-job", "/dead?queue=default&type=diag.record"]:
            with self.subTest(path=path):
                self.assertEqual(self.open(path), [], path)
                self.assertIn("hoopoe", self.driver.title)
                self.assertTrue(self.driver.find_element(By.TAG_NAME, "h1").text)
        # The worker's real burial shows with its reason.
        self.open("/dead?queue=default")
        self.assertIn(self.bad_id, self.driver.page_source)
        self.open("/")
        self.driver.save_screenshot(str(SCREENSHOTS / "dashboard-overview.png"))
        if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
            self.driver.save_screenshot(str(ROOT / "docs" / "images" / "dashboard-overview.png"))
        self.open("/dead?queue=default")
        self.driver.save_screenshot(str(SCREENSHOTS / "dashboard-dead.png"))

    def test_retry_on_the_dead_page_makes_the_worker_run_it(self):
        key = f"{self.namespace}:retried"
        job_id = self.bury("diag.record", {"key": key, "member": "ran"})
        self.assertEqual(self.open("/dead?queue=default"), [])
        row = self.driver.find_element(By.XPATH, f"//tr[td/a[text()='{job_id}']]")
        row.find_element(By.XPATH, ".//button[text()='Retry']").click()
        wait_for(lambda: "Retried 1 dead job" in self.driver.page_source, what="the retry's notice")
        wait_for(lambda: self.redis.sismember(key, "ran"), what="the worker to run the retried job")
        self.assertNotIn(job_id, self.dead_ids())

    def test_retry_all_on_a_filtered_set_makes_the_worker_run_them(self):
        key = f"{self.namespace}:retried-all"
        marker = "bulk-" + secrets.token_hex(4)
        matching = [self.bury("diag.record", {"key": key, "member": str(n)}, reason=f"{marker} timeout") for n in range(3)]
        other = self.bury("diag.record", {"key": key, "member": "not matching"}, reason="another failure")
        self.assertEqual(self.open(f"/dead?queue=default&error={marker}"), [])
        self.driver.find_element(By.XPATH, "//button[text()='Retry all matching']").click()
        self.driver.switch_to.alert.accept()  # the data-confirm question
        wait_for(lambda: "/dead/progress" in self.driver.current_url, what="the progress page")
        wait_for(lambda: "finished" in self.driver.find_element(By.CSS_SELECTOR, ".bulk-state").text, what="the run to finish")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "dd.done").text, "3")
        wait_for(lambda: self.redis.smembers(key) == {b"0", b"1", b"2"}, what="the worker to run the retried jobs")
        remaining = self.dead_ids()
        self.assertIn(other, remaining)
        for job_id in matching:
            self.assertNotIn(job_id, remaining)

    def test_selected_jobs_are_deleted_from_the_dead_page(self):
        first, second, kept = (self.bury("diag.record", {"key": "x", "member": str(n)}, reason=f"selection {n}") for n in range(3))
        self.open("/dead?queue=default&error=selection")
        for job_id in (first, second):
            self.driver.find_element(By.CSS_SELECTOR, f"input[type=checkbox][value='{job_id}']").click()
        self.driver.find_element(By.XPATH, "//button[text()='Delete selected']").click()
        wait_for(lambda: "Deleted 2 dead jobs" in self.driver.page_source, what="the delete's notice")
        remaining = self.dead_ids()
        self.assertNotIn(first, remaining)
        self.assertNotIn(second, remaining)
        self.assertIn(kept, remaining)

    def test_cancel_on_the_job_page_cancels_a_waiting_job(self):
        # A queue no worker serves: the job waits, ready, until the button cancels it.
        job_id = self.enqueuer.enqueue("diag.record", {"key": f"{self.namespace}:parked", "member": "m"}, queue="parked")[1]
        self.assertEqual(self.open(f"/job?id={job_id}&queue=parked"), [])
        self.assertIn("ready (waiting for a worker)", self.driver.page_source)
        self.driver.find_element(By.XPATH, "//button[text()='Cancel']").click()
        wait_for(lambda: f"Cancelled job {job_id}." in self.driver.page_source, what="the cancel's notice")
        self.assertIn("finished: <strong class=\"outcome cancelled\">cancelled</strong>", self.driver.page_source)
        self.assertEqual(self.redis.xlen(f"{self.namespace}:{{parked}}:stream"), 0)

    def test_run_now_on_the_scheduled_page_makes_the_worker_run_it(self):
        key = f"{self.namespace}:run-now"
        job_id = self.enqueuer.enqueue("diag.record", {"key": key, "member": "ran"}, run_at=time.time() + 3600)[1]
        self.assertEqual(self.open("/scheduled?queue=default"), [])
        row = self.driver.find_element(By.XPATH, f"//tr[td/a[text()='{job_id}']]")
        row.find_element(By.XPATH, ".//button[text()='Run now']").click()
        wait_for(lambda: f"Job {job_id} is ready to run now." in self.driver.page_source, what="the run-now notice")
        wait_for(lambda: self.redis.sismember(key, "ran"), what="the worker to run the job an hour early")
        self.assertIsNone(self.redis.zscore(f"{self.namespace}:{{default}}:scheduled", job_id))

    def test_a_job_links_the_job_that_enqueued_it_and_back(self):
        # gift.granted schedules the gift's gift.expire (GiftFollowUps): the worker's domain job enqueues it.
        gift = "g" + secrets.token_hex(4)
        grant = self.enqueuer.enqueue("gift.granted", {"user_id": "176", "user_gift_id": gift, "expires_at": int(time.time()) + 3 * 86400})[1]
        expire = f"gift.expire:{gift}"
        wait_for(lambda: self.redis.zscore(f"{self.namespace}:{{default}}:scheduled", expire) is not None,
                 what="the worker to run gift.granted and schedule its gift.expire")
        self.assertEqual(self.open("/job?" + urllib.parse.urlencode({"id": expire})), [])
        self.driver.find_element(By.CSS_SELECTOR, "a.enqueued-by").click()
        wait_for(lambda: f"<code>{grant}</code>" in self.driver.page_source and "gift.granted" in self.driver.page_source,
                 what="the link to lead to the job that enqueued it")
        self.driver.find_element(By.CSS_SELECTOR, "a.enqueued-jobs").click()
        wait_for(lambda: "search-results" in self.driver.page_source, what="the search for the jobs it enqueued")
        listed = [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "table.search-results a.job-link")]
        self.assertEqual(listed, [expire])

    def test_a_register_job_page_never_shows_its_password(self):
        password = json.loads(PASSWORD_SAMPLE.read_text())["password"]
        output = subprocess.run(
            [HOOPOE, "enqueue", "sendinblue.register", "--payload", f"@{PASSWORD_SAMPLE}", "--in", "1h"],
            env=self.processes.environment, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        job_id = output.split()[-1]
        # Found through the search box, as an operator would.
        self.assertEqual(self.open("/"), [])
        box = self.driver.find_element(By.CSS_SELECTOR, "form.search input[name=id]")
        box.send_keys(job_id)
        box.submit()
        wait_for(lambda: "/job" in self.driver.current_url, what="the job page")
        page = self.driver.page_source
        self.assertIn(job_id, page)
        self.assertIn("j***@example.com", page)  # the payload is there, its address masked ...
        self.assertNotIn("josh.cruise@example.com", page)
        self.assertNotIn(password, page)  # ... without its secret
        for path in ("/scheduled?queue=default", "/busy", "/"):
            self.open(path)
            self.assertNotIn(password, self.driver.page_source, path)

    def test_a_script_in_a_payload_renders_as_text(self):
        job_id = self.bury("diag.record", {"note": "<script>document.title='pwned'</script>"}, reason="<b>bold</b> failure")
        self.assertEqual(self.open(f"/job?queue=default&id={job_id}"), [])
        self.assertNotEqual(self.driver.title, "pwned")
        self.assertIn("<script>document.title='pwned'</script>", self.driver.find_element(By.CSS_SELECTOR, "pre.payload").text)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "main b"), [])

    def test_a_post_without_the_token_is_refused_and_changes_nothing(self):
        job_id = self.bury("diag.record", {"key": "x", "member": "forged"})
        for form in ({"queue": "default", "do": "delete", "id": job_id}, {"queue": "default", "do": "delete-all", "csrf": "guess"}):
            status, _ = http("POST", self.url + "/dead/action", form)
            self.assertEqual(status, 403, form)
        self.assertIn(job_id, self.dead_ids())
        # The same refusal from inside the browser: a form like the page's, posted without the page's token.
        self.open("/dead?queue=default")
        self.driver.execute_script(
            "const form = document.createElement('form'); form.method = 'post'; form.action = '/dead/action';"
            "for (const [name, value] of [['queue', 'default'], ['do', 'delete'], ['id', arguments[0]]]) {"
            "  const input = document.createElement('input'); input.type = 'hidden'; input.name = name; input.value = value;"
            "  form.appendChild(input); }"
            "document.body.appendChild(form); form.submit();", job_id)
        wait_for(lambda: "Refused" in self.driver.page_source, what="the refusal")
        self.assertIn(job_id, self.dead_ids())

    def test_clear_on_the_queues_page_removes_a_flood_of_one_type(self):
        # `flooded`: a queue no worker serves, 300 jobs of the flood's type and 5 of another.
        for index in range(300):
            self.enqueuer.enqueue("diag.incr", {"key": f"{self.namespace}:flood"}, queue="flooded")
        for index in range(5):
            self.enqueuer.enqueue("diag.record", {"key": f"{self.namespace}:kept", "member": str(index)}, queue="flooded")
        # A queue only a service's XADD made shows up once the last scan for queues (reused 30 s) is redone: as if
        # those 30 s had passed.
        self.redis.delete(f"{self.namespace}:queues:scanned")
        self.assertEqual(self.open("/queues"), [])
        self.driver.find_element(By.CSS_SELECTOR, "tr[data-queue='flooded'] a.clear-link").click()
        wait_for(lambda: "ready-count" in self.driver.page_source, what="the clear's confirmation page")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "span.ready-count").text, "305")
        self.driver.find_element(By.CSS_SELECTOR, "form.clear-queue input[name='type']").send_keys("diag.incr")
        self.driver.find_element(By.XPATH, "//form[@class='clear-queue']//button[text()='Clear']").click()
        self.driver.switch_to.alert.accept()  # the data-confirm question
        wait_for(lambda: "bulk-state finished" in self.driver.page_source, what="the clear to finish on its progress page")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "dd.done").text, "300 of 305 waiting when it started")
        entries = self.redis.xrange(f"{self.namespace}:{{flooded}}:stream")
        self.assertEqual([json.loads(fields[b"job"])["type"] for _, fields in entries], ["diag.record"] * 5)

    def test_pause_on_the_queues_page_stops_the_queue_and_resume_starts_it(self):
        # `critical`: a queue the real worker serves that no other test uses.
        key = f"{self.namespace}:pause-test"
        self.assertEqual(self.open("/queues"), [])
        row = self.driver.find_element(By.CSS_SELECTOR, "tr[data-queue='critical']")
        self.assertEqual(row.find_element(By.CSS_SELECTOR, "td.pause-state").text, "no")
        row.find_element(By.XPATH, ".//button[text()='Pause']").click()
        wait_for(lambda: "Paused critical" in self.driver.page_source, what="the pause's notice")
        self.assertIn("paused", self.driver.find_element(By.CSS_SELECTOR, "tr[data-queue='critical'] td.pause-state").text)
        # The worker stops fetching within a second (it reads the pauses every 0.5 s); jobs enqueued after that stay
        # ready, none runs. Three seconds: a margin for a machine loaded by the browser.
        time.sleep(3.0)
        for _ in range(3):
            self.enqueuer.enqueue("diag.incr", {"key": key}, queue="critical")
        time.sleep(1.5)
        self.assertIsNone(self.redis.get(key), "a job of the paused queue ran")
        self.assertEqual(self.open("/queues"), [])
        ready = self.driver.find_element(By.CSS_SELECTOR, "tr[data-queue='critical'] td.num").text
        self.assertEqual(ready, "3")
        self.driver.find_element(By.XPATH, "//tr[@data-queue='critical']//button[text()='Resume']").click()
        wait_for(lambda: "Resumed critical" in self.driver.page_source, what="the resume's notice")
        wait_for(lambda: self.redis.get(key) == b"3", timeout=20, what="the worker to run the resumed queue's jobs")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "tr[data-queue='critical'] td.pause-state").text, "no")

    def test_the_providers_page_shows_credit_alerts_errors_and_states_with_phones_masked(self):
        # What the SMS jobs record, written as they write it (jobs/EVENTS.md; jobs/types/sms.send.md, "Redis keys"):
        # the last credit read, and events on the stream.
        phone = "+989121234567"
        self.redis.hset(f"{self.namespace}:{{sms}}:credit", mapping={"remaining": "1500000", "checked_at": str(time.time() - 120)})
        events = f"{self.namespace}:events"
        def emit(kind, data):
            self.redis.xadd(events, {"type": kind, "data": json.dumps(data, sort_keys=True), "at": f"{time.time():.3f}"})
        emit("sms.sent", {"message_id": "pv-1", "provider": "kavenegar", "provider_message_ids": ["1"], "user_id": "7", "purpose": None})
        emit("sms.status", {"message_id": "pv-1", "provider": "kavenegar", "state": "delivered", "raw_status": "10"})
        emit("sms.sent", {"message_id": "pv-2", "provider": "ippanel", "provider_message_ids": ["2"], "user_id": "8", "purpose": None})
        emit("sms.failed", {"message_id": "pv-3", "reason": f"Kavenegar [411] invalid receptor {phone}", "user_id": "9", "purpose": None})
        emit("provider.alert", {"provider": "kavenegar", "code": "credit_low", "operation": "account/info",
                                "message": "remaining credit 1500000 Rial is below KAVENEGAR_CREDIT_FLOOR 2000000"})
        self.assertEqual(self.open("/providers"), [])
        page = self.driver.page_source
        self.assertIn("1,500,000", self.driver.find_element(By.CSS_SELECTOR, "strong.credit").text)
        self.assertIn("credit_low", page)
        self.assertIn("[411] invalid receptor +9891*****567", page)
        self.assertNotIn(phone, page)
        states = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[1].text
                  for row in self.driver.find_elements(By.CSS_SELECTOR, "table.states tbody tr")}
        self.assertEqual(states, {"delivered": "1", "sent": "1", "failed": "1"})

    def test_enqueue_now_runs_a_periodic_task(self):
        self.assertEqual(self.open("/periodic"), [])
        self.assertIn("browser.canary", self.driver.page_source)
        self.driver.find_element(By.XPATH, "//tr[td[text()='browser.canary']]//button[text()='Enqueue now']").click()
        wait_for(lambda: "Enqueued browser.canary now" in self.driver.page_source, what="the enqueue's notice")
        wait_for(lambda: self.redis.get(f"{self.namespace}:periodic") == b"1", what="the worker to run the periodic task's job")

    def test_a_schedule_path_given_that_is_not_there_is_named_on_the_periodic_page(self):
        # A typo in --schedule showed "No schedule file given", which the command line contradicts.
        url = self.processes.dashboard("--schedule", "/nonexistent/hoopoe-typo.yaml")
        status, page = http("GET", url + "/periodic")
        self.assertEqual(status, 200)
        self.assertIn("/nonexistent/hoopoe-typo.yaml", page)
        self.assertIn("could not be read", page)
        self.assertNotIn("No schedule file given", page)

    def test_basic_auth_is_required_when_a_password_is_set(self):
        url = self.processes.dashboard(extra={"HOOPOE_DASHBOARD_PASSWORD": "open-sesame"})
        for path in ("/", "/dead", "/assets/app.css"):
            self.assertEqual(http("GET", url + path)[0], 401, path)
            self.assertEqual(http("GET", url + path, password="wrong")[0], 401, path)
            self.assertEqual(http("GET", url + path, password="open-sesame")[0], 200, path)
        # With a password, a proxy's host name is fine (the browser has no credentials for a rebinding attacker's name).
        self.assertEqual(http("GET", url + "/", password="open-sesame", host="dashboard.example")[0], 200)
        # The browser without credentials gets the challenge, not the page.
        self.driver.get(url + "/")
        self.assertNotIn("Processes", self.driver.page_source)

    def test_without_a_password_only_addresses_and_localhost_are_answered(self):
        # DNS rebinding: a page on rebound.example whose name now resolves to 127.0.0.1 must not read the dashboard.
        self.assertEqual(http("GET", self.url + "/dead", host="rebound.example")[0], 403)
        job_id = self.bury("diag.record", {"key": "x", "member": "rebound"})
        page = http("GET", self.url + "/dead?queue=default")[1]
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"queue": "default", "do": "delete", "id": job_id, "csrf": token}
        self.assertEqual(http("POST", self.url + "/dead/action", form, host="rebound.example")[0], 403)
        self.assertIn(job_id, self.dead_ids())
        port = urllib.parse.urlparse(self.url).port
        self.assertEqual(http("GET", self.url + "/", host=f"localhost:{port}")[0], 200)

    def test_a_port_already_taken_is_one_line_and_exit_1(self):
        port = str(urllib.parse.urlparse(self.url).port)
        done = subprocess.run([HOOPOE, "dashboard", "--port", port], env=self.processes.environment, cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn(f"hoopoe: dashboard: cannot serve on 127.0.0.1:{port}", done.stderr)
        self.assertEqual(done.stdout, "")

    def test_behind_a_proxy_on_a_sub_path_every_link_keeps_the_prefix(self):
        url = self.processes.dashboard("--base-path", "/hoopoe")
        self.assertTrue(url.endswith("/hoopoe"), url)
        # Every page reached by its navigation link, with its assets (a 404 for app.js or app.css is a console error).
        self.assertEqual(self.open("/", base=url), [])
        self.assertIn("stylesheet", self.driver.page_source)
        for label in ("Queues", "Dead", "Search"):
            self.driver.get_log("browser")
            self.driver.find_element(By.XPATH, f"//nav/a[text()='{label}']").click()
            wait_for(lambda: self.driver.find_element(By.TAG_NAME, "h1").text, what=f"the {label} page")
            self.assertTrue(urllib.parse.urlparse(self.driver.current_url).path.startswith("/hoopoe/"), self.driver.current_url)
            self.assertEqual([e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"], [], label)
        # An action's redirect stays under the prefix.
        job_id = self.bury("diag.record", {"key": "x", "member": "sub-path"})
        self.open("/dead?queue=default", base=url)
        self.driver.find_element(By.XPATH, f"//tr[td/a[text()='{job_id}']]//button[text()='Delete']").click()
        wait_for(lambda: "Deleted 1 dead job" in self.driver.page_source, what="the delete's notice")
        self.assertTrue(urllib.parse.urlparse(self.driver.current_url).path.startswith("/hoopoe/dead"), self.driver.current_url)
        self.assertEqual(http("GET", url.rsplit("/hoopoe", 1)[0] + "/dead")[0], 404)
        # A prefix that is not a plain path stops start-up with exit 78, naming the setting.
        done = subprocess.run([HOOPOE, "dashboard", "--port", "0"], env={**self.processes.environment, "HOOPOE_DASHBOARD_BASE_PATH": "/a b"},
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 78, done.stderr)
        self.assertIn("HOOPOE_DASHBOARD_BASE_PATH", done.stderr)

    def test_read_only_hides_and_refuses_actions(self):
        url = self.processes.dashboard("--read-only")
        job_id = self.bury("diag.record", {"key": "x", "member": "read-only"})
        self.assertEqual(self.open("/dead?queue=default", base=url), [])
        self.assertIn(job_id, self.driver.page_source)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "form[method=post]"), [])
        self.assertEqual(self.driver.find_elements(By.XPATH, "//button[text()='Retry']"), [])
        # No page of a read-only dashboard carries the token (and each process draws its own), so no valid one can be
        # posted: the refusal is told from the token check's 403 by its words. A 403 alone passed with the read-only
        # refusal removed, the token check refusing instead.
        self.assertNotIn('name="csrf"', self.driver.page_source)
        status, body = http("POST", url + "/dead/action", {"queue": "default", "do": "delete", "id": job_id})
        self.assertEqual(status, 403)
        self.assertIn("This dashboard is read-only (--read-only): no action is allowed.", body)
        self.assertNotIn("CSRF", body)
        self.assertIn(job_id, self.dead_ids())


if __name__ == "__main__":
    unittest.main(verbosity=2)
