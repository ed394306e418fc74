package difftest

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
)

// python in-toto 1.3.1 has no DSSE. TestDifferentialDSSE converts each generated chain that has
// no OpenPGP key into DSSE envelopes (ITE-5, payload type application/vnd.in-toto+json): the
// layout, every link and every sublayout, re-signed with the same keys (the generator writes
// the private keys), a signature that did not verify in the Metablock becoming one that does
// not verify in the envelope; files that are not Metablocks are copied unchanged. tinto's
// verdict on the DSSE chain must be python's verdict on the Metablock original (up to the same
// documented deviations), and in-toto-golang's verdict on the DSSE chain must be tinto's where
// in-toto-golang is not known to be wrong.

// dsseDir is where a chain's DSSE copy is written: <chain>/dsse/{root.layout,links/}.
func dsseDir(c *genChain) string { return filepath.Join(c.Dir, "dsse") }

func dssePaths(c *genChain) (layout, links string) {
	return filepath.Join(dsseDir(c), "root.layout"), filepath.Join(dsseDir(c), "links")
}

// errNotConvertible marks a chain the test cannot re-sign (a signature by a key whose private
// half it does not have, such as an OpenPGP key).
var errNotConvertible = errors.New("not convertible to DSSE")

// loadSigners reads the generator's private keys (keyid -> securesystemslib private key dict)
// and returns a signer for each, known by the generator's keyid.
func loadSigners(path string) (map[string]*keys.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var dicts map[string]map[string]any
	if err := json.Unmarshal(raw, &dicts); err != nil {
		return nil, err
	}
	out := make(map[string]*keys.Signer, len(dicts))
	for keyid, d := range dicts {
		s, err := sslibSigner(keyid, d)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", keyid, err)
		}
		out[keyid] = s
	}
	return out, nil
}

// sslibSigner makes a signer from a securesystemslib private key dict: RSA and ECDSA private
// keys are PEM (PKCS #1 / SEC 1 or PKCS #8), Ed25519 private keys the hex seed.
func sslibSigner(keyid string, d map[string]any) (*keys.Signer, error) {
	keyval, _ := d["keyval"].(map[string]any)
	privText, _ := keyval["private"].(string)
	scheme, _ := d["scheme"].(string)
	if privText == "" {
		return nil, errors.New("no private key")
	}
	var priv crypto.Signer
	if d["keytype"] == "ed25519" {
		seed, err := hex.DecodeString(privText)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("ed25519 private key: %v", err)
		}
		priv = ed25519.NewKeyFromSeed(seed)
	} else {
		block, _ := pem.Decode([]byte(privText))
		if block == nil {
			return nil, errors.New("private key is not PEM")
		}
		var k any
		var err error
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, err
		}
		var ok bool
		if priv, ok = k.(crypto.Signer); !ok {
			return nil, fmt.Errorf("%T is not a signer", k)
		}
	}
	s, err := keys.NewSigner(priv, scheme)
	if err != nil {
		return nil, err
	}
	// The public key as the generator's layouts carry it, so that signatures name its keyid.
	pub := map[string]any{"keytype": d["keytype"], "scheme": scheme, "keyval": map[string]any{"public": keyval["public"]}}
	if algs, ok := d["keyid_hash_algorithms"]; ok {
		pub["keyid_hash_algorithms"] = algs
	}
	k, err := keys.FromSSLib(keyid, pub)
	if err != nil {
		return nil, err
	}
	s.Key = k
	return s, nil
}

// toDSSE converts a Metablock document into a DSSE envelope whose payload is its "signed"
// value, with one signature per Metablock signature by the same key: valid if the original
// verified over the canonical JSON of "signed", invalid (a corrupted valid one) otherwise.
// A document that is not a Metablock of a link or layout is returned unchanged (ok false).
func toDSSE(data []byte, signers map[string]*keys.Signer) (out []byte, ok bool, err error) {
	var mb struct {
		Signed     json.RawMessage `json:"signed"`
		Signatures []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if json.Unmarshal(data, &mb) != nil || len(mb.Signed) == 0 {
		return data, false, nil
	}
	var head struct {
		Type string `json:"_type"`
	}
	if json.Unmarshal(mb.Signed, &head) != nil || (head.Type != "link" && head.Type != "layout") {
		return data, false, nil
	}
	canon, err := cjson.CanonicalBytes(mb.Signed, cjson.Limits{})
	if err != nil {
		return nil, false, err
	}
	var payload bytes.Buffer
	if err := json.Compact(&payload, mb.Signed); err != nil {
		return nil, false, err
	}
	pae := cjson.PAE(intoto.PayloadType, payload.Bytes())
	sigs := []any{}
	for _, ms := range mb.Signatures {
		s := signers[ms.KeyID]
		if s == nil {
			return nil, false, fmt.Errorf("%w: a signature by key %s", errNotConvertible, ms.KeyID)
		}
		raw, derr := hex.DecodeString(ms.Sig)
		valid := derr == nil && s.Key.Verify(canon, keys.Signature{KeyID: ms.KeyID, Sig: raw}) == nil
		sig, err := s.Sign(pae)
		if err != nil {
			return nil, false, err
		}
		if !valid {
			sig.Sig[len(sig.Sig)/2] ^= 0x55
		}
		sigs = append(sigs, map[string]any{"keyid": ms.KeyID, "sig": base64.StdEncoding.EncodeToString(sig.Sig)})
	}
	out, err = json.Marshal(map[string]any{
		"payloadType": intoto.PayloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload.Bytes()),
		"signatures":  sigs,
	})
	return out, err == nil, err
}

// convertChain writes the DSSE copy of chain c and returns how many documents it converted.
func convertChain(c *genChain, signers map[string]*keys.Signer) (int, error) {
	layout, links := dssePaths(c)
	if err := os.MkdirAll(links, 0o755); err != nil {
		return 0, err
	}
	n := 0
	convert := func(src, dst string) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		out, ok, err := toDSSE(data, signers)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		if ok {
			n++
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, out, 0o644)
	}
	if err := convert(c.Layout, layout); err != nil {
		return n, err
	}
	err := filepath.WalkDir(c.LinkDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(c.LinkDir, p)
		if err != nil {
			return err
		}
		return convert(p, filepath.Join(links, rel))
	})
	return n, err
}

var (
	dsseOnce   sync.Once
	dsseChains *manifest // the chains with a DSSE copy
	dsseErr    string
	dsseStats  string
)

// dsseManifest converts the generated chains once per test binary and returns those that
// have a DSSE copy.
func dsseManifest(t *testing.T) *manifest {
	t.Helper()
	m := chains(t)
	dsseOnce.Do(func() {
		start := time.Now()
		signers, err := loadSigners(m.PrivateKeys)
		if err != nil {
			dsseErr = "loading the generator's private keys: " + err.Error()
			return
		}
		errs := make([]error, len(m.Chains))
		docs := make([]int, len(m.Chains))
		work := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					docs[i], errs[i] = convertChain(&m.Chains[i], signers)
				}
			}()
		}
		out := &manifest{Seconds: m.Seconds}
		skipped, total := 0, 0
		for i := range m.Chains {
			c := &m.Chains[i]
			if c.GenError != "" || c.chain().Has("key-gpg") {
				errs[i] = errNotConvertible
				continue
			}
			work <- i
		}
		close(work)
		wg.Wait()
		for i := range m.Chains {
			switch {
			case errs[i] == nil:
				out.Chains = append(out.Chains, m.Chains[i])
				total += docs[i]
			case errors.Is(errs[i], errNotConvertible):
				skipped++
			default:
				dsseErr = fmt.Sprintf("chain %d: converting to DSSE: %v", m.Chains[i].Seed, errs[i])
				return
			}
		}
		dsseChains = out
		dsseStats = fmt.Sprintf("converted %d chains (%d documents) to DSSE in %v; %d chains not converted (OpenPGP keys)",
			len(out.Chains), total, time.Since(start).Round(time.Millisecond), skipped)
	})
	if dsseErr != "" {
		t.Fatal(dsseErr)
	}
	return dsseChains
}

// TestDifferentialDSSE verifies the DSSE copies of the generated chains with tinto (compared
// with python's verdict on the Metablock originals) and with in-toto-golang (compared with
// tinto's verdict on the DSSE copies).
func TestDifferentialDSSE(t *testing.T) {
	m := dsseManifest(t)
	t.Log(dsseStats)
	bin := tintoBinary(t)
	start := time.Now()
	ours := runAll(m, func(c *genChain) Verdict {
		l, d := dssePaths(c)
		return verifyCLIAt(bin, c, l, d)
	})
	t.Logf("tinto verified %d DSSE chains in %v", len(ours), time.Since(start).Round(time.Millisecond))
	t.Run("python", func(t *testing.T) {
		report(t, "python (Metablock original)", ours, func(o *outcome) {
			o.deviation = Classify(o.c.chain(), o.py, o.ours)
		}, Agree)
	})
	t.Run("golang", func(t *testing.T) {
		restore := quietStdout()
		golang := runAll(m, func(c *genChain) Verdict {
			if c.chain().Has("inspection") {
				return Verdict{Class: "skipped", Msg: golangInspections}
			}
			l, d := dssePaths(c)
			return verifyGolangAt(c, l, d)
		})
		restore()
		outs := make([]outcome, len(golang))
		for i := range golang {
			outs[i] = outcome{c: golang[i].c, py: golang[i].ours, ours: ours[i].ours}
		}
		report(t, "in-toto-golang (DSSE)", outs, func(o *outcome) {
			o.deviation = golangExclusion(o.c)
			if o.deviation == "" {
				o.deviation = Classify(o.c.chain(), o.py, o.ours)
			}
		}, func(_ Chain, g, ours Verdict) bool { return g.OK == ours.OK })
	})
}

// TestToDSSE checks the Metablock-to-DSSE conversion the DSSE comparison relies on: the payload
// is the signed value, a valid signature stays valid over the PAE, an invalid one stays invalid,
// other files are left alone, and a signature by an unknown key makes the chain unconvertible.
func TestToDSSE(t *testing.T) {
	good, err := keys.GenerateEd25519(nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := keys.GenerateECDSA(elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	signed := (&intoto.Link{Name: "build"}).Signed()
	mb, err := intoto.SignMetablock(signed, good, bad)
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the second signature.
	var doc map[string]any
	if err := json.Unmarshal(mb, &doc); err != nil {
		t.Fatal(err)
	}
	sig := doc["signatures"].([]any)[1].(map[string]any)
	raw, _ := hex.DecodeString(sig["sig"].(string))
	raw[len(raw)/2] ^= 1
	sig["sig"] = hex.EncodeToString(raw)
	mb, _ = json.Marshal(doc)

	signers := map[string]*keys.Signer{good.Key.KeyID: good, bad.Key.KeyID: bad}
	out, ok, err := toDSSE(mb, signers)
	if err != nil || !ok {
		t.Fatalf("toDSSE: ok=%v err=%v", ok, err)
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cjson.Canonical(signed)
	if got, err := cjson.CanonicalBytes(payload, cjson.Limits{}); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("payload %s (err %v), want the signed value %s", payload, err, want)
	}
	if env.PayloadType != intoto.PayloadType || len(env.Signatures) != 2 {
		t.Fatalf("envelope %s", out)
	}
	pae := cjson.PAE(env.PayloadType, payload)
	for i, s := range []*keys.Signer{good, bad} {
		sigBytes, _ := base64.StdEncoding.DecodeString(env.Signatures[i].Sig)
		err := s.Key.Verify(pae, keys.Signature{KeyID: env.Signatures[i].KeyID, Sig: sigBytes})
		if env.Signatures[i].KeyID != s.Key.KeyID || (err == nil) != (i == 0) {
			t.Errorf("signature %d: keyid %s, verify error %v (want valid: %v)", i, env.Signatures[i].KeyID, err, i == 0)
		}
	}

	for _, other := range []string{"{not json", `[]`, `{"signed": {"_type": "other"}, "signatures": []}`, ``} {
		out, ok, err := toDSSE([]byte(other), signers)
		if err != nil || ok || string(out) != other {
			t.Errorf("toDSSE(%q) = %q, %v, %v; want it unchanged", other, out, ok, err)
		}
	}
	if _, _, err := toDSSE(mb, map[string]*keys.Signer{good.Key.KeyID: good}); !errors.Is(err, errNotConvertible) {
		t.Errorf("a signature by an unknown key: %v, want errNotConvertible", err)
	}
}
