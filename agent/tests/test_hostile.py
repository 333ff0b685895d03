"""Hostile objects in a stopped frame: every variable is listed, each shown as itself."""
import os

from tests.harness import AGENT_DIR, AgentTestCase, line_of

HOSTILE = os.path.join(os.path.dirname(AGENT_DIR), "test", "fixtures", "hostile_values.py")


class HostileValuesTests(AgentTestCase):
    def setUp(self):
        self.s = self.launch(HOSTILE, "main", "0.5")
        self.s.handshake()
        self.s.request("setBreakpoints", {"source": {"path": HOSTILE}, "breakpoints": [
            {"line": line_of(HOSTILE, "inspect-here")}]})
        self.s.start()
        self.tid = self.s.stopped("breakpoint")["threadId"]
        self.frame = self.s.top_frame(self.tid)

    def children(self, ref):
        body = self.s.request("variables", {"variablesReference": ref})
        return {v["name"]: v for v in body["variables"]}

    def test_every_local_is_listed_as_itself(self):
        v = self.s.locals(self.frame["id"])
        self.assertEqual(set(v), {
            "plain", "bad_attrs", "bad_dir", "bad_len", "bad_key_dict", "slow", "spin_repr",
            "sleep_repr", "huge", "slow_class", "bad_dict", "loud", "weird", "half", "nested",
            "text"})
        self.assertEqual(v["plain"]["value"], "42")
        self.assertRegex(v["bad_attrs"]["value"], r"^<__main__\.BadAttrs object at ")
        self.assertEqual(v["bad_len"]["value"], "[1, 2, 3]")
        self.assertEqual(v["bad_len"]["indexedVariables"], 3)
        self.assertEqual(v["bad_key_dict"]["value"], "{BadKey(): 'value', 'ok': 1}")
        self.assertEqual(v["spin_repr"]["value"], "<SpinRepr object: repr timed out after 0.5 s>")
        self.assertRegex(v["sleep_repr"]["value"], r"^<SleepRepr object: repr (timed out|skip)")
        self.assertTrue(v["huge"]["value"].endswith("\u2026 (repr of 50,000,000 characters)"))
        self.assertTrue(v["text"]["value"].endswith("\u2026 (100,000 characters)"))
        self.assertTrue(v["loud"]["value"].endswith("\u2026 (10,000 characters)"))
        self.assertEqual(v["weird"]["type"], "__main__.Weird")
        self.assertEqual(v["half"]["value"], "<HalfBuilt object: repr failed: AttributeError: "
                                             "'HalfBuilt' object has no attribute 'name'>")
        self.assertRegex(v["slow_class"]["value"], r"^<__main__\.SlowClass object at ")
        self.assertRegex(v["bad_dict"]["value"], r"^<__main__\.BadDict object at ")

    def test_children_and_globals(self):
        v = self.s.locals(self.frame["id"])
        self.assertEqual([c["value"] for c in self.children(
            v["bad_len"]["variablesReference"]).values()], ["1", "2", "3"])
        self.assertEqual(set(self.children(v["bad_key_dict"]["variablesReference"])),
                         {"BadKey()", "'ok'"})
        nested = self.children(v["nested"]["variablesReference"])
        self.assertEqual(len(nested), 4)
        self.assertIn("timed out", nested["1"]["value"])
        scopes = self.s.request("scopes", {"frameId": self.frame["id"]})["scopes"]
        glob = self.children(scopes[1]["variablesReference"])
        self.assertEqual(glob["BadKey()"]["value"], "'a global with a hostile key'")
        self.assertNotIn("evaluateName", glob["BadKey()"])
        self.assertIn("main", glob)
