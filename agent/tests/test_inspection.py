"""Stacks, scopes, variables with paging, setVariable, evaluate, completions, bad reprs."""
import time

from tests.harness import AgentTestCase, fixture, line_of, settrace_variant

VALUES = fixture("values.py")


class InspectionTests(AgentTestCase):
    def setUp(self):
        self.s, st = self.run_to("values.py", "inspect-here")
        self.tid = st["threadId"]
        self.frame = self.s.top_frame(self.tid)
        self.vars = self.s.locals(self.frame["id"])

    def children(self, ref, **kw):
        body = self.s.request("variables", {"variablesReference": ref, **kw})
        return {v["name"]: v for v in body["variables"]}

    def timed(self, fn):
        started = time.monotonic()
        result = fn()
        return result, time.monotonic() - started

    def test_stack_hides_agent_and_pages(self):
        full = self.s.request("stackTrace", {"threadId": self.tid})
        self.assertEqual([f["name"] for f in full["stackFrames"]], ["inspect_me", "<module>"])
        self.assertEqual(full["totalFrames"], 2)
        page = self.s.request("stackTrace", {"threadId": self.tid, "startFrame": 1, "levels": 1})
        self.assertEqual([f["name"] for f in page["stackFrames"]], ["<module>"])
        self.assertEqual(page["totalFrames"], 2)
        everything = self.s.request("stackTrace", {"threadId": self.tid, "justMyCode": False})
        self.assertEqual(everything["totalFrames"], 2)
        self.assertFalse(any("tasklens_agent" in f["path"] or "launch.py" in f["path"]
                             for f in everything["stackFrames"]))

    def test_scopes_and_simple_values(self):
        scopes = self.s.request("scopes", {"frameId": self.frame["id"]})["scopes"]
        self.assertEqual([s["name"] for s in scopes], ["Locals", "Globals"])
        self.assertEqual(self.vars["counter"]["value"], "10")
        self.assertEqual(self.vars["text"]["value"], "'hello'")
        self.assertEqual(self.vars["counter"]["type"], "int")
        self.assertEqual(self.vars["counter"]["variablesReference"], 0)
        glob = self.children(scopes[1]["variablesReference"])
        self.assertIn("Plain", glob)

    def test_million_element_list_pages_instantly(self):
        big = self.vars["big"]
        self.assertEqual(big["indexedVariables"], 1_000_000)
        self.assertLess(len(big["value"]), 10_000)
        self.assertTrue(big["value"].endswith("\u2026"))
        page, took = self.timed(lambda: self.children(
            big["variablesReference"], filter="indexed", start=999_990, count=5))
        self.assertLess(took, 1.0)
        self.assertEqual(list(page), [str(i) for i in range(999_990, 999_995)])
        self.assertEqual(page["999994"]["evaluateName"], "big[999994]")

    def test_dict_set_deque_and_objects(self):
        mapping = self.children(self.vars["mapping"]["variablesReference"])
        self.assertEqual(set(mapping), {"'a'", "'b'", "3"})
        self.assertEqual(mapping["'b'"]["indexedVariables"], 3)
        self.assertEqual(mapping["'a'"]["evaluateName"], "mapping['a']")
        self.assertEqual(self.vars["selfref"]["value"], "{'k': 1, 'me': {...}}")
        numbers = self.children(self.vars["numbers"]["variablesReference"], start=1, count=2)
        self.assertEqual(list(numbers), ["1", "2"])
        self.assertEqual(self.vars["queue"]["indexedVariables"], 3)
        obj = self.children(self.vars["obj"]["variablesReference"])
        self.assertEqual(obj["name"]["value"], "'plain'")
        child = self.children(obj["child"]["variablesReference"])
        self.assertEqual({k: v["value"] for k, v in child.items()}, {"x": "1", "y": "[1, 2]"})
        self.assertEqual(child["x"]["evaluateName"], "obj.child.x")

    def test_nasty_reprs_answer_in_time(self):
        nasty, took = self.timed(lambda: self.children(self.vars["nasty"]["variablesReference"]))
        self.assertLess(took, 2.0)
        self.assertEqual(nasty["raising"]["value"],
                         "<RaisingRepr object: repr failed: ValueError: boom>")
        self.assertIn("timed out", nasty["looping"]["value"])
        self.assertRegex(nasty["sleeping"]["value"], "timed out|time budget")
        self.assertLessEqual(len(nasty["huge"]["value"]), 5000)
        for name in ("nasty.looping", "nasty.sleeping"):
            body, took = self.timed(lambda: self.s.request(
                "evaluate", {"expression": name, "frameId": self.frame["id"], "context": "repl"}))
            self.assertIn("timed out", body["result"])
            self.assertLess(took, 2.0)
        # the session goes on
        again = self.s.locals(self.frame["id"])
        self.assertEqual(again["counter"]["value"], "10")

    def test_evaluate_and_exec(self):
        ev = lambda text, ctx="repl": self.s.request(
            "evaluate", {"expression": text, "frameId": self.frame["id"], "context": ctx})
        self.assertEqual(ev("counter * 2")["result"], "20")
        self.assertEqual(ev("newname = counter + 5")["result"], "")
        self.assertEqual(ev("newname", "watch")["result"], "15")
        resp = self.s.request_raw("evaluate", {"expression": "x = 1", "context": "watch",
                                               "frameId": self.frame["id"]})
        self.assertEqual((resp["success"], resp["error"]), (False, "evalError"))
        resp = self.s.request_raw("evaluate", {"expression": "nope", "context": "hover",
                                               "frameId": self.frame["id"]})
        self.assertIn("NameError", resp["message"])
        self.assertEqual(ev("mapping")["namedVariables"] if "namedVariables" in ev("mapping")
                         else ev("mapping")["indexedVariables"], 3)

    def test_set_variable_local_object_and_container(self):
        scopes = self.s.request("scopes", {"frameId": self.frame["id"]})["scopes"]
        loc = scopes[0]["variablesReference"]
        body = self.s.request("setVariable", {"variablesReference": loc, "name": "counter",
                                              "value": "counter + 32"})
        self.assertEqual(body["value"], "42")
        self.s.request("setVariable", {"variablesReference": loc, "name": "text",
                                       "value": "'changed'"})
        self.s.request("setVariable", {"variablesReference": self.vars["mapping"][
            "variablesReference"], "name": "'b'", "value": "'new b'"})
        # None is a key like any other (it was taken for "no such key")
        self.s.request("evaluate", {"expression": "mapping[None] = 'n'",
                                    "frameId": self.frame["id"], "context": "repl"})
        self.s.request("setVariable", {"variablesReference": self.vars["mapping"][
            "variablesReference"], "name": "None", "value": "'set'"})
        self.assertEqual(self.s.request("evaluate", {"expression": "mapping.pop(None)",
                                                     "frameId": self.frame["id"],
                                                     "context": "repl"})["result"], "'set'")
        obj = self.children(self.vars["obj"]["variablesReference"])
        self.s.request("setVariable", {"variablesReference": obj["child"]["variablesReference"],
                                       "name": "x", "value": "7"})
        again = self.s.locals(self.frame["id"])
        self.assertEqual(again["counter"]["value"], "42")
        self.assertEqual(self.s.request("evaluate", {"expression": "obj.child.x",
                                                     "frameId": self.frame["id"],
                                                     "context": "watch"})["result"], "7")
        self.s.request("continue")
        self.assertEqual(self.s.wait_event("programExited")["exitCode"], 0)
        _, out, _ = self.s.finish()
        self.assertEqual(out, "counter 42 text changed b new b\n")

    def test_completions(self):
        targets = self.s.request("completions", {"text": "coun", "column": 5,
                                                 "frameId": self.frame["id"]})["targets"]
        self.assertIn("counter", [t["label"] for t in targets])
        targets = self.s.request("completions", {"text": "text.up", "column": 8,
                                                 "frameId": self.frame["id"]})["targets"]
        self.assertEqual([t["label"] for t in targets], ["upper"])
        self.assertEqual((targets[0]["start"], targets[0]["length"]), (5, 2))

    def test_handles_die_on_resume(self):
        ref = self.vars["obj"]["variablesReference"]
        self.s.request("setBreakpoints", {"source": {"path": VALUES}, "breakpoints": [
            {"line": line_of(VALUES, "after-inspect")}]})
        self.s.request("continue")
        self.s.stopped("breakpoint")
        resp = self.s.request_raw("variables", {"variablesReference": ref})
        self.assertEqual((resp["success"], resp["error"]), (False, "invalidHandle"))
        resp = self.s.request_raw("scopes", {"frameId": self.frame["id"]})
        self.assertEqual(resp["error"], "invalidHandle")

    def test_source_and_loaded_sources(self):
        sources = self.s.request("loadedSources")["sources"]
        paths = [s["path"] for s in sources]
        self.assertIn(VALUES, paths)
        self.assertFalse(any("tasklens_agent" in p for p in paths))


class GeneratedSourceTests(AgentTestCase):
    def test_code_without_file_has_source_reference(self):
        path = fixture("generated_code.py")
        s = self.launch(path)
        s.handshake(justMyCode=False)
        s.request("setFunctionBreakpoints", {"breakpoints": [{"name": "generated"}]})
        s.start()
        st = s.stopped("function breakpoint")
        frames = s.request("stackTrace", {"threadId": st["threadId"],
                                          "justMyCode": False})["stackFrames"]
        self.assertEqual((frames[0]["name"], frames[0]["path"]), ("generated", "<generated>"))
        self.assertTrue(frames[0]["library"])
        content = s.request("source", {"sourceReference": frames[0]["sourceReference"]})
        self.assertIn("value = 5", content["content"])
        self.assertNotIn("sourceReference", frames[1])
        bad = s.request_raw("source", {"sourceReference": 999})
        self.assertEqual(bad["error"], "invalidHandle")


globals().update(settrace_variant(InspectionTests))
assert line_of(VALUES, "inspect-here")
