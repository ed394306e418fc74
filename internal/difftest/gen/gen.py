#!/usr/bin/python3
"""Random in-toto supply chains, written and verified by python in-toto 1.3.1.

Usage: gen.py --out DIR --seed S --chains N

Chain i uses random.Random(S + i) and is written to DIR/c<S+i>/:

  root.layout        the layout (Metablock), signed with python in-toto's Metablock.sign
  keys/              the layout public keys as the in-toto-verify CLI reads them
                     (RSA: PEM, ed25519/ecdsa: securesystemslib JSON), plus <name>.sslib.json
                     with the full securesystemslib key dict (for in-toto-golang)
  links/             the link files (in_toto_record_start/stop or Link + Metablock.sign), and
                     for a sublayout its links in links/<step>.<keyid8>/
  work/              the files the functionaries worked on (recorded artifacts)

and once per run DIR/gnupg/ (the GNUPGHOME of the OpenPGP keys, unless gpg is missing or
--no-gpg) and DIR/private-keys.json (keyid -> securesystemslib private key dict of every other
key that signed anything: the Go side re-signs chains as DSSE envelopes with them).

After writing a chain, the same process verifies it with in_toto.verifylib.in_toto_verify (in
work/, where inspections run) and the layout keys loaded with
securesystemslib.interface.import_publickeys_from_file, exactly as in-toto-verify does, with the
chain's substitution parameters if it has any. DIR/manifest.json lists every chain, the key files
and parameters for the CLIs, the features the generator used (the Go classifier reads them), and
python's verdict (ok, exception class, message); for chains with a change that tinto tolerates
and python does not (a malformed link file, an extra bad signature) or that tinto refuses and
python accepts (a link naming another step), also python's verdict on the chain as tinto reads
it ("python_repaired": the malformed file and the renamed link absent, the bad signature
dropped).

Key material comes from os.urandom, so only the structure of a chain is a function of its seed;
verdicts do not depend on key bytes. Features added after the first version draw from a second
random stream (rng2; sublayouts and OpenPGP keys from a third, rng3), so that the main stream,
and with it every older seed's chain structure, stays the same.
"""

import argparse
import copy
import fnmatch
import hashlib
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import securesystemslib.interface as sslib_interface
import securesystemslib.keys as sslib_keys

import in_toto.settings
from in_toto import runlib, verifylib
from in_toto.models.layout import Inspection, Layout, Step, SUBLAYOUT_LINK_DIR_FORMAT
from in_toto.models.link import Link, FILENAME_FORMAT
from in_toto.models.metadata import Metablock

logging.disable(logging.CRITICAL)


def _memoize_rsa_private_key_loading():
  """securesystemslib parses (and checks, ~70 ms) the RSA private PEM on every signature. The pool
  keys are signed with thousands of times, so cache the parsed key. Signatures are unchanged."""
  import securesystemslib.rsa_keys as rk
  orig = rk.load_pem_private_key
  cache = {}

  def load(data, password=None, backend=None, **kw):
    k = (bytes(data), password)
    if k not in cache:
      cache[k] = orig(data, password=password, backend=backend, **kw)
    return cache[k]

  rk.load_pem_private_key = load


_memoize_rsa_private_key_loading()


# ---------------------------------------------------------------------------
# Keys

class KeyPool:
  """A pool of keys generated once per process; chains pick from it."""

  def __init__(self, gpg_home=None):
    self.keys = []  # list of (kind, private key dict)
    for bits in (2048, 2048, 3072):
      self.keys.append(("rsa", sslib_keys.generate_rsa_key(bits)))
    for _ in range(6):
      self.keys.append(("ed25519", sslib_keys.generate_ed25519_key()))
    for scheme in ("ecdsa-sha2-nistp256",) * 6:
      self.keys.append(("ecdsa", sslib_keys.generate_ecdsa_key(scheme)))
    # Every private key a chain may be signed with, by keyid (the Go side re-signs chains as
    # DSSE envelopes with them): the pool keys and the RSA keys with another scheme.
    self.private = {k["keyid"]: k for _, k in self.keys}
    # OpenPGP keys (gpg_keys), or none when gpg is not installed (gpg_skip says why).
    self.gpg_home = gpg_home
    self.gpg = []
    self.gpg_skip = ""
    if gpg_home:
      try:
        self.gpg = make_gpg_keys(gpg_home)
      except Exception as e:  # reported in the manifest; the chains use no gpg keys
        self.gpg_skip = "gpg key generation failed: %s: %s" % (type(e).__name__, e)
        self.gpg = []

  def pick(self, rng, n, exclude=()):
    """n distinct keys, none of whose keyids is in exclude."""
    cands = [k for k in self.keys if k[1]["keyid"] not in exclude]
    rng.shuffle(cands)
    kinds = ["rsa", "ed25519", "ecdsa"]
    out = []
    # Prefer a random kind per key so every kind appears often.
    for _ in range(n):
      want = rng.choice(kinds)
      for i, k in enumerate(cands):
        if k[0] == want:
          out.append(cands.pop(i))
          break
      else:
        out.append(cands.pop())
    return out


def rsa_with_scheme(key, scheme, pool=None):
  """A copy of an RSA key dict with another signing scheme (and so another keyid)."""
  k = copy.deepcopy(key)
  k["scheme"] = scheme
  k["keyid"] = sslib_keys._get_keyid(k["keytype"], scheme, {"public": k["keyval"]["public"]})
  if pool is not None:
    pool.private[k["keyid"]] = k
  return k


# ---------------------------------------------------------------------------
# OpenPGP keys (made once per run with gpg, in a temporary GNUPGHOME)

# (kind, user id, primary algorithm and usage, signing subkey algorithm or None)
GPG_SPECS = [
    ("gpg-rsa-subkey", "Sub <sub@example.org>", ("rsa2048", "cert"), "rsa2048"),
    ("gpg-dsa", "Dsa <dsa@example.org>", ("dsa2048", "sign"), None),
    ("gpg-ed25519", "Edd <edd@example.org>", ("ed25519", "sign"), None),
    ("gpg-rsa", "Rsa <rsa@example.org>", ("rsa2048", "sign"), None),
]


def make_gpg_keys(home):
    """Generates the OpenPGP keys of GPG_SPECS in home (no passphrase) and returns one dict per
    key: kind, keyid (the one signatures and link file names carry: the signing subkey's when
    there is one), primary (the key the layout lists), pub (securesystemslib's export)."""
    import securesystemslib.gpg.functions as sslib_gpg
    os.makedirs(home, mode=0o700, exist_ok=True)
    env = dict(os.environ, GNUPGHOME=home)

    def gpg(*args):
        return subprocess.run(["gpg", "--batch", "--passphrase", "", "--pinentry-mode", "loopback"] + list(args),
                              env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout

    def fprs(uid):
        out = gpg("--list-keys", "--with-colons", uid).decode()
        return [l.split(":")[9].lower() for l in out.splitlines() if l.startswith("fpr:")]

    keys = []
    for kind, uid, (algo, usage), sub in GPG_SPECS:
        gpg("--quick-gen-key", uid, algo, usage, "never")
        primary = fprs(uid)[0]
        keyid = primary
        if sub:
            gpg("--quick-add-key", primary, sub, "sign", "never")
            keyid = fprs(uid)[-1]
        pub = sslib_gpg.export_pubkey(primary, homedir=home)
        keys.append({"kind": kind, "keyid": keyid, "primary": primary, "pub": pub, "gpg": True})
    return keys


def is_gpg(k):
  return isinstance(k, dict) and k.get("gpg") is True


def main_id(k):
  """The keyid a layout lists for k (a gpg key's primary key)."""
  return k["primary"] if is_gpg(k) else k["keyid"]


def pubdict(k):
  return k["pub"] if is_gpg(k) else public(k)


def public(key):
  pub = {k: v for k, v in key.items() if k != "keyval"}
  pub["keyval"] = {"public": key["keyval"]["public"]}
  return pub


def write_layout_pubkey(key, kind, path):
  """Write a layout public key the way securesystemslib's generate_and_write_* functions do."""
  if kind == "rsa":
    with open(path, "w") as f:
      f.write(key["keyval"]["public"])
  else:
    meta = sslib_keys.format_keyval_to_metadata(
        key["keytype"], key["scheme"], {"public": key["keyval"]["public"]}, private=False)
    with open(path, "w") as f:
      json.dump(meta, f)
  with open(path + ".sslib.json", "w") as f:
    json.dump(public(key), f)


# ---------------------------------------------------------------------------
# Artifact names and globs

PLAIN_PARTS = ["src", "lib", "dist", "build", "docs", "a", "b", "out", "pkg", "x.y", "sub"]
ODD_PARTS = ["a[1]", "b]c", "[x", "q?r", "st*r", "!bang", "-dash", "sp ace", "^hat", "caf\u00e9",
             "\u00fcber", "x-[!y]", "dot.tar.gz", ".hidden", "UPPER", "a]b[c"]
EXTS = [".c", ".h", ".py", ".txt", ".go", ".tar.gz", "", ".md", ".C"]


def rand_name(rng, odd):
  depth = rng.choice([0, 0, 1, 1, 2, 3])
  parts = []
  for _ in range(depth):
    parts.append(rng.choice(ODD_PARTS) if odd and rng.random() < 0.25 else rng.choice(PLAIN_PARTS))
  base = rng.choice(["main", "util", "README", "f", "g1", "g2", "setup", "core", "a", "ab", "abc"])
  if odd and rng.random() < 0.3:
    base = rng.choice(ODD_PARTS)
  parts.append(base + rng.choice(EXTS))
  return "/".join(parts)


def rand_synthetic_name(rng, backslash):
  """Names that only a link written through the API can carry (backslashes survive)."""
  n = rand_name(rng, True)
  if not backslash:
    return n
  r = rng.random()
  if r < 0.3:
    n = n.replace("/", "\\", 1) if "/" in n else "dir\\" + n
  elif r < 0.4:
    n = n + "\\"
  elif r < 0.5:
    n = "back\\*slash" + rng.choice(EXTS)
  return n


def glob_from(rng, name):
  """A pattern derived from name; it may or may not match name."""
  r = rng.random()
  if r < 0.12:
    return name
  if r < 0.22:
    return "*"
  if r < 0.32:
    d = name.rsplit("/", 1)[0] if "/" in name else ""
    return (d + "/*") if d else "*"
  if r < 0.40:
    ext = os.path.splitext(name)[1]
    return "*" + (ext or name[-1:])
  if r < 0.50:
    i = rng.randrange(len(name))
    return name[:i] + "?" + name[i + 1:]
  if r < 0.58:
    i = rng.randrange(len(name))
    c = name[i]
    other = rng.choice("abxyz019")
    return name[:i] + "[" + c + other + "]" + name[i + 1:]
  if r < 0.66:
    i = rng.randrange(len(name))
    c = name[i]
    neg = rng.choice([c, "q" if c != "q" else "z"])
    return name[:i] + "[!" + neg + "]" + name[i + 1:]
  if r < 0.72:
    return "*/" + name.rsplit("/", 1)[-1]
  if r < 0.76:
    return "*" + name[len(name) // 2:]
  if r < 0.80:
    return name.replace("/", "*", 1)
  if r < 0.84:
    return name.split("/")[0] + "*"
  if r < 0.88:
    # A backslash before a wildcard: in fnmatch the backslash is literal.
    i = rng.randrange(len(name) + 1)
    return name[:i] + "\\*"
  if r < 0.92:
    return rng.choice(["[]]*", "[!]]*", "[*", "*[", "[a-c]*", "[^a]*", "[z-a]*", "*]", "[!a-m]*",
                       "[[]*", "*[!.]", "?", "??*", "*?*?", "[!/]*", "*\\", "*[\\]*", "[a-]*",
                       "[]-]*", "[!]*", "[]", "[!]", "**"])
  if r < 0.96:
    return name.upper() if name.upper() != name else name.lower()
  return name + "*"


def rand_prefix(rng, names):
  dirs = sorted({n.rsplit("/", 1)[0] for n in names if "/" in n})
  if not dirs:
    return rng.choice(["src", "dist"])
  p = rng.choice(dirs)
  if rng.random() < 0.3:
    p = p.split("/")[0]
  if rng.random() < 0.25:
    p += "/"
  return p


def sha256(data):
  return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# Chains

def rule_case(rng, word):
  if rng.random() < 0.03:
    return rng.choice([word.lower(), word.capitalize()])
  return word


class Chain:
  def __init__(self, root, seed, pool):
    self.seed = seed
    self.rng = random.Random(seed)
    # Features added later draw from rng2, so that a seed keeps producing the same chain
    # structure as before they were added.
    self.rng2 = random.Random(seed * 7919 + 1)
    # Sublayouts and OpenPGP keys draw from rng3, for the same reason.
    self.rng3 = random.Random(seed * 104729 + 3)
    self.pool = pool
    self.dir = os.path.abspath(os.path.join(root, "c%d" % seed))
    self.work = os.path.join(self.dir, "work")
    self.links = os.path.join(self.dir, "links")
    self.keysdir = os.path.join(self.dir, "keys")
    self.tmp = os.path.join(self.dir, "tmp")
    for d in (self.work, self.links, self.keysdir, self.tmp):
      os.makedirs(d)
    self.features = []
    # Sublayout files (at link paths) of this chain, and for each top-level one python's verdict
    # on the sublayout alone (sub_checks: (path, step, ok)).
    self.sublayouts = []
    self.sub_checks = []
    self.sub_signers = {}
    # (path, content or None): the chain as tinto reads it, see verify_repaired.
    self.repairs = []
    self.file_ids = {}

  def feature(self, f):
    self.features.append(f)

  # -- file system state --------------------------------------------------------------

  def write(self, name, data):
    p = os.path.join(self.work, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
      f.write(data)

  def files(self):
    out = []
    for root, _, fs in os.walk(self.work):
      for f in fs:
        out.append(os.path.relpath(os.path.join(root, f), self.work))
    return sorted(out)

  def mutate(self, odd):
    """Create, modify and delete some files; return what happened."""
    rng = self.rng
    ops = {"created": [], "modified": [], "deleted": [], "copied": None}
    cur = self.files()
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
      n = rand_name(rng, odd)
      if n in cur or any(c.startswith(n + "/") or n.startswith(c + "/") for c in cur):
        continue
      if ".link" in n or n.endswith("~") or n.endswith(".pyc"):
        continue
      if os.path.lexists(os.path.join(self.work, n)):
        continue  # e.g. an empty directory left by a deleted file
      self.write(n, b"new %d %s" % (rng.random() * 1e9, n.encode()))
      ops["created"].append(n)
      cur.append(n)
    for n in list(cur):
      if n in ops["created"]:
        continue
      r = rng.random()
      if r < 0.15:
        self.write(n, b"modified %d" % (rng.random() * 1e9))
        ops["modified"].append(n)
      elif r < 0.22 and len(cur) > 2:
        os.remove(os.path.join(self.work, n))
        ops["deleted"].append(n)
        cur.remove(n)
    if rng.random() < 0.2:
      # Copy a directory: products under dst have the hashes of src (for MATCH ... IN ...).
      dirs = sorted({n.split("/")[0] for n in cur if "/" in n})
      if dirs:
        src = rng.choice(dirs)
        dst = "copy-" + src
        if not os.path.exists(os.path.join(self.work, dst)):
          shutil.copytree(os.path.join(self.work, src), os.path.join(self.work, dst))
          ops["copied"] = (src, dst)
          self.feature("copydir")
    return ops

  # -- rules --------------------------------------------------------------------------

  def match_rule(self, names, dest_type, dest_step, src_prefix=None, dst_prefix=None):
    rng = self.rng
    pat = glob_from(rng, rng.choice(names)) if names and rng.random() < 0.6 else "*"
    rule = [rule_case(rng, "MATCH"), pat]
    if src_prefix:
      rule += [rule_case(rng, "IN"), src_prefix]
    rule += [rule_case(rng, "WITH"), dest_type, ]
    if dst_prefix:
      rule += [rule_case(rng, "IN"), dst_prefix]
    rule += [rule_case(rng, "FROM"), dest_step]
    self.feature("match-in" if (src_prefix or dst_prefix) else "match")
    return rule

  def generic(self, verb, names):
    rng = self.rng
    if verb == "REQUIRE":
      if names and rng.random() < 0.7:
        self.feature("require")
        return ["REQUIRE", rng.choice(names)]
      self.feature("require-glob")
      return ["REQUIRE", glob_from(rng, rng.choice(names)) if names else "nothing"]
    self.feature(verb.lower())
    pat = glob_from(rng, rng.choice(names)) if names else rng.choice(["*", "x*"])
    if "[" in pat or "\\" in pat or "?" in pat:
      self.feature("glob-edge")
    return [rule_case(rng, verb), pat]

  def exact_glob(self, target, others):
    """A pattern (often an edge-case glob) that matches target and none of others."""
    rng = self.rng
    for _ in range(6):
      pat = glob_from(rng, target)
      if fnmatch.fnmatchcase(target, pat) and not any(fnmatch.fnmatchcase(o, pat) for o in others):
        if "[" in pat or "\\" in pat or "?" in pat:
          self.feature("glob-edge")
        return pat
    # Escape the name the way glob.escape does: [ * ? become one-character classes.
    self.feature("glob-escaped")
    return "".join("[" + c + "]" if c in "[*?" else c for c in target)

  def clean_rules(self, side, step_idx, steps, mats, prods, ops):
    """Rules that describe what the step did, so that an untampered chain passes."""
    rng = self.rng
    prev = steps[step_idx - 1] if step_idx > 0 else None
    me = steps[step_idx]
    rules = []
    if side == "materials":
      if prev is None:
        rules.append(["ALLOW", "*"])
      else:
        rules.append(self.match_rule([], "PRODUCTS", prev))
        for n in ops["deleted"][:3]:
          rules.append([rule_case(rng, "DELETE"), self.exact_glob(n, [])])
          self.feature("delete")
        rules.append(["DISALLOW", "*"] if rng.random() < 0.7 else ["ALLOW", "*"])
      return rules
    others = sorted(set(prods) - set(ops["created"]))
    created = ops["created"]
    if created:
      if len(created) > 3 or rng.random() < 0.2:
        rules.append(["CREATE", "*"])
      else:
        for n in created:
          rules.append([rule_case(rng, "CREATE"), self.exact_glob(n, [])])
      self.feature("create")
    for n in ops["modified"][:3]:
      rules.append([rule_case(rng, "MODIFY"), self.exact_glob(n, [])])
      self.feature("modify")
    if len(ops["modified"]) > 3:
      rules.append(["MODIFY", "*"])
    if ops["copied"]:
      src, dst = ops["copied"]
      sp = dst + ("/" if rng.random() < 0.3 else "")
      dp = src + ("/" if rng.random() < 0.3 else "")
      rules.append(self.match_rule([], "PRODUCTS", me, sp, dp))
    rules.append(self.match_rule([], "MATERIALS", me))
    if rng.random() < 0.3 and prods:
      rules.insert(0, ["REQUIRE", rng.choice(sorted(prods))])
      self.feature("require")
    rules.append(["DISALLOW", "*"] if rng.random() < 0.7 else ["ALLOW", "*"])
    self.feature("disallow")
    return rules

  def rules_for(self, side, step_idx, steps, mats, prods, ops):
    """Plausible rules for one side, then random perturbations."""
    rng = self.rng
    if self.clean:
      rules = self.clean_rules(side, step_idx, steps, mats, prods, ops)
      if rng.random() < 0.1:
        names = sorted(mats if side == "materials" else prods) or ["none"]
        verb = rng.choice(["CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW", "REQUIRE"])
        rules.insert(rng.randrange(len(rules) + 1), self.generic(verb, names))
        self.feature("perturbed")
      return rules
    names = sorted(mats if side == "materials" else prods)
    rules = []
    prev = steps[step_idx - 1] if step_idx > 0 else None
    me = steps[step_idx]
    if side == "materials":
      if prev is not None and rng.random() < 0.85:
        rules.append(self.match_rule(names, "PRODUCTS", prev))
      if rng.random() < 0.2:
        rules.append(self.generic(rng.choice(["ALLOW", "REQUIRE", "DISALLOW"]), names))
    else:
      if ops["created"] and rng.random() < 0.8:
        rules.append(self.generic("CREATE", ops["created"]))
      if ops["modified"] and rng.random() < 0.7:
        rules.append(self.generic("MODIFY", ops["modified"]))
      if ops["deleted"] and rng.random() < 0.7:
        rules.append(self.generic("DELETE", ops["deleted"]))
      if ops["copied"] and rng.random() < 0.8:
        src, dst = ops["copied"]
        sp = dst + ("/" if rng.random() < 0.3 else "")
        dp = src + ("/" if rng.random() < 0.3 else "")
        if prev is not None and rng.random() < 0.5:
          rules.append(self.match_rule([], "PRODUCTS", prev, sp, dp))
        else:
          rules.append(self.match_rule([], "MATERIALS", me, sp, dp))
      if rng.random() < 0.6:
        rules.append(self.match_rule(names, "MATERIALS", me))
      if prev is not None and rng.random() < 0.3:
        rules.append(self.match_rule(names, "PRODUCTS", prev))
    # Perturbations.
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
      verb = rng.choice(["MATCH", "CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW", "REQUIRE"])
      pool = names or ["none"]
      if verb == "MATCH":
        dest = rng.choice(steps[: step_idx + 1] + (["nosuchstep"] if rng.random() < 0.05 else []))
        if dest == "nosuchstep":
          self.feature("match-unknown-step")
        dt = rng.choice(["MATERIALS", "PRODUCTS"])
        sp = rand_prefix(rng, pool) if rng.random() < 0.35 else None
        dp = rand_prefix(rng, pool) if rng.random() < 0.35 else None
        r = self.match_rule(pool, dt, dest, sp, dp)
      else:
        r = self.generic(verb, pool)
      rules.insert(rng.randrange(len(rules) + 1), r)
    tail = rng.random()
    if tail < 0.45:
      rules.append(["DISALLOW", "*"])
      self.feature("disallow")
    elif tail < 0.75:
      rules.append(["ALLOW", "*"])
      self.feature("allow")
    elif tail < 0.85:
      rules.append(["DISALLOW", glob_from(rng, rng.choice(names or ["x"]))])
      self.feature("disallow")
    return rules

  def tag_backslashes(self, layout, step_arts, params):
    """Tag where a backslash appears outside a pattern (see docs/intoto-deviations.md), also
    after parameter substitution."""
    def sub(x):
      if params is None:
        return x
      try:
        return x.format(**params)
      except Exception:
        return x
    for mats, prods in step_arts:
      if any("\\" in n for n in list(mats) + list(prods)):
        self.feature("backslash-names")
    for s in layout.steps + layout.inspect:
      for r in s.expected_materials + s.expected_products:
        if r[0].upper() == "REQUIRE" and "\\" in sub(r[1]):
          self.feature("backslash-require")
        if r[0].upper() == "MATCH":
          for i in range(2, len(r) - 1):
            if r[i].upper() == "IN" and "\\" in sub(r[i + 1]):
              self.feature("backslash-prefix")

  def add_inspection(self, layout, steps):
    """An inspection that runs `true` and checks the final state of work/ (second stream)."""
    rng2 = self.rng2
    name = "inspect-final"
    names = self.files() or ["none"]
    rules = []
    if rng2.random() < 0.8:
      rules.append(["MATCH", "*", "WITH", "PRODUCTS", "FROM", steps[-1]])
    if rng2.random() < 0.3:
      rules.append(["MATCH", glob_from(rng2, rng2.choice(names)), "WITH", "MATERIALS", "FROM", name])
    if rng2.random() < 0.4:
      verb = rng2.choice(["ALLOW", "DISALLOW", "REQUIRE", "CREATE", "MODIFY", "DELETE"])
      rules.insert(rng2.randrange(len(rules) + 1), [verb, glob_from(rng2, rng2.choice(names))])
    rules.append(rng2.choice([["DISALLOW", "*"], ["ALLOW", "*"]]))
    products = [list(r) for r in rules]
    layout.inspect.append(Inspection(name=name, run=["true"], expected_materials=rules,
                                     expected_products=products))
    self.feature("inspection")
    return name

  def parametrise(self, layout):
    """Replace parts of some rule patterns with {NAME} placeholders; return the parameters.
    Sometimes a placeholder has no parameter, or a pattern gets literal {{braces}}."""
    rng = self.rng
    params = {}
    self.feature("params")
    unknown = rng.random() < 0.2
    for s in layout.steps:
      for rules in (s.expected_materials, s.expected_products):
        for r in rules:
          if len(r) < 2 or rng.random() < 0.5:
            continue
          pat = r[1]
          if len(pat) >= 2 and rng.random() < 0.8:
            i = rng.randrange(len(pat))
            j = rng.randrange(i + 1, len(pat) + 1)
            name = "P%d" % len(params)
            params[name] = pat[i:j]
            r[1] = pat[:i] + "{" + name + "}" + pat[j:]
          elif unknown:
            r[1] = pat + "{MISSING}"
            self.feature("params-unknown")
            unknown = False
          else:
            r[1] = "{{" + pat + "}}"
            self.feature("params-literal-braces")
    if not params:
      params["UNUSED"] = "x"
    return params

  # -- recording ----------------------------------------------------------------------

  def sign(self, mb, key):
    """Signs a Metablock with key (a securesystemslib key dict or one of the pool's gpg keys)."""
    if is_gpg(key):
      mb.sign_gpg(gpg_keyid=key["keyid"], gpg_home=self.pool.gpg_home)
    else:
      mb.sign(key)

  def key_kwargs(self, key):
    if is_gpg(key):
      return {"gpg_keyid": key["keyid"], "gpg_home": self.pool.gpg_home}
    return {"signing_key": key}

  def record_start(self, name, key):
    cwd = os.getcwd()
    os.chdir(self.tmp)
    try:
      runlib.in_toto_record_start(name, ["."], base_path=self.work, **self.key_kwargs(key))
    finally:
      os.chdir(cwd)

  def record_stop(self, name, key):
    cwd = os.getcwd()
    os.chdir(self.tmp)
    aside = []
    if is_gpg(key):
      # With a gpg key, in_toto_record_stop globs for the step's unfinished link and wants
      # exactly one: hide the other functionary's while this one stops.
      mine = ".%s.%s.link-unfinished" % (name, key["keyid"][:8])
      for f in os.listdir("."):
        if f.startswith(".%s." % name) and f.endswith(".link-unfinished") and f != mine:
          os.rename(f, f + ".aside")
          aside.append(f)
    try:
      runlib.in_toto_record_stop(name, ["."], base_path=self.work, metadata_directory=self.links,
                                 **self.key_kwargs(key))
    finally:
      for f in aside:
        os.rename(f + ".aside", f)
      os.chdir(cwd)

  def link_path(self, step, keyid):
    # in_toto_record_stop names a link signed with a gpg subkey after the primary key (it
    # exports the key bundle); a link signed with sign_gpg is named here after the subkey, as
    # in_toto_run names it. python and tinto look for both.
    keyid = self.file_ids.get(keyid, keyid)
    return os.path.join(self.links, FILENAME_FORMAT.format(step_name=step, keyid=keyid))

  def load_link(self, step, keyid):
    return Metablock.load(self.link_path(step, keyid))

  # -- sublayouts ---------------------------------------------------------------------

  def add_sublayout(self, steps, funcs, thresholds):
    """Replaces one functionary's link by a sublayout signed by the functionary (third
    stream): the sublayout's steps go from the link's materials to its products, so that its
    summary link (python: materials of its first step, products of its last) is the link it
    replaces; its links are in links/<step>.<keyid8>/."""
    cands = [(i, j) for i in range(len(steps)) for j, k in enumerate(funcs[i])
             if not is_gpg(k) and os.path.exists(self.link_path(steps[i], k["keyid"]))]
    if not cands:
      return
    i, j = self.rng3.choice(cands)
    k = funcs[i][j]
    path = self.link_path(steps[i], k["keyid"])
    link = Metablock.load(path).signed
    mb, ok, changed = self.make_sublayout(self.links, steps[i], k, dict(link.materials), dict(link.products), 0)
    if changed and len(funcs[i]) == 2:
      # The sublayout's summary is no longer the other functionary's link.
      self.feature("links-disagree-threshold-%d" % thresholds[i])
    mb.dump(path)
    self.sublayouts.append(path)
    self.sub_checks.append((path, steps[i], ok))
    self.sub_signers[path] = k

  def parametrise_sublayout(self, params):
    """Deviation 17: tinto substitutes the parameters in sublayouts too, python does not. Part
    of a sublayout rule pattern becomes {S0} (S0 added to the chain's parameters); as tinto
    reads the chain the sublayout has the original pattern, so python also verifies the chain
    with the original sublayout."""
    rng = self.rng3
    path = self.sub_checks[0][0]
    if not os.path.exists(path):
      return
    with open(path) as f:
      original = f.read()
    mb = Metablock.load(path)
    rules = [r for st in mb.signed.steps for r in st.expected_materials + st.expected_products
             if len(r) >= 2 and len(r[1]) >= 2 and "{" not in r[1] and "}" not in r[1]]
    if not rules:
      return
    r = rng.choice(rules)
    pat = r[1]
    i = rng.randrange(len(pat))
    j = rng.randrange(i + 1, len(pat) + 1)
    params["S0"] = pat[i:j]
    r[1] = pat[:i] + "{S0}" + pat[j:]
    mb.signatures = []
    mb.sign(self.sub_signers[path])
    mb.dump(path)
    self.repairs.append((path, original))
    self.feature("sublayout-params")

  def make_sublayout(self, link_dir, step, signer, mats, prods, depth):
    """A sublayout for step signed by signer, whose links it writes; returns the Metablock,
    whether python verifies it on its own, and whether a failure changed the artifacts of its
    summary link (the first step's materials or the last step's products)."""
    rng = self.rng3
    self.feature("sublayout" if depth == 0 else "sublayout-nested")
    sub_dir = os.path.join(link_dir, SUBLAYOUT_LINK_DIR_FORMAT.format(name=step, keyid=signer["keyid"]))
    os.makedirs(sub_dir)
    n = rng.choice([1, 2, 2, 3])
    names = ["%s-%d" % (rng.choice(["compile", "check", "pack", "gen"]), t) for t in range(n)]
    states = [dict(mats)]
    for t in range(n - 1):
      st = dict(states[-1])
      new = "sub/%s.o" % names[t] if rng.random() < 0.7 else rand_name(rng, True)
      for a in sorted(st):
        r = rng.random()
        if r < 0.1:
          st[a] = {"sha256": sha256(os.urandom(8))}
        elif r < 0.15:
          del st[a]
      st[new] = {"sha256": sha256(os.urandom(8))}
      states.append(st)
    states.append(dict(prods))
    funcs, thresholds = [], []
    for t in range(n):
      m, th = 1, 1
      if rng.random() < 0.2:
        m, th = 2, rng.choice([1, 2])
        self.feature("sublayout-threshold-%d-of-2" % th)
      ks = [k for _, k in self.pool.pick(rng, m)]
      funcs.append(ks)
      thresholds.append(th)
    nested = None
    if depth == 0 and rng.random() < 0.2:
      singles = [t for t in range(n) if len(funcs[t]) == 1]
      if singles:
        nested = rng.choice(singles)

    # Rules, with the generator's rule makers on the third stream.
    saved = (self.rng, self.clean)
    self.rng, self.clean = rng, rng.random() < 0.8
    try:
      layout = Layout()
      failure = rng.choice(["none"] * 12 + ["tamper", "missing-link", "wrong-key", "bad-sig",
                                            "expired", "rule"])
      self.feature("sublayout-failure-" + failure)
      layout.expires = "2019-01-01T00:00:00Z" if failure == "expired" else "2099-01-01T00:00:00Z"
      for ks in funcs:
        for k in ks:
          layout.add_functionary_key(public(k))
      for t, name in enumerate(names):
        a, b = states[t], states[t + 1]
        ops = {"created": sorted(set(b) - set(a)), "deleted": sorted(set(a) - set(b)),
               "modified": sorted(x for x in a if x in b and a[x] != b[x]), "copied": None}
        s = Step(name=name)
        s.pubkeys = [k["keyid"] for k in funcs[t]]
        s.threshold = thresholds[t]
        s.expected_materials = self.rules_for("materials", t, names, a, b, ops)
        s.expected_products = self.rules_for("products", t, names, a, b, ops)
        layout.steps.append(s)
      if failure == "rule":
        s = rng.choice(layout.steps)
        s.expected_products.insert(0, ["REQUIRE", "no/such/file"])
      layout.validate()
      self.tag_backslashes(layout, [(states[t], states[t + 1]) for t in range(n)], None)
    finally:
      self.rng, self.clean = saved

    # Links.
    paths = []
    for t, name in enumerate(names):
      for k in funcs[t]:
        p = os.path.join(sub_dir, FILENAME_FORMAT.format(step_name=name, keyid=k["keyid"]))
        if t == nested:
          mb, _, _ = self.make_sublayout(sub_dir, name, k, states[t], states[t + 1], depth + 1)
          self.sublayouts.append(p)
        else:
          mb = Metablock(signed=Link(name=name, materials=states[t], products=states[t + 1]))
          mb.sign(k)
        mb.dump(p)
        paths.append((t, k, p))
    changed = False
    if failure == "tamper":
      cands = [(t, k, p) for t, k, p in paths if t != nested]
      if cands:
        t, k, p = rng.choice(cands)
        if len(funcs[t]) == 2:
          # The step's two links now disagree (see docs/intoto-deviations.md, links-disagree).
          self.feature("links-disagree-threshold-%d" % thresholds[t])
        mbl = Metablock.load(p)
        mat = (t > 0 and rng.random() < 0.5) or not mbl.signed.products
        arts = mbl.signed.materials if mat else mbl.signed.products
        changed = (mat and t == 0) or (not mat and t == n - 1)
        if arts:
          arts[rng.choice(sorted(arts))] = {"sha256": sha256(b"tampered")}
        else:
          arts["tampered"] = {"sha256": sha256(b"tampered")}
        mbl.signatures = []
        mbl.sign(k)
        mbl.dump(p)
    elif failure == "missing-link":
      os.remove(rng.choice(paths)[2])
    elif failure == "wrong-key":
      t, k, p = rng.choice(paths)
      mbl = Metablock.load(p)
      mbl.signatures = []
      used = {x["keyid"] for ks in funcs for x in ks}
      mbl.sign(self.pool.pick(rng, 1, used)[0][1])
      mbl.dump(p)
    elif failure == "bad-sig":
      t, k, p = rng.choice(paths)
      with open(p) as f:
        doc = json.load(f)
      sig = doc["signatures"][0]["sig"]
      pos = rng.randrange(len(sig))
      doc["signatures"][0]["sig"] = sig[:pos] + ("0" if sig[pos] != "0" else "1") + sig[pos + 1:]
      with open(p, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)

    mb = Metablock(signed=layout)
    mb.sign(signer)
    # python's verdict on the sublayout alone, as its verify_sublayouts computes it.
    try:
      verifylib.in_toto_verify(copy.deepcopy(mb), {signer["keyid"]: public(signer)}, sub_dir,
                               step_name=step, persist_inspection_links=False)
      ok = True
    except Exception:
      ok = False
    return mb, ok, changed

  # -- generation ---------------------------------------------------------------------

  def generate(self):
    rng = self.rng
    synthetic = rng.random() < 0.2
    self.clean = rng.random() < 0.6
    self.feature("clean" if self.clean else "random-rules")
    odd = rng.random() < 0.5
    backslash = synthetic and rng.random() < 0.3
    if synthetic:
      self.feature("synthetic")
    if odd:
      self.feature("odd-names")
    nsteps = rng.choice([1, 2, 2, 3, 3, 4])
    steps = []
    for i in range(nsteps):
      name = rng.choice(["build", "fetch", "test", "package", "sign", "lint"]) + "-%d" % i
      if self.rng2.random() < 0.1:
        # Step names are file-name components of link names: odd but valid ones.
        name = self.rng2.choice(["x.y", "sp ace", "\u00fcn\u00efcode", "UPPER", "a_b", "-dash", "v1.2.3"]) + "%d" % i
        self.feature("odd-step-name")
      steps.append(name)

    # Functionaries.
    used = set()
    funcs = []  # per step: list of private key dicts
    thresholds = []
    for i in range(nsteps):
      n = 1
      t = 1
      if rng.random() < 0.2:
        n = 2
        t = rng.choice([1, 2])
        self.feature("threshold-%d-of-2" % t)
      ks = []
      for kind, k in self.pool.pick(rng, n, used):
        if kind == "rsa" and rng.random() < 0.3:
          k = rsa_with_scheme(k, rng.choice(["rsa-pkcs1v15-sha256", "rsassa-pss-sha384",
                                              "rsa-pkcs1v15-sha512"]), self.pool)
          self.feature("rsa-scheme-" + k["scheme"])
        self.feature("key-" + kind)
        used.add(k["keyid"])
        ks.append(k)
      funcs.append(ks)
      thresholds.append(t)
    if self.pool.gpg and self.rng3.random() < 0.15:
      # A functionary with an OpenPGP key: its links are signed by gpg (with the signing subkey,
      # for the RSA key that has one; the link file name then carries the subkey's keyid).
      i = self.rng3.randrange(nsteps)
      j = self.rng3.randrange(len(funcs[i]))
      cands = [g for g in self.pool.gpg if g["primary"] not in used]
      g = self.rng3.choice(cands)
      used.add(g["primary"])
      funcs[i][j] = g
      if not synthetic:
        self.file_ids[g["keyid"]] = g["primary"]
      self.feature("key-gpg")
      self.feature("key-" + g["kind"])

    # Initial files.
    for _ in range(rng.choice([1, 2, 3, 5, 8])):
      n = rand_name(rng, odd)
      if ".link" in n or any(c.startswith(n + "/") or n.startswith(c + "/") or c == n
                             for c in self.files()):
        continue
      self.write(n, b"initial %d" % (rng.random() * 1e9))

    failure = rng.choice(["none"] * 8 + ["tamper", "tamper", "missing-link", "wrong-key-link",
                                          "wrong-key-link-named", "bad-link-sig", "disagree",
                                          "expired", "layout-wrong-key", "layout-two-keys",
                                          "layout-one-of-two"])
    self.feature("failure-" + failure)
    tamper_after = rng.randrange(nsteps - 1) if failure == "tamper" and nsteps > 1 else None
    disagree_step = rng.randrange(nsteps) if failure == "disagree" else None
    if disagree_step is not None and len(funcs[disagree_step]) == 2:
      # Two links of one step that disagree (see docs/intoto-deviations.md, links-disagree).
      self.feature("links-disagree-threshold-%d" % thresholds[disagree_step])

    step_arts = []
    ops_list = []
    synth_state = None
    if synthetic:
      synth_state = {}
      for _ in range(rng.choice([1, 2, 4, 6])):
        synth_state[rand_synthetic_name(rng, backslash)] = {"sha256": sha256(os.urandom(8))}
    for i, step in enumerate(steps):
      ks = funcs[i]
      if synthetic:
        mats = dict(synth_state)
        ops = {"created": [], "modified": [], "deleted": [], "copied": None}
        for _ in range(rng.choice([0, 1, 2])):
          n = rand_synthetic_name(rng, backslash)
          if n not in synth_state:
            synth_state[n] = {"sha256": sha256(os.urandom(8))}
            ops["created"].append(n)
        for n in list(mats):
          r = rng.random()
          if r < 0.2:
            synth_state[n] = {"sha256": sha256(os.urandom(8))}
            if rng.random() < 0.2:
              synth_state[n]["sha512"] = hashlib.sha512(n.encode()).hexdigest()
              self.feature("multi-hash")
            ops["modified"].append(n)
          elif r < 0.3 and len(synth_state) > 1:
            del synth_state[n]
            ops["deleted"].append(n)
        prods = dict(synth_state)
        for j, k in enumerate(ks):
          p = prods
          if disagree_step == i and j == 1:
            p = dict(prods)
            p["disagree-extra"] = {"sha256": sha256(b"x")}
          link = Link(name=step, materials=mats, products=p)
          mb = Metablock(signed=link)
          self.sign(mb, k)
          mb.dump(self.link_path(step, k["keyid"]))
      else:
        for k in ks:
          self.record_start(step, k)
        ops = self.mutate(odd)
        for j, k in enumerate(ks):
          if disagree_step == i and j == 1:
            self.write("disagree-extra", b"only one functionary saw this")
          self.record_stop(step, k)
        link = self.load_link(step, ks[0]["keyid"]).signed
        mats, prods = link.materials, link.products
      step_arts.append((mats, prods))
      ops_list.append(ops)
      if tamper_after == i:
        if synthetic:
          n = rng.choice(sorted(synth_state))
          synth_state[n] = {"sha256": sha256(b"tampered")}
        else:
          fs = self.files()
          n = rng.choice(fs)
          with open(os.path.join(self.work, n), "ab") as f:
            f.write(b"tampered")
        self.feature("tampered")

    if self.rng3.random() < 0.12:
      self.add_sublayout(steps, funcs, thresholds)

    # Layout.
    layout_keys_all = self.pool.pick(rng, 2)
    lkind, lkey = layout_keys_all[0]
    self.feature("layout-" + lkind)
    layout = Layout()
    layout.expires = "2019-01-01T00:00:00Z" if failure == "expired" else "2099-01-01T00:00:00Z"
    for ks in funcs:
      for k in ks:
        layout.add_functionary_key(pubdict(k))
    for i, step in enumerate(steps):
      mats, prods = step_arts[i]
      s = Step(name=step)
      s.pubkeys = [main_id(k) for k in funcs[i]]
      s.threshold = thresholds[i]
      s.expected_materials = self.rules_for("materials", i, steps, mats, prods, ops_list[i])
      s.expected_products = self.rules_for("products", i, steps, mats, prods, ops_list[i])
      layout.steps.append(s)
    params = self.parametrise(layout) if rng.random() < 0.15 else None
    if self.rng2.random() < 0.02:
      # A step with threshold 0 (deviation 7): python accepts it, tinto rejects the layout,
      # in-toto-golang panics.
      layout.steps[self.rng2.randrange(nsteps)].threshold = 0
      self.feature("threshold-0")
    if self.rng2.random() < 0.025:
      # A step lists a keyid the layout has no key for (deviation 8): python treats it as nobody.
      layout.steps[self.rng2.randrange(nsteps)].pubkeys.append("ab" * 32)
      self.feature("unknown-functionary")
    layout.validate()
    self.tag_backslashes(layout, step_arts, params)
    inspection = None
    if not synthetic and self.rng2.random() < 0.12:
      inspection = self.add_inspection(layout, steps)
      layout.validate()
      self.tag_backslashes(layout, step_arts, params)
    if inspection is None and self.pool.gpg and self.rng3.random() < 0.1:
      # An OpenPGP layout key (tinto gets it with --gpg/--gpg-home, python exports it with
      # securesystemslib's gpg functions, as in-toto-verify --gpg does).
      g = self.rng3.choice(self.pool.gpg)
      layout_keys_all[0] = ("gpg", g)
      lkind, lkey = layout_keys_all[0]
      self.feature("layout-gpg")
      self.feature("key-gpg")
      self.feature("key-" + g["kind"])
    mb = Metablock(signed=layout)
    self.sign(mb, lkey)
    verify_keys = [layout_keys_all[0]]
    if failure == "layout-wrong-key":
      verify_keys = [layout_keys_all[1]]
    elif failure == "layout-two-keys":
      self.sign(mb, layout_keys_all[1][1])
      verify_keys = layout_keys_all
    elif failure == "layout-one-of-two":
      verify_keys = layout_keys_all
    mb.dump(os.path.join(self.dir, "root.layout"))

    # Link failures.
    if failure == "missing-link":
      i = rng.randrange(nsteps)
      k = rng.choice(funcs[i])
      os.remove(self.link_path(steps[i], k["keyid"]))
    elif failure in ("wrong-key-link", "wrong-key-link-named"):
      i = rng.randrange(nsteps)
      k = rng.choice(funcs[i])
      path = self.link_path(steps[i], k["keyid"])
      mbl = Metablock.load(path)
      mbl.signatures = []
      _, wrong = self.pool.pick(rng, 1, used)[0]
      mbl.sign(wrong)
      if failure == "wrong-key-link-named":
        os.remove(path)
        path = self.link_path(steps[i], wrong["keyid"])
      mbl.dump(path)
    elif failure == "bad-link-sig":
      i = rng.randrange(nsteps)
      k = rng.choice(funcs[i])
      path = self.link_path(steps[i], k["keyid"])
      with open(path) as f:
        doc = json.load(f)
      field = "signature" if "signature" in doc["signatures"][0] else "sig"  # gpg: "signature"
      sig = doc["signatures"][0][field]
      pos = rng.randrange(len(sig))
      doc["signatures"][0][field] = sig[:pos] + ("0" if sig[pos] != "0" else "1") + sig[pos + 1:]
      with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)

    if params is not None and self.sub_checks and failure not in (
        "missing-link", "wrong-key-link", "wrong-key-link-named", "bad-link-sig") and self.rng3.random() < 0.8:
      self.parametrise_sublayout(params)

    if inspection is not None:
      # The prerecorded inspection link tinto reads (signed by the layout key); python runs the
      # inspection itself, in work/, when it verifies.
      cwd = os.getcwd()
      os.chdir(self.work)
      try:
        runlib.in_toto_run(inspection, ["."], ["."], ["true"], signing_key=lkey,
                           metadata_directory=self.links)
      finally:
        os.chdir(cwd)

    # Extra files in the link directory (second stream, so that seeds stay stable).
    if self.rng2.random() < 0.1:
      # Files no step asks for: ignored by both.
      self.feature("stray-files")
      for name in ("stray.deadbeef.link", "%s.link" % steps[0], "README", ".%s.00000000.link-unfinished" % steps[0]):
        with open(os.path.join(self.links, name), "w") as f:
          f.write("{not json")
    # Changes that tinto and python read differently: python also verifies the chain as tinto
    # reads it (the "repaired" chain), where each listed file has the given content (None: the
    # file is absent).
    two = [i for i in range(nsteps) if len(funcs[i]) == 2]
    if two and self.rng2.random() < 0.15:
      # A malformed file under an authorised functionary's link name (deviation 14).
      i = self.rng2.choice(two)
      k = self.rng2.choice(funcs[i])
      path = self.link_path(steps[i], k["keyid"])
      self.repairs.append((path, None))
      with open(path, "w") as f:
        f.write(self.rng2.choice(["{not json", "", "[]", '{"signed": {}, "signatures": []}']))
      self.feature("malformed-link")
    touched = {p for p, _ in self.repairs}
    existing = [(i, k) for i in range(nsteps) for k in funcs[i]
                if os.path.exists(self.link_path(steps[i], k["keyid"]))
                and self.link_path(steps[i], k["keyid"]) not in touched
                and not is_gpg(k)]
    if existing and self.rng2.random() < 0.05:
      # A bad signature by the same keyid before the good one (deviation 4).
      i, k = self.rng2.choice(existing)
      path = self.link_path(steps[i], k["keyid"])
      with open(path) as f:
        original = f.read()
      doc = json.loads(original)
      doc["signatures"].insert(0, {"keyid": k["keyid"], "sig": "00" * 64})
      with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
      self.repairs.append((path, original))
      touched.add(path)
      self.feature("extra-bad-signature")
    existing = [(i, k) for i, k in existing if self.link_path(steps[i], k["keyid"]) not in touched
                and self.link_path(steps[i], k["keyid"]) not in self.sublayouts]
    if existing and self.rng2.random() < 0.025:
      # A link whose signed name is not its step's (deviation 13): python does not look.
      i, k = self.rng2.choice(existing)
      path = self.link_path(steps[i], k["keyid"])
      mbl = Metablock.load(path)
      mbl.signed.name = steps[i] + "-renamed"
      mbl.signatures = []
      self.sign(mbl, k)
      mbl.dump(path)
      self.repairs.append((path, None))  # tinto does not count it: as if absent
      self.feature("link-name-mismatch")

    # Layout keys, as files for the CLIs.
    key_args = []
    for j, (kind, k) in enumerate(verify_keys):
      if kind == "gpg":
        key_args.append({"type": "gpg", "gpg": k["primary"], "gpg_home": self.pool.gpg_home})
        continue
      p = os.path.join(self.keysdir, "layout%d.pub" % j)
      write_layout_pubkey(k, kind, p)
      key_args.append({"path": p, "type": kind, "sslib": p + ".sslib.json"})
    shutil.rmtree(self.tmp)
    self.params = params
    return key_args

  def met_without(self, step_name, exclude):
    """Whether the step's threshold is met, in python's reading, by links other than the file
    exclude: distinct authorised keys with a file that loads and whose signature verifies."""
    layout = Metablock.load(os.path.join(self.dir, "root.layout")).signed
    step = [s for s in layout.steps if s.name == step_name][0]
    valid = set()
    for kid in step.pubkeys:
      key = layout.keys.get(kid)
      if key is None:
        continue
      for fid in [kid] + list(key.get("subkeys", {})):
        p = os.path.join(self.links, FILENAME_FORMAT.format(step_name=step_name, keyid=fid))
        if p == exclude or not os.path.exists(p):
          continue
        try:
          Metablock.load(p).verify_signature(key)
          valid.add(kid)
        except Exception:
          pass
    return len(valid) >= step.threshold

  def verify_repaired(self, key_args):
    """python's verdict on the chain as tinto reads it (None if nothing differs)."""
    saved = []

    def apply(path, content):
      with open(path, "rb") as f:
        saved.append((path, f.read()))
      if content is None:
        os.remove(path)
      else:
        with open(path, "w") as f:
          f.write(content)

    for path, content in self.repairs:
      apply(path, content)
    # A top-level sublayout that fails on its own, in a step whose threshold the other links
    # meet: python aborts verification, tinto does not count the link. As tinto reads the chain,
    # the sublayout is absent. (When the step needs it, both fail with the sublayout's failure.)
    # (A sublayout file the repairs removed, such as a malformed one, is already absent; one
    # they rewrote, such as the parametrised one, has its content as tinto reads it.)
    for path, step, ok in self.sub_checks:
      if not ok and os.path.exists(path) and self.met_without(step, path):
        apply(path, None)
        self.feature("sublayout-failed")
    if not saved:
      return None
    try:
      return self.verify(key_args)
    finally:
      for path, data in reversed(saved):  # a file changed twice gets its first content back
        with open(path, "wb") as f:
          f.write(data)

  def verify(self, key_args):
    layout = Metablock.load(os.path.join(self.dir, "root.layout"))
    files = [k for k in key_args if k["type"] != "gpg"]
    key_dict = sslib_interface.import_publickeys_from_file(
        [k["path"] for k in files], [k["type"] for k in files]) if files else {}
    gpg_ids = [k["gpg"] for k in key_args if k["type"] == "gpg"]
    if gpg_ids:
      # As in-toto-verify --gpg KEYID --gpg-home DIR.
      import securesystemslib.gpg.functions as sslib_gpg
      key_dict.update(sslib_gpg.export_pubkeys(gpg_ids, homedir=self.pool.gpg_home))
    # Inspections run in, and record, the current directory: work/.
    cwd = os.getcwd()
    os.chdir(self.work)
    try:
      verifylib.in_toto_verify(layout, key_dict, self.links, persist_inspection_links=False,
                               substitution_parameters=self.params)
      return {"ok": True, "exc": "", "msg": ""}
    except Exception as e:  # every exception is a denial
      return {"ok": False, "exc": type(e).__name__, "msg": str(e)[:2000]}
    finally:
      os.chdir(cwd)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--out", required=True)
  ap.add_argument("--seed", type=int, default=1)
  ap.add_argument("--chains", type=int, default=300)
  ap.add_argument("--no-gpg", action="store_true", help="use no OpenPGP keys")
  args = ap.parse_args()
  in_toto.settings.ARTIFACT_EXCLUDE_PATTERNS = ["*.link*", "*~", "*.pyc"]
  t0 = time.time()
  gpg_home = None
  gpg_skip = ""
  if args.no_gpg:
    gpg_skip = "--no-gpg"
  elif shutil.which("gpg") is None:
    gpg_skip = "gpg is not installed (apt-get install -y gnupg)"
  else:
    gpg_home = os.path.join(os.path.abspath(args.out), "gnupg")
  pool = KeyPool(gpg_home)
  gpg_skip = gpg_skip or pool.gpg_skip
  gpg_seconds = time.time() - t0
  out = []
  for i in range(args.chains):
    seed = args.seed + i
    c = Chain(args.out, seed, pool)
    try:
      key_args = c.generate()
    except Exception as e:
      # A generator problem is reported, not hidden: the Go side fails on it.
      out.append({"seed": seed, "dir": c.dir, "gen_error": "%s: %s" % (type(e).__name__, e)})
      continue
    verdict = c.verify(key_args)
    alt = c.verify_repaired(key_args)
    out.append({
        "seed": seed,
        "dir": c.dir,
        "layout": os.path.join(c.dir, "root.layout"),
        "link_dir": c.links,
        "keys": key_args,
        "params": c.params,
        "features": sorted(set(c.features)),
        "python": verdict,
        "python_repaired": alt,
        "sublayouts": c.sublayouts,
    })
  if gpg_home:
    subprocess.run(["gpgconf", "--homedir", gpg_home, "--kill", "gpg-agent"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  # The private keys, for the Go side to re-sign chains as DSSE envelopes.
  with open(os.path.join(args.out, "private-keys.json"), "w") as f:
    json.dump(pool.private, f)
  with open(os.path.join(args.out, "manifest.json"), "w") as f:
    json.dump({"chains": out, "seconds": time.time() - t0, "keygen_seconds": gpg_seconds,
               "gpg_home": gpg_home or "", "gpg_skip": gpg_skip,
               "private_keys": os.path.join(os.path.abspath(args.out), "private-keys.json")},
              f, indent=1)


if __name__ == "__main__":
  main()
