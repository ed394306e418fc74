"""Reference oracle for pkg/rules' differential tests.

Reads a JSON request from the file named by argv[1] and writes a JSON answer to stdout.
It uses python in-toto 1.3.1 (verifylib.verify_item_rules, rulelib.unpack_rule) and python's
fnmatch, i.e. the reference implementation itself; nothing here re-implements rule semantics.

Request:
  {"globs": [[pattern, name], ...],
   "parse": [[field, ...], ...],
   "cases": [{"rules": [[...], ...], "side": "materials"|"products", "self": "<step>",
              "steps": {"<step>": {"materials": {...}, "products": {...}}, ...}}, ...]}
Answer:
  {"globs": [true|false|"error: ..."], "parse": [dict|"error: ..."],
   "cases": [{"error": null|"<type>: <msg>", "failed": <rule index or -1>,
              "consumed": {"<name>": <rule index>, ...}}]}
"""
import json
import sys
import types
import warnings
import fnmatch

warnings.simplefilter("ignore")

import in_toto.rulelib as rulelib
import in_toto.verifylib as verifylib
import logging
logging.disable(logging.CRITICAL)


def link(d):
    return types.SimpleNamespace(signed=types.SimpleNamespace(
        materials=d.get("materials", {}), products=d.get("products", {})))


def run_case(c):
    links = {name: link(d) for name, d in c["steps"].items()}
    side = c["side"]
    queue0 = set(c["steps"][c["self"]][side].keys())
    out = {"error": None, "failed": -1, "consumed": {}}
    try:
        verifylib.verify_item_rules(c["self"], side, c["rules"], links)
    except Exception as e:  # noqa: BLE001 - every exception is an answer here
        out["error"] = "%s: %s" % (type(e).__name__, str(e).split("\n")[0])
    trace = verifylib.RULE_TRACE.get("trace", [])
    if out["error"] is not None:
        out["failed"] = len(trace)
    prev = queue0
    for i, t in enumerate(trace):
        q = set(t["queue"])
        for name in prev - q:
            out["consumed"][name] = i
        prev = q
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    ans = {"globs": [], "parse": [], "cases": []}
    for pat, name in req.get("globs", []):
        try:
            ans["globs"].append(fnmatch.fnmatch(name, pat))
        except Exception as e:  # noqa: BLE001
            ans["globs"].append("error: %s" % type(e).__name__)
    for rule in req.get("parse", []):
        try:
            ans["parse"].append(rulelib.unpack_rule(rule))
        except Exception as e:  # noqa: BLE001
            ans["parse"].append("error: %s" % type(e).__name__)
    for c in req.get("cases", []):
        ans["cases"].append(run_case(c))
    json.dump(ans, sys.stdout)


if __name__ == "__main__":
    main()
