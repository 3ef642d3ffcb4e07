"""The Redis for tests that delete the function library: HOOPOE_TEST_LONE_REDIS, a unix socket scripts/test-clients.sh
serves with no worker on it. On REDIS_URL's Redis the worker's FunctionLibraryKeeper loads the library again every
15 s: a reload between a test's FUNCTION DELETE and its enqueue made the enqueue succeed instead of raising
LibraryNotLoaded. Here nothing loads it but the test's own `hoopoe functions load`."""
import os
import subprocess

import redis


def lone_redis(test):
    """A connection to the lone Redis with the function library loaded, and a function loading it again; fails the
    test (not skips it) when the script did not start that Redis, so the library tests never quietly stop running."""
    path, hoopoe = os.environ.get("HOOPOE_TEST_LONE_REDIS"), os.environ.get("HOOPOE_BIN")
    if not path or not hoopoe:
        test.fail("HOOPOE_TEST_LONE_REDIS and HOOPOE_BIN unset: run scripts/test-clients.sh")
    url = "unix://" + path

    def load():
        done = subprocess.run([hoopoe, "functions", "load", "--redis-url", url], capture_output=True, text=True, timeout=60)
        test.assertEqual(done.returncode, 0, f"hoopoe functions load: {done.stdout}{done.stderr}")

    load()
    connection = redis.Redis.from_url(url)
    test.addCleanup(connection.close)
    return connection, load
