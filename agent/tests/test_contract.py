"""The agent side of the protocol contract: docs/agent-protocol.md against the code."""
import os
import re
import sys
import unittest

from tasklens_agent import protocol
from tasklens_agent.inspection import Inspector
from tasklens_agent.session import Session
from tests.harness import AgentTestCase, fixture

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "docs", "agent-protocol.md")


def table_rows(text, header_start):
    """First two cells of each row of the markdown table whose header starts so."""
    lines = text[text.index(header_start):].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append(cells)
    return rows


class ContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DOC, encoding="utf-8") as f:
            cls.doc = f.read()

    def test_version(self):
        self.assertIn("(version %d)" % protocol.PROTOCOL_VERSION, self.doc.splitlines()[0])

    def test_commands_and_when_they_are_legal(self):
        running, stopped = set(), set()
        for cells in table_rows(self.doc, "| command | when |"):
            names = re.findall(r"`(\w+)`", cells[0])
            (running if "R" in cells[1] else stopped).update(names)
        self.assertEqual(running, set(protocol.RUNNING_COMMANDS))
        self.assertEqual(stopped, set(protocol.STOPPED_COMMANDS))
        for name in running:
            self.assertTrue(hasattr(Session, "r_" + name), name)
        for name in stopped - {"continue", "next", "stepIn", "stepOut"}:
            self.assertTrue(hasattr(Inspector, name), name)

    def test_events(self):
        names = {re.findall(r"`(\w+)`", cells[0])[0]
                 for cells in table_rows(self.doc, "| event | body |")}
        self.assertEqual(names, set(protocol.EVENTS))

    def test_error_codes(self):
        line = next(l for l in self.doc.splitlines() if "Error codes:" in l)
        start = self.doc.index(line)
        para = self.doc[start:self.doc.index("\n\n", start)]
        documented = set(re.findall(r"`(\w+)`", para.split("Error codes:")[1]))
        codes = {getattr(protocol, n) for n in ("UNKNOWN_COMMAND", "BAD_ARGUMENTS", "NOT_STOPPED",
                                                 "INVALID_HANDLE", "TIMEOUT", "EVAL_ERROR",
                                                 "INTERNAL")}
        self.assertEqual(documented, codes)


class HelloContractTest(AgentTestCase):
    def test_hello_fields(self):
        s = self.launch(fixture("show_env.py"))
        self.assertEqual(set(s.hello), {"protocol", "token", "pid", "pythonVersion",
                                        "versionInfo", "executable", "backend", "mode",
                                        "program"})
        self.assertEqual(".".join(map(str, s.hello["versionInfo"])), s.hello["pythonVersion"])

    def test_hello_names_the_backend_that_runs(self):
        with open(DOC, encoding="utf-8") as f:
            documented = re.findall(r'"(\w+)"', re.search(r'"backend":((?:"\w+"\|?)+)',
                                                          f.read()).group(1))
        self.assertEqual(sorted(documented), ["hooked", "monitoring", "settrace"])
        s = self.launch(fixture("show_env.py"))
        self.assertEqual(s.hello["backend"],
                         "monitoring" if sys.version_info >= (3, 12) else "hooked")
        if sys.version_info >= (3, 12):
            forced = self.launch(fixture("show_env.py"), env={"TASKLENS_BACKEND": "settrace"})
            self.assertEqual(forced.hello["backend"], "settrace")
