"""Job history and the engine's counters in a real browser: the job page of a finished job, the Search page, the
overview's per-minute and per-hour charts.

Real parts only, as test_dashboard.py (whose helpers this reuses): the private redis-server of scripts/test-redis.sh,
a real `hoopoe worker` and `hoopoe dashboard`, Debian's chromium through chromium-driver; jobs go in through the Python
client (jobs/examples).

    scripts/test-redis.sh scripts/test-browser.sh test_history
"""
import os
import secrets
import unittest

import redis
from selenium.webdriver.common.by import By

from test_dashboard import SCREENSHOTS, Enqueuer, Processes, headless_chromium, wait_for


class HistoryInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
        cls.namespace = "bh" + secrets.token_hex(4)
        cls.enqueuer = Enqueuer(cls.redis, cls.namespace)
        environment = {**os.environ, "HOOPOE_NAMESPACE": cls.namespace, "LOG_LEVEL": "warning"}
        environment.pop("HOOPOE_DASHBOARD_PASSWORD", None)
        cls.processes = Processes(environment)
        cls.worker = cls.processes.start(["worker", "--queues", "default", "--concurrency", "2"])
        cls.url = cls.processes.dashboard()
        counter = f"{cls.namespace}:done"
        # Jobs the worker finishes, each with a user id in its payload, and one it buries (no `key`).
        cls.ids = {user: cls.enqueuer.enqueue("diag.incr", {"key": counter, "user_id": user})[1] for user in (4242, 4343, 4444)}
        cls.dead_id = cls.enqueuer.enqueue("diag.record", {"member": "no key", "user_id": 4242})[1]
        try:
            wait_for(lambda: int(cls.redis.get(counter) or 0) == 3, what="the worker to run the jobs")
            wait_for(lambda: cls.redis.llen(f"{cls.namespace}:{{default}}:history:ids") == 4, what="job history to hold all four")
        except AssertionError:
            log = cls.processes.log_of(cls.worker)
            cls.processes.stop()
            raise AssertionError(f"the worker did not finish the jobs; its log:\n{log}")

        cls.driver = headless_chromium()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.processes.stop()

    def open(self, path):
        """Loads a page; returns the console errors (SEVERE) it logged."""
        self.driver.get_log("browser")
        self.driver.get(self.url + path)
        wait_for(lambda: self.driver.execute_script("return document.readyState") == "complete", what=f"{path} to load")
        return self.console_errors()

    def console_errors(self):
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def field(self, name):
        """The text of the job page's `<dd>` after `<dt>name</dt>`."""
        for term in self.driver.find_elements(By.CSS_SELECTOR, "dl.fields dt"):
            if term.text == name:
                return term.find_element(By.XPATH, "following-sibling::dd[1]").text
        return None

    def test_the_job_page_of_a_processed_job_shows_its_outcome(self):
        job_id = self.ids[4343]
        self.assertEqual(self.open(f"/job?id={job_id}"), [])
        self.assertEqual(self.field("state"), "finished: processed")
        self.assertEqual(self.field("attempts"), "1")
        self.assertTrue(self.field("duration").endswith(" s"), self.field("duration"))
        worker = self.redis.zrange(f"{self.namespace}:processes", 0, -1)[0].decode()
        self.assertEqual(self.field("worker"), worker)
        self.assertIn('"user_id" : 4343', self.driver.find_element(By.CSS_SELECTOR, "pre.payload").text)
        # The buried one: dead, with its reason (the dead set has it; history too).
        self.assertEqual(self.open(f"/job?id={self.dead_id}"), [])
        self.assertEqual(self.field("state"), "dead")

    def test_search_finds_a_job_by_a_payload_field(self):
        self.assertEqual(self.open("/search"), [])
        self.assertIn("Searches the newest 1000 finished jobs", self.driver.page_source)
        self.driver.find_element(By.NAME, "field").send_keys("user_id=4242")
        self.driver.find_element(By.CSS_SELECTOR, "form.search-form button").click()
        wait_for(lambda: "/search?" in self.driver.current_url, what="the search to submit")
        wait_for(lambda: self.driver.find_elements(By.CSS_SELECTOR, "table.search-results"), what="the results")
        self.assertEqual(self.console_errors(), [])
        found = {link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "a.job-link")}
        self.assertEqual(found, {self.ids[4242], self.dead_id})
        self.driver.save_screenshot(str(SCREENSHOTS / "dashboard-search.png"))
        # A result links to its job page.
        self.driver.find_element(By.LINK_TEXT, self.ids[4242]).click()
        wait_for(lambda: "/job?" in self.driver.current_url, what="the job page")
        self.assertEqual(self.field("state"), "finished: processed")
        self.assertEqual(self.console_errors(), [])

    def test_the_overview_charts_the_last_hour_and_day(self):
        self.assertEqual(self.open("/"), [])
        charts = self.driver.find_elements(By.CSS_SELECTOR, "svg.timechart")
        self.assertEqual([chart.get_attribute("aria-label") for chart in charts], ["jobs per minute, last hour", "jobs per hour, last day"])
        for chart in charts:
            titles = [title.get_attribute("textContent") for title in chart.find_elements(By.TAG_NAME, "title")]
            processed = sum(int(title.rsplit(": ", 1)[1]) for title in titles if " processed: " in title)
            dead = sum(int(title.rsplit(": ", 1)[1]) for title in titles if " dead: " in title)
            self.assertEqual((processed, dead), (3, 1), titles)


if __name__ == "__main__":
    unittest.main()
