"""Runs the examples of docs/fake-providers.md against a fresh `hoopoe dev fake-providers --control`: a doc that
promises something is checked here."""
import re
import unittest

from fakes import Fakes, ROOT


class FakeProvidersDoc(unittest.TestCase):
    def test_python_examples_run(self):
        text = (ROOT / "docs" / "fake-providers.md").read_text()
        blocks = re.findall(r"```python\n(.*?)```", text, re.S)
        self.assertTrue(blocks)
        fakes = Fakes()
        try:
            for block in blocks:
                exec(compile(block, "docs/fake-providers.md", "exec"),
                     {"control": fakes.env["FAKE_CONTROL_URL"], "kavenegar": fakes.env["KAVENEGAR_BASE_URL"]})
        finally:
            status, errors = fakes.stop()
        self.assertEqual(status, 0, errors)


if __name__ == "__main__":
    unittest.main()
