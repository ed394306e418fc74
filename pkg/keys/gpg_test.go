package keys

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// gpgHome is a throwaway GnuPG home with generated keys.
type gpgHome struct {
	t    *testing.T
	gpg  string
	home string
}

func newGPGHome(t *testing.T) *gpgHome {
	t.Helper()
	if testing.Short() {
		t.Skip("runs gpg; skipped in -short mode")
	}
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("no gpg")
	}
	// gpg-agent's socket path must be short: use a short temp dir.
	home, err := os.MkdirTemp("", "tgpg")
	if err != nil {
		t.Fatal(err)
	}
	g := &gpgHome{t: t, gpg: gpg, home: home}
	t.Cleanup(func() {
		if gc, err := exec.LookPath("gpgconf"); err == nil {
			cmd := exec.Command(gc, "--kill", "all")
			cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
			_ = cmd.Run()
		}
		os.RemoveAll(home)
	})
	return g
}

func (g *gpgHome) run(args ...string) []byte {
	g.t.Helper()
	cmd := exec.Command(g.gpg, append([]string{"--homedir", g.home, "--batch", "--passphrase", "", "--pinentry-mode", "loopback"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		g.t.Fatalf("gpg %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// genKey generates a signing key and returns its fingerprint (lowercase).
func (g *gpgHome) genKey(uid, algo string) string {
	g.run("--quick-gen-key", uid, algo, "sign", "never")
	out := g.run("--with-colons", "--list-keys", uid)
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			return strings.ToLower(f[9])
		}
	}
	g.t.Fatalf("no fingerprint for %s", uid)
	return ""
}

func (g *gpgHome) subkeyFprs(fpr string) []string {
	out := g.run("--with-colons", "--list-keys", fpr)
	var fprs []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			fprs = append(fprs, strings.ToLower(f[9]))
		}
	}
	return fprs[1:]
}

// pyGPG signs data with python securesystemslib.gpg and exports each public key as
// securesystemslib.gpg does (the dict in-toto embeds in layouts).
const pyGPG = `
import json, sys
from securesystemslib.gpg import functions as g
home, data = sys.argv[1], open(sys.argv[2], "rb").read()
out = []
for fpr in sys.argv[3:]:
    out.append({"sig": g.create_signature(data, fpr, home), "pub": g.export_pubkey(fpr, home)})
print(json.dumps(out))
`

type pyGPGEntry struct {
	Sig struct {
		KeyID        string `json:"keyid"`
		OtherHeaders string `json:"other_headers"`
		Signature    string `json:"signature"`
	} `json:"sig"`
	Pub json.RawMessage `json:"pub"`
}

func (e pyGPGEntry) signature(t *testing.T) Signature {
	t.Helper()
	oh, err := hex.DecodeString(e.Sig.OtherHeaders)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := hex.DecodeString(e.Sig.Signature)
	if err != nil {
		t.Fatal(err)
	}
	return Signature{KeyID: e.Sig.KeyID, Sig: sb, OtherHeaders: oh}
}

// TestGPGInterop makes RSA (with a signing and an encryption subkey), DSA and Ed25519 keys with
// gpg, signs with python securesystemslib.gpg, and verifies with both the exported key dict and
// the OpenPGP key as gpg exports it.
func TestGPGInterop(t *testing.T) {
	needPython(t)
	g := newGPGHome(t)
	rsaFpr := g.genKey("tinto rsa <rsa@example.com>", "rsa2048")
	g.run("--quick-add-key", rsaFpr, "rsa2048", "sign")
	g.run("--quick-add-key", rsaFpr, "cv25519", "encr")
	dsaFpr := g.genKey("tinto dsa <dsa@example.com>", "dsa2048")
	edFpr := g.genKey("tinto ed25519 <ed@example.com>", "ed25519")

	msg := []byte(`{"_type":"link","name":"step"}`)
	data := filepath.Join(g.home, "data")
	if err := os.WriteFile(data, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	var entries []pyGPGEntry
	if err := json.Unmarshal(runPython(t, pyGPG, g.home, data, rsaFpr, dsaFpr, edFpr), &entries); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, fpr, method string
		subkeys           int
	}{
		{"rsa", rsaFpr, SchemePGPRSA, 1},
		{"dsa", dsaFpr, SchemePGPDSA, 0},
		{"ed25519", edFpr, SchemePGPEd25519, 0},
	}
	var fromDict []*Key
	for i, c := range cases {
		e := entries[i]
		t.Run(c.name, func(t *testing.T) {
			tree, err := cjson.Decode(e.Pub, cjson.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			k, err := FromSSLib(c.fpr, tree)
			if err != nil {
				t.Fatalf("FromSSLib: %v", err)
			}
			fromDict = append(fromDict, k)
			// The declared keyid is checked against the fingerprint computed from the dict.
			forged, _ := cjson.Decode(e.Pub, cjson.Limits{})
			forged.(map[string]any)["creation_time"] = json.Number("1600000000")
			if _, err := FromSSLib(c.fpr, forged); !errors.Is(err, verr.ErrInvalidInput) {
				t.Errorf("forged creation_time: got %v, want InputError", err)
			}
			if k.KeyID != c.fpr || k.Scheme != c.method {
				t.Errorf("key %s %s, want %s %s", k.KeyID, k.Scheme, c.fpr, c.method)
			}
			if got := len(k.SubkeyIDs()); got != c.subkeys {
				t.Errorf("%d subkeys, want %d", got, c.subkeys)
			}
			sig := e.signature(t)
			if !k.Owns(sig.KeyID) {
				t.Errorf("key does not own signature keyid %s", sig.KeyID)
			}
			if c.subkeys > 0 && sig.KeyID == c.fpr {
				t.Errorf("gpg signed with the primary key; expected its signing subkey")
			}
			if err := k.Verify(msg, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := k.VerifyAt(msg, sig, time.Now()); err != nil {
				t.Fatalf("VerifyAt: %v", err)
			}
			// Tampering with the message, the headers or the signature fails.
			tampered := []struct {
				name string
				msg  []byte
				sig  Signature
			}{
				{"message", append(append([]byte(nil), msg...), ' '), sig},
				{"headers", msg, func() Signature { s := sig; s.OtherHeaders = flipLast(s.OtherHeaders); return s }()},
				{"signature", msg, func() Signature { s := sig; s.Sig = flipLast(s.Sig); return s }()},
				{"no headers", msg, func() Signature { s := sig; s.OtherHeaders = nil; return s }()},
				{"keyid", msg, func() Signature { s := sig; s.KeyID = strings.Repeat("0", 40); return s }()},
			}
			for _, tc := range tampered {
				if err := k.Verify(tc.msg, tc.sig); !errors.Is(err, verr.BadSignature) {
					t.Errorf("tampered %s: got %v, want BadSignature", tc.name, err)
				}
			}

			// The same key as gpg exports it, armored and binary.
			for _, armor := range []bool{false, true} {
				args := []string{"--export", c.fpr}
				if armor {
					args = append([]string{"--armor"}, args...)
				}
				ok, err := ParseOpenPGP(g.run(args...))
				if err != nil {
					t.Fatalf("ParseOpenPGP(armor=%v): %v", armor, err)
				}
				if ok.KeyID != c.fpr {
					t.Errorf("OpenPGP keyid %s, want %s", ok.KeyID, c.fpr)
				}
				if err := ok.Verify(msg, sig); err != nil {
					t.Errorf("OpenPGP key Verify: %v", err)
				}
				// Our dict equals python's export.
				got, err := cjson.Canonical(roundTrip(t, ok.SSLib()))
				if err != nil {
					t.Fatal(err)
				}
				want, err := cjson.Canonical(tree)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("SSLib dict differs from python's export:\n got %s\nwant %s", got, want)
				}
			}
			// LoadGPG finds the key by fingerprint and by a subkey's fingerprint.
			ids := append([]string{c.fpr}, g.subkeyFprs(c.fpr)...)
			for _, id := range ids {
				lk, err := LoadGPG(context.Background(), id, GPGOptions{Program: g.gpg, Home: g.home})
				if c.name == "rsa" && id == ids[len(ids)-1] {
					// The encryption subkey is not a securesystemslib key.
					if err == nil {
						t.Errorf("LoadGPG(encryption subkey) succeeded")
					}
					continue
				}
				if err != nil {
					t.Fatalf("LoadGPG(%s): %v", id, err)
				}
				if lk.KeyID != c.fpr {
					t.Errorf("LoadGPG(%s) = %s", id, lk.KeyID)
				}
			}
		})
	}
	// A signature by one key does not verify with another.
	if len(fromDict) == 3 {
		sig := entries[0].signature(t)
		sig.KeyID = ""
		for _, k := range fromDict[1:] {
			if err := k.Verify(msg, sig); !errors.Is(err, verr.BadSignature) {
				t.Errorf("%s verified %s's signature: %v", k.KeyID, cases[0].fpr, err)
			}
		}
	}
}

func flipLast(b []byte) []byte {
	c := append([]byte(nil), b...)
	if len(c) > 0 {
		c[len(c)-1] ^= 0x01
	}
	return c
}

// roundTrip turns a Go map into a cjson value tree.
func roundTrip(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cjson.Decode(b, cjson.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// TestGPGExpiry checks that an OpenPGP key's validity period is kept, exported like python's,
// and enforced by VerifyAt at the given time only.
func TestGPGExpiry(t *testing.T) {
	needPython(t)
	g := newGPGHome(t)
	// python securesystemslib reads the expiry of RSA keys; for an Ed25519 primary key it fails to
	// verify the self-signature (it hashes the key packet with its one-octet length header) and
	// drops the expiry, a difference docs/keys.md lists.
	fpr := g.genKey("tinto expiring <x@example.com>", "rsa2048")
	g.run("--quick-set-expire", fpr, "1d")
	k, err := ParseOpenPGP(g.run("--export", fpr))
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := k.Expires(fpr)
	if !ok {
		t.Fatal("no expiry")
	}
	if d := time.Until(exp); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("expiry in %v, want about a day", d)
	}
	msg := []byte("expiring")
	data := filepath.Join(g.home, "data")
	if err := os.WriteFile(data, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	var entries []pyGPGEntry
	if err := json.Unmarshal(runPython(t, pyGPG, g.home, data, fpr), &entries); err != nil {
		t.Fatal(err)
	}
	tree, err := cjson.Decode(entries[0].Pub, cjson.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := cjson.Canonical(roundTrip(t, k.SSLib()))
	want, _ := cjson.Canonical(tree)
	if !bytes.Equal(got, want) {
		t.Errorf("SSLib dict differs from python's export:\n got %s\nwant %s", got, want)
	}
	dk, err := FromSSLib(fpr, tree)
	if err != nil {
		t.Fatal(err)
	}
	sig := entries[0].signature(t)
	for _, key := range []*Key{k, dk} {
		if err := key.VerifyAt(msg, sig, time.Now()); err != nil {
			t.Errorf("VerifyAt(now): %v", err)
		}
		if err := key.VerifyAt(msg, sig, time.Now().Add(48*time.Hour)); !errors.Is(err, verr.Expired) {
			t.Errorf("VerifyAt(in two days): got %v, want Expired", err)
		}
		if err := key.Verify(msg, sig); err != nil {
			t.Errorf("Verify (no clock): %v", err)
		}
	}
}

// TestGPGRevoked checks that a revoked OpenPGP key is refused.
func TestGPGRevoked(t *testing.T) {
	g := newGPGHome(t)
	fpr := g.genKey("tinto revoked <rev@example.com>", "ed25519")
	rev, err := os.ReadFile(filepath.Join(g.home, "openpgp-revocs.d", strings.ToUpper(fpr)+".rev"))
	if err != nil {
		t.Skipf("no revocation certificate: %v", err)
	}
	// gpg writes the certificate with its BEGIN line prefixed by ':' so it is not imported by
	// accident.
	cert := strings.Replace(string(rev), ":-----BEGIN", "-----BEGIN", 1)
	path := filepath.Join(g.home, "rev.asc")
	if err := os.WriteFile(path, []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	g.run("--import", path)
	_, err = ParseOpenPGP(g.run("--export", fpr))
	if !errors.Is(err, verr.ErrInvalidInput) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked key: got %v", err)
	}
}
