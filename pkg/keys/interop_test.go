package keys

import (
	"bytes"
	"crypto/elliptic"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// These tests check interoperability with python securesystemslib (as shipped with python in-toto
// 1.3.1) and GnuPG, when they are installed. Keys and signatures are made at test time.

const systemPython = "/usr/bin/python3"

// needPython skips the test unless /usr/bin/python3 can import securesystemslib and in_toto.
func needPython(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python; skipped in -short mode")
	}
	if _, err := os.Stat(systemPython); err != nil {
		t.Skip("no " + systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import securesystemslib, in_toto").CombinedOutput(); err != nil {
		t.Skipf("python securesystemslib/in_toto not importable: %v: %s", err, out)
	}
}

func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(systemPython, append([]string{"-c", script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return out
}

// pyLoadSign loads public key files the way in-toto-verify -k/-t does and private key files the
// way in-toto-run --key/--key-type does, signs data with each private key, and prints, for each
// public key, its keyid and the signature.
const pyLoadSign = `
import json, sys
from securesystemslib import interface, keys
data = open(sys.argv[1], "rb").read()
out = []
for spec in sys.argv[2:]:
    typ, pub, priv = spec.split(":")
    k = interface.import_publickeys_from_file([pub], [typ])
    (keyid, key), = k.items()
    entry = {"keyid": keyid, "key": key}
    if priv:
        sk = interface.import_privatekey_from_file(priv, key_type=typ)
        entry["sig"] = keys.create_signature(sk, data)
    out.append(entry)
print(json.dumps(out))
`

// pyVerify verifies a signature with a public key file loaded as in-toto-verify does.
const pyVerify = `
import json, sys
from securesystemslib import interface, keys
data = open(sys.argv[1], "rb").read()
res = []
for spec in sys.argv[2:]:
    typ, pub, keyid, sighex = spec.split(":")
    (kid, key), = interface.import_publickeys_from_file([pub], [typ]).items()
    ok = kid == keyid and keys.verify_signature(key, {"keyid": keyid, "sig": sighex}, data)
    res.append(bool(ok))
print(json.dumps(res))
`

type pyEntry struct {
	KeyID string         `json:"keyid"`
	Key   map[string]any `json:"key"`
	Sig   *struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"sig"`
}

// TestPythonKeygenInterop generates keys with in-toto-keygen, loads them as in-toto-verify
// does, and checks that tinto computes the same keyids and verifies python's signatures.
func TestPythonKeygenInterop(t *testing.T) {
	needPython(t)
	keygen, err := exec.LookPath("in-toto-keygen")
	if err != nil {
		t.Skip("no in-toto-keygen")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	msg := []byte("signed by python securesystemslib\n")
	if err := os.WriteFile(data, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	var specs []string
	types := []string{"rsa", "ed25519", "ecdsa"}
	for _, typ := range types {
		base := filepath.Join(dir, typ)
		args := []string{"-t", typ, base}
		if typ == "rsa" {
			args = []string{"-t", typ, "-b", "2048", base}
		}
		if out, err := exec.Command(keygen, args...).CombinedOutput(); err != nil {
			t.Fatalf("in-toto-keygen %s: %v\n%s", typ, err, out)
		}
		specs = append(specs, typ+":"+base+".pub:"+base)
	}
	var entries []pyEntry
	if err := json.Unmarshal(runPython(t, pyLoadSign, append([]string{data}, specs...)...), &entries); err != nil {
		t.Fatal(err)
	}
	for i, typ := range types {
		e := entries[i]
		t.Run(typ, func(t *testing.T) {
			k, err := Load(filepath.Join(dir, typ+".pub"), typ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if k.KeyID != e.KeyID {
				t.Errorf("keyid %s, python %s", k.KeyID, e.KeyID)
			}
			sigBytes, err := hex.DecodeString(e.Sig.Sig)
			if err != nil {
				t.Fatal(err)
			}
			sig := Signature{KeyID: e.Sig.KeyID, Sig: sigBytes}
			if err := k.Verify(msg, sig); err != nil {
				t.Errorf("Verify python signature: %v", err)
			}
			if err := k.Verify(append(msg, 'x'), sig); !errors.Is(err, verr.BadSignature) {
				t.Errorf("tampered: %v", err)
			}
			// The key dict as python embeds it in a layout, through our strict decoder.
			raw, _ := json.Marshal(e.Key)
			tree, err := cjson.Decode(raw, cjson.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			k2, err := FromSSLib(e.KeyID, tree)
			if err != nil {
				t.Fatalf("FromSSLib(python dict): %v", err)
			}
			if err := k2.Verify(msg, sig); err != nil {
				t.Errorf("Verify via python dict: %v", err)
			}
			// The private key files load too (their public part).
			if typ != "rsa" {
				kp, err := Load(filepath.Join(dir, typ), typ)
				if err != nil {
					t.Fatalf("Load private key file: %v", err)
				}
				if kp.KeyID != e.KeyID {
					t.Errorf("private file keyid %s, want %s", kp.KeyID, e.KeyID)
				}
			} else {
				kp, err := Load(filepath.Join(dir, typ), typ)
				if err != nil || kp.KeyID != e.KeyID {
					t.Errorf("private PEM: %v, keyid %v", err, kp)
				}
			}
		})
	}
}

// TestPythonLoadsOurKeys writes tinto-generated keys in the formats in-toto-keygen uses, has
// python load them (public as in-toto-verify, private as in-toto-run), and checks keyids and
// signatures both ways.
func TestPythonLoadsOurKeys(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	msg := []byte("signed by tinto\n")
	if err := os.WriteFile(data, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	signers := map[string]*Signer{}
	var err error
	if signers["rsa"], err = GenerateRSA(2048); err != nil {
		t.Fatal(err)
	}
	if signers["ed25519"], err = GenerateEd25519(nil); err != nil {
		t.Fatal(err)
	}
	if signers["ecdsa"], err = GenerateECDSA(elliptic.P256()); err != nil {
		t.Fatal(err)
	}
	types := []string{"rsa", "ed25519", "ecdsa"}
	var loadSpecs, verifySpecs []string
	for _, typ := range types {
		s := signers[typ]
		base := filepath.Join(dir, typ)
		var pub, priv []byte
		if typ == "rsa" {
			pub, err = s.Key.MarshalPEM()
			if err == nil {
				priv, err = s.MarshalPrivatePEM()
			}
		} else {
			pub, err = s.Key.MarshalSSLib()
			if err == nil {
				priv, err = s.MarshalSSLibPrivate()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".pub", pub, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base, priv, 0o600); err != nil {
			t.Fatal(err)
		}
		sig, err := s.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		loadSpecs = append(loadSpecs, typ+":"+base+".pub:"+base)
		verifySpecs = append(verifySpecs, typ+":"+base+".pub:"+s.Key.KeyID+":"+hex.EncodeToString(sig.Sig))
	}
	var entries []pyEntry
	if err := json.Unmarshal(runPython(t, pyLoadSign, append([]string{data}, loadSpecs...)...), &entries); err != nil {
		t.Fatal(err)
	}
	for i, typ := range types {
		s := signers[typ]
		if entries[i].KeyID != s.Key.KeyID {
			t.Errorf("%s: python keyid %s, ours %s", typ, entries[i].KeyID, s.Key.KeyID)
		}
		if entries[i].Sig.KeyID != s.Key.KeyID {
			t.Errorf("%s: python signs our private key file as %s, want %s", typ, entries[i].Sig.KeyID, s.Key.KeyID)
		}
		sb, _ := hex.DecodeString(entries[i].Sig.Sig)
		if err := s.Key.Verify(msg, Signature{KeyID: entries[i].Sig.KeyID, Sig: sb}); err != nil {
			t.Errorf("%s: python's signature with our private key: %v", typ, err)
		}
	}
	var ok []bool
	if err := json.Unmarshal(runPython(t, pyVerify, append([]string{data}, verifySpecs...)...), &ok); err != nil {
		t.Fatal(err)
	}
	for i, typ := range types {
		if !ok[i] {
			t.Errorf("%s: python does not verify our signature", typ)
		}
	}
}

// TestPythonKeyID checks KeyID against securesystemslib's own _get_keyid for odd inputs.
func TestPythonKeyID(t *testing.T) {
	needPython(t)
	const script = `
import json, sys
from securesystemslib import keys
cases = json.loads(sys.stdin.read())
print(json.dumps([keys._get_keyid(c[0], c[1], {"public": c[2]}) for c in cases]))
`
	cases := [][3]string{
		{"ed25519", "ed25519", strings.Repeat("ab", 32)},
		{"rsa", "rsassa-pss-sha256", "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"},
		{"ecdsa", "ecdsa-sha2-nistp256", "quote \" backslash \\ unicode é ☃ \U0001F600 tab\t nl\n"},
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(systemPython, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		got, err := KeyID(c[0], c[1], c[2], DefaultKeyIDHashAlgorithms())
		if err != nil {
			t.Fatal(err)
		}
		if got != want[i] {
			t.Errorf("case %d: keyid %s, python %s", i, got, want[i])
		}
	}
}
