package difftest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The supply chain of TestCLIChain, made with python in-toto's CLIs: in-toto-keygen for
// the RSA (layout owner), Ed25519 and ECDSA keys, gpg for an RSA key that signs with a subkey, a
// DSA key and an Ed25519 key, in-toto-run for every link, and python in-toto's layout API for
// the layout (1.3.1 has no layout CLI). Without gpg, the gpg roles use in-toto-keygen keys.
//
//	write-code  alice  ed25519 (in-toto-keygen)
//	build       bob    gpg RSA primary key, the link signed by its signing subkey
//	test        dave   gpg DSA
//	package     carol  ecdsa (in-toto-keygen) and erin gpg Ed25519, threshold 2
const cliKeysScript = `set -e
in-toto-keygen -t rsa owner >/dev/null
in-toto-keygen -t ed25519 other >/dev/null
in-toto-keygen -t ed25519 alice >/dev/null
in-toto-keygen -t ecdsa carol >/dev/null
if [ "$NOGPG" = 1 ]; then
  in-toto-keygen -t rsa bob >/dev/null
  in-toto-keygen -t ecdsa dave >/dev/null
  in-toto-keygen -t ed25519 erin >/dev/null
  exit 0
fi
mkdir -m 700 "$GNUPGHOME"
fpr() { gpg --list-keys --with-colons "$1" | awk -F: '/^fpr/{print $10; exit}'; }
gpg --batch --passphrase '' --quick-gen-key 'Bob <bob@example.org>' rsa2048 cert never 2>/dev/null
B=$(fpr Bob)
gpg --batch --passphrase '' --quick-add-key "$B" rsa2048 sign never 2>/dev/null
BS=$(gpg --list-keys --with-colons Bob | awk -F: '/^fpr/{f=$10} END{print f}')
gpg --batch --passphrase '' --quick-gen-key 'Dave <dave@example.org>' dsa2048 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key 'Erin <erin@example.org>' ed25519 sign never 2>/dev/null
echo "$B $BS $(fpr Dave) $(fpr Erin)" > fprs
`

// cliRunScript runs one step as its functionary(ies): run.sh STEP FUNCTIONARY ARGS... -- CMD.
const cliRunScript = `set -e
step=$1; who=$2; shift 2
if [ "$NOGPG" = 1 ]; then
  case $who in
    alice|erin) exec in-toto-run -n "$step" -k ../alice -t ed25519 -d ../links "$@" ;;
  esac
fi
case $who in
  alice) exec in-toto-run -n "$step" -k ../alice -t ed25519 -d ../links "$@" ;;
  carol) exec in-toto-run -n "$step" -k ../carol -t ecdsa -d ../links "$@" ;;
esac
if [ "$NOGPG" = 1 ]; then
  case $who in
    bob) exec in-toto-run -n "$step" -k ../bob -t rsa -d ../links "$@" ;;
    dave) exec in-toto-run -n "$step" -k ../dave -t ecdsa -d ../links "$@" ;;
  esac
fi
read B BS D E < ../fprs
case $who in
  bob) exec in-toto-run -n "$step" -g "$BS" --gpg-home "$GNUPGHOME" -d ../links "$@" ;;
  dave) exec in-toto-run -n "$step" -g "$D" --gpg-home "$GNUPGHOME" -d ../links "$@" ;;
  erin) exec in-toto-run -n "$step" -g "$E" --gpg-home "$GNUPGHOME" -d ../links "$@" ;;
esac
echo "unknown functionary $who" >&2; exit 1
`

// cliChainScript records the four steps in work/, links in links/.
const cliChainScript = `set -e
mkdir -p work links
cd work
mkdir -p src
echo 'print("hello")' > src/foo.py
echo '# foo' > README.md
sh ../run.sh write-code alice -p src README.md -- true
sh ../run.sh build bob -m src -p build -- sh -c 'mkdir -p build && cp src/foo.py build/foo.bin'
sh ../run.sh test dave -m build -- true
sh ../run.sh package carol -m build -p foo.tar.gz -- tar czf foo.tar.gz build
sh ../run.sh package erin -m build -p foo.tar.gz -- true
`

// cliLayoutScript writes the layout: layout.py EXPIRES OUT.
const cliLayoutScript = `import os, sys
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Metablock
from securesystemslib import interface
expires, out = sys.argv[1:3]
nogpg = os.environ.get("NOGPG") == "1"
l = Layout()
l.expires = expires
alice = l.add_functionary_key(interface.import_ed25519_publickey_from_file("alice.pub"))
carol = l.add_functionary_key(interface.import_ecdsa_publickey_from_file("carol.pub"))
if nogpg:
  bob = l.add_functionary_key(interface.import_rsa_publickey_from_file("bob.pub"))["keyid"]
  dave = l.add_functionary_key(interface.import_ecdsa_publickey_from_file("dave.pub"))["keyid"]
  erin = alice["keyid"]
else:
  b, bs, d, e = open("fprs").read().split()
  for k in (b, d, e):
    l.add_functionary_key_from_gpg_keyid(k, gpg_home=os.environ["GNUPGHOME"])
  bob, dave, erin = b.lower(), d.lower(), e.lower()
def step(name, keys, threshold, mats, prods):
  s = Step(name=name)
  s.pubkeys = keys
  s.threshold = threshold
  for r in mats: s.add_material_rule_from_string(r)
  for r in prods: s.add_product_rule_from_string(r)
  l.steps.append(s)
step("write-code", [alice["keyid"]], 1, [], ["CREATE src/*", "CREATE README.md", "DISALLOW *"])
step("build", [bob], 1, ["MATCH src/* WITH PRODUCTS FROM write-code", "DISALLOW *"],
     ["CREATE build/*", "DISALLOW *"])
step("test", [dave], 1, ["MATCH * WITH PRODUCTS FROM build", "DISALLOW *"], ["DISALLOW *"])
step("package", [carol["keyid"], erin], 1 if nogpg else 2,
     ["MATCH build/* WITH PRODUCTS FROM build", "DISALLOW *"], ["CREATE foo.tar.gz", "DISALLOW *"])
m = Metablock(signed=l)
m.sign(interface.import_rsa_privatekey_from_file("owner"))
m.dump(out)
`

// cliVariant is a change to the base chain (made in a copy of it) and the expected outcome.
type cliVariant struct {
	name string
	// script runs in the variant's directory (a copy of the base chain) before verification.
	script string
	// key is the layout key file (default owner.pub, an RSA key) and keyType its -t value;
	// layout is the layout file (default root.layout).
	key, keyType, layout string
	// want is "" (verified) or the tinto reason; pyExc is python's exception class.
	want, pyExc string
	gpgOnly     bool
}

var cliVariants = []cliVariant{
	{name: "untouched"},
	{
		name: "tampered-artifact", want: "rule-failed", pyExc: "RuleVerificationError",
		// build/foo.bin changes after the build step recorded it; the packagers record it again.
		script: `cd work && echo evil > build/foo.bin && rm ../links/package.* &&
sh ../run.sh package carol -m build -p foo.tar.gz -- tar czf foo.tar.gz build &&
sh ../run.sh package erin -m build -p foo.tar.gz -- true`,
	},
	{name: "missing-link", want: "missing-link", pyExc: "LinkNotFoundError", script: `rm links/test.*`},
	{
		name: "threshold-one-of-two", want: "missing-link", pyExc: "LinkNotFoundError", gpgOnly: true,
		script: `read B BS D E < fprs; rm links/package.$(echo $E | cut -c1-8 | tr A-F a-f).link`,
	},
	{
		name: "tampered-link", want: "threshold", pyExc: "ThresholdVerificationError",
		script: `sed -i 's/"src\/foo.py"/"src\/bar.py"/' links/build.*.link`,
	},
	{
		name: "link-by-unauthorised-key", want: "missing-link", pyExc: "LinkNotFoundError",
		script: `rm links/test.* && cd work && sh ../run.sh test carol -m build -- true`,
	},
	{name: "wrong-layout-key", key: "other.pub", keyType: "ed25519", want: "bad-signature", pyExc: "SignatureVerificationError"},
	{name: "expired", layout: "expired.layout", want: "expired", pyExc: "LayoutExpiredError"},
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestCLIChain builds a supply chain with python in-toto's CLIs and keys of every type
// (RSA, Ed25519, ECDSA from in-toto-keygen; RSA with a signing subkey, DSA and Ed25519 from
// gpg), then checks that tinto and in-toto-verify agree on it and on each tampered variant, and
// that tinto denies each variant with the expected reason.
func TestCLIChain(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating RSA and gpg keys takes tens of seconds")
	}
	requirePython(t)
	for _, tool := range []string{"in-toto-keygen", "in-toto-run", "in-toto-verify"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install -y in-toto)", tool)
		}
	}
	bin := tintoBinary(t)
	base := t.TempDir()
	gnupg := filepath.Join(t.TempDir(), "gh")
	env := []string{"GNUPGHOME=" + gnupg}
	useGPG := true
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Log("gpg is not installed: the gpg functionaries use in-toto-keygen keys instead")
		env = append(env, "NOGPG=1")
		useGPG = false
	} else {
		t.Cleanup(func() { exec.Command("gpgconf", "--homedir", gnupg, "--kill", "gpg-agent").Run() })
	}
	for name, body := range map[string]string{"keys.sh": cliKeysScript, "run.sh": cliRunScript, "chain.sh": cliChainScript, "layout.py": cliLayoutScript} {
		if err := os.WriteFile(filepath.Join(base, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range [][]string{
		{"sh", "keys.sh"},
		{"sh", "chain.sh"},
		{*flagPython, "layout.py", "2099-01-01T00:00:00Z", "root.layout"},
		{*flagPython, "layout.py", "2020-01-01T00:00:00Z", "expired.layout"},
	} {
		start := time.Now()
		if out, err := run(t, base, env, step[0], step[1:]...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(step, " "), err, out)
		}
		t.Logf("%s: %v", strings.Join(step, " "), time.Since(start).Round(time.Millisecond))
	}

	// The variants run one after another: they share the gpg home (and its agent).
	for _, v := range cliVariants {
		t.Run(v.name, func(t *testing.T) {
			if v.gpgOnly && !useGPG {
				t.Skip("needs gpg")
			}
			dir := filepath.Join(t.TempDir(), "chain")
			if out, err := run(t, base, nil, "cp", "-a", base, dir); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			if v.script != "" {
				if out, err := run(t, dir, env, "sh", "-c", "set -e\n"+v.script); err != nil {
					t.Fatalf("variant script: %v\n%s", err, out)
				}
			}
			key, layout := v.key, v.layout
			if key == "" {
				key = "owner.pub"
			}
			if layout == "" {
				layout = "root.layout"
			}
			args := []string{"-l", "../" + layout, "-k", "../" + key, "--link-dir", "../links"}
			if v.keyType != "" {
				args = append(args, "-t", v.keyType)
			}
			pyOut, pyErr := run(t, filepath.Join(dir, "work"), env, "in-toto-verify", args...)
			ourOut, ourErr := run(t, filepath.Join(dir, "work"), env, bin, append([]string{"intoto", "verify"}, args...)...)
			if (pyErr == nil) != (v.want == "") {
				t.Errorf("in-toto-verify: err=%v, want verified=%v\n%s", pyErr, v.want == "", pyOut)
			}
			if v.pyExc != "" && !strings.Contains(pyOut, v.pyExc) {
				t.Errorf("in-toto-verify failed without %s:\n%s", v.pyExc, pyOut)
			}
			if v.want == "" {
				if ourErr != nil {
					t.Errorf("tinto intoto verify: %v, want verified\n%s", ourErr, ourOut)
				}
				return
			}
			var ee *exec.ExitError
			if ourErr == nil || !errors.As(ourErr, &ee) || ee.ExitCode() != 1 {
				t.Errorf("tinto intoto verify: %v, want exit 1 (%s)\n%s", ourErr, v.want, ourOut)
			}
			if !strings.Contains(ourOut, "FAILED ("+v.want+")") {
				t.Errorf("tinto intoto verify: want reason %s\n%s", v.want, ourOut)
			}
		})
	}
}
