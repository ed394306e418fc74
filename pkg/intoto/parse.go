package intoto

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// PayloadType is the DSSE payload type of in-toto documents (ITE-5).
const PayloadType = "application/vnd.in-toto+json"

// Predicate types of ITE-6 statements accepted as links.
const (
	PredicateLinkV02    = "https://in-toto.io/attestation/link/v0.2"
	PredicateLinkV03    = "https://in-toto.io/attestation/link/v0.3"
	predicateLinkLegacy = "https://in-toto.io/Link/v1" // the v0.2 shape under its old URI
)

// Signature is one signature of a document, as received.
type Signature struct {
	keys.Signature
	// Cert is the PEM certificate carried with the signature (in-toto-golang's "cert"), if any.
	Cert string
}

// Envelope is a parsed, not yet verified, signed document: a Metablock or a DSSE envelope.
// It is immutable once parsed and safe for concurrent use.
type Envelope struct {
	Format Format
	// Type is the document type: "layout" or "link".
	Type string
	// Message is what the signatures sign: the canonical JSON of the received "signed" value
	// (Metablock) or the DSSE pre-authentication encoding of the payload.
	Message    []byte
	Signatures []Signature

	signed map[string]any // the signed layout or link (for a statement: the statement)
	parsed *Link          // the link, when the fast path already read it
}

// ParseEnvelope parses data as a Metablock or a DSSE envelope and returns it unverified.
// Malformed input (bad JSON, duplicate keys, over lim, wrong structure) is a *verr.InputError.
func ParseEnvelope(data []byte, lim cjson.Limits) (*Envelope, error) {
	return parseEnvelope("document", data, lim)
}

func parseEnvelope(what string, data []byte, lim cjson.Limits) (*Envelope, error) {
	tree, err := cjson.Decode(data, lim)
	if err != nil {
		return nil, wrapInput(what, err)
	}
	top, ok := tree.(map[string]any)
	if !ok {
		return nil, verr.Invalid(what, "not a JSON object")
	}
	if _, ok := top["payloadType"]; ok {
		return parseDSSE(what, top, lim)
	}
	return parseMetablock(what, top, nil)
}

func wrapInput(what string, err error) error {
	return &verr.InputError{What: what, Offset: -1, Err: err}
}

// parseMetablock reads a Metablock tree. msg, when non-nil, is the canonical JSON of
// top["signed"] already computed by the caller.
func parseMetablock(what string, top map[string]any, msg []byte) (*Envelope, error) {
	for k := range top {
		if k != "signed" && k != "signatures" {
			return nil, verr.Invalid(what, "unknown top-level field %q (expected a Metablock with \"signed\" and \"signatures\", or a DSSE envelope)", k)
		}
	}
	signed, ok := top["signed"].(map[string]any)
	if !ok {
		return nil, verr.Invalid(what, "\"signed\" is missing or not an object")
	}
	rawSigs, ok := top["signatures"].([]any)
	if !ok {
		return nil, verr.Invalid(what, "\"signatures\" is missing or not a list")
	}
	typ, _ := signed["_type"].(string)
	if typ != "layout" && typ != "link" {
		return nil, verr.Invalid(what, "signed \"_type\" must be \"layout\" or \"link\"")
	}
	var err error
	if msg == nil {
		if msg, err = cjson.Canonical(signed); err != nil {
			return nil, wrapInput(what, err)
		}
	}
	env := &Envelope{Format: FormatMetablock, Type: typ, Message: msg, signed: signed}
	for i, rs := range rawSigs {
		s, ok := rs.(map[string]any)
		if !ok {
			return nil, verr.Invalid(what, "signature %d is not an object", i)
		}
		var sig Signature
		if sig.KeyID, ok = s["keyid"].(string); !ok {
			return nil, verr.Invalid(what, "signature %d has no keyid", i)
		}
		sigHex, isSSL := s["sig"].(string)
		if !isSSL {
			// securesystemslib's GPG signature: {"keyid", "signature", "other_headers"}.
			sigHex, ok = s["signature"].(string)
			if !ok {
				return nil, verr.Invalid(what, "signature %d has neither \"sig\" nor \"signature\"", i)
			}
			oh, ok := s["other_headers"].(string)
			if !ok {
				return nil, verr.Invalid(what, "GPG signature %d has no other_headers", i)
			}
			if sig.OtherHeaders, err = hex.DecodeString(oh); err != nil {
				return nil, verr.Invalid(what, "GPG signature %d: other_headers is not hex", i)
			}
		}
		if sig.Sig, err = hex.DecodeString(sigHex); err != nil {
			return nil, verr.Invalid(what, "signature %d is not hex", i)
		}
		if c, ok := s["cert"]; ok {
			if sig.Cert, ok = c.(string); !ok {
				return nil, verr.Invalid(what, "signature %d: cert is not a string", i)
			}
		}
		env.Signatures = append(env.Signatures, sig)
	}
	return env, nil
}

func decodeB64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

func parseDSSE(what string, top map[string]any, lim cjson.Limits) (*Envelope, error) {
	for k := range top {
		if k != "payloadType" && k != "payload" && k != "signatures" {
			return nil, verr.Invalid(what, "unknown DSSE envelope field %q", k)
		}
	}
	pt, ok := top["payloadType"].(string)
	if !ok || pt != PayloadType {
		return nil, verr.Invalid(what, "DSSE payloadType must be %q", PayloadType)
	}
	p64, ok := top["payload"].(string)
	if !ok {
		return nil, verr.Invalid(what, "DSSE payload is missing or not a string")
	}
	payload, err := decodeB64(p64)
	if err != nil {
		return nil, verr.Invalid(what, "DSSE payload is not base64")
	}
	rawSigs, ok := top["signatures"].([]any)
	if !ok {
		return nil, verr.Invalid(what, "DSSE signatures missing or not a list")
	}
	env := &Envelope{Format: FormatDSSE, Message: cjson.PAE(pt, payload)}
	for i, rs := range rawSigs {
		s, ok := rs.(map[string]any)
		if !ok {
			return nil, verr.Invalid(what, "DSSE signature %d is not an object", i)
		}
		var sig Signature
		sig.KeyID, _ = s["keyid"].(string) // optional in DSSE
		if k, ok := s["keyid"]; ok {
			if _, isStr := k.(string); !isStr {
				return nil, verr.Invalid(what, "DSSE signature %d: keyid is not a string", i)
			}
		}
		s64, ok := s["sig"].(string)
		if !ok {
			return nil, verr.Invalid(what, "DSSE signature %d has no sig", i)
		}
		if sig.Sig, err = decodeB64(s64); err != nil {
			return nil, verr.Invalid(what, "DSSE signature %d is not base64", i)
		}
		if c, ok := s["cert"]; ok {
			if sig.Cert, ok = c.(string); !ok {
				return nil, verr.Invalid(what, "DSSE signature %d: cert is not a string", i)
			}
		}
		env.Signatures = append(env.Signatures, sig)
	}
	ptree, err := cjson.Decode(payload, lim)
	if err != nil {
		return nil, wrapInput(what+" payload", err)
	}
	body, ok := ptree.(map[string]any)
	if !ok {
		return nil, verr.Invalid(what, "DSSE payload is not a JSON object")
	}
	typ, _ := body["_type"].(string)
	switch {
	case typ == "layout" || typ == "link":
		env.Type = typ
	case strings.HasPrefix(typ, "https://in-toto.io/Statement/"):
		env.Format = FormatStatement
		env.Type = "link"
	default:
		return nil, verr.Invalid(what, "DSSE payload _type %q is neither a layout, a link nor an in-toto statement", typ)
	}
	env.signed = body
	return env, nil
}

// ---- field helpers --------------------------------------------------------------------------

type fields struct {
	what string
	m    map[string]any
	err  error
}

func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = verr.Invalid(f.what, format, args...)
	}
}

func (f *fields) str(name string, required bool) string {
	v, ok := f.m[name]
	if !ok {
		if required {
			f.fail("field %q is missing", name)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail("field %q is not a string", name)
	}
	return s
}

// Optional list and object fields that are JSON null are treated as absent (in-toto-golang
// writes "command": null, "materials": null for empty ones).

func (f *fields) strList(name string) []string {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	return f.asStrList(name, v)
}

func (f *fields) asStrList(name string, v any) []string {
	l, ok := v.([]any)
	if !ok {
		f.fail("field %q is not a list", name)
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			f.fail("field %q has a non-string element", name)
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (f *fields) ruleList(name string) [][]string {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		f.fail("field %q is not a list", name)
		return nil
	}
	out := make([][]string, 0, len(l))
	for _, e := range l {
		out = append(out, f.asStrList(name, e))
	}
	return out
}

func (f *fields) obj(name string) map[string]any {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.fail("field %q is not an object", name)
	}
	return m
}

func (f *fields) integer(name string, def int) int {
	v, ok := f.m[name]
	if !ok {
		return def
	}
	n, ok := v.(json.Number)
	if !ok {
		f.fail("field %q is not a number", name)
		return 0
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		f.fail("field %q is not a (32-bit) integer", name)
		return 0
	}
	return int(i)
}

func (f *fields) list(name string) []any {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		f.fail("field %q is not a list", name)
	}
	return l
}

// ---- layout ---------------------------------------------------------------------------------

var expiresRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

// ParseLayout parses a signed layout document (Metablock or DSSE) without verifying anything.
// Structure errors are *verr.InputError. The layout's semantic validity (unique names,
// thresholds, keys referenced, rule syntax) is checked by Validate.
func ParseLayout(data []byte, lim cjson.Limits) (*Layout, *Envelope, error) {
	env, err := parseEnvelope("layout", data, lim)
	if err != nil {
		return nil, nil, err
	}
	if env.Type != "layout" {
		return nil, nil, verr.Invalid("layout", "document is a %s, not a layout", env.Type)
	}
	l, err := layoutFromTree(env.signed)
	if err != nil {
		return nil, nil, err
	}
	return l, env, nil
}

func layoutFromTree(m map[string]any) (*Layout, error) {
	f := &fields{what: "layout", m: m}
	l := &Layout{}
	if f.str("_type", true) != "layout" {
		f.fail("_type is not \"layout\"")
	}
	l.ExpiresText = f.str("expires", true)
	if f.err == nil {
		if !expiresRE.MatchString(l.ExpiresText) {
			f.fail("expires %q is not of the form YYYY-MM-DDTHH:MM:SSZ", l.ExpiresText)
		} else if t, err := time.Parse(time.RFC3339, l.ExpiresText); err != nil {
			f.fail("expires %q: %v", l.ExpiresText, err)
		} else {
			l.Expires = t.UTC()
		}
	}
	l.Readme = f.str("readme", false)
	if f.err != nil {
		return nil, f.err
	}
	var err error
	if l.Keys, l.Subkeys, err = parseKeyDict("layout keys", f.obj("keys")); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	if l.RootCAs, err = parseCADict("layout rootcas", f.obj("rootcas")); err != nil {
		return nil, err
	}
	if l.IntermediateCAs, err = parseCADict("layout intermediatecas", f.obj("intermediatecas")); err != nil {
		return nil, err
	}
	for i, rs := range f.list("steps") {
		sm, ok := rs.(map[string]any)
		if !ok {
			return nil, verr.Invalid("layout", "step %d is not an object", i)
		}
		sf := &fields{what: fmt.Sprintf("layout step %d", i), m: sm}
		if sf.str("_type", true) != "step" && sf.err == nil {
			sf.fail("_type is not \"step\"")
		}
		s := Step{
			Name:              sf.str("name", true),
			Threshold:         sf.integer("threshold", 1),
			PubKeys:           sf.strList("pubkeys"),
			ExpectedCommand:   sf.strList("expected_command"),
			ExpectedMaterials: sf.ruleList("expected_materials"),
			ExpectedProducts:  sf.ruleList("expected_products"),
		}
		for j, rc := range sf.list("cert_constraints") {
			cm, ok := rc.(map[string]any)
			if !ok {
				sf.fail("cert_constraints %d is not an object", j)
				break
			}
			cf := &fields{what: sf.what + " cert_constraints", m: cm}
			s.CertConstraints = append(s.CertConstraints, CertConstraint{
				CommonName:    cf.str("common_name", false),
				DNSNames:      cf.strList("dns_names"),
				Emails:        cf.strList("emails"),
				Organizations: cf.strList("organizations"),
				Roots:         cf.strList("roots"),
				URIs:          cf.strList("uris"),
			})
			if cf.err != nil {
				return nil, cf.err
			}
		}
		if sf.err != nil {
			return nil, sf.err
		}
		l.Steps = append(l.Steps, s)
	}
	for i, ri := range f.list("inspect") {
		im, ok := ri.(map[string]any)
		if !ok {
			return nil, verr.Invalid("layout", "inspection %d is not an object", i)
		}
		inf := &fields{what: fmt.Sprintf("layout inspection %d", i), m: im}
		if inf.str("_type", true) != "inspection" && inf.err == nil {
			inf.fail("_type is not \"inspection\"")
		}
		in := Inspection{
			Name:              inf.str("name", true),
			Run:               inf.strList("run"),
			ExpectedMaterials: inf.ruleList("expected_materials"),
			ExpectedProducts:  inf.ruleList("expected_products"),
			PubKeys:           inf.strList("pubkeys"),
			Threshold:         inf.integer("threshold", 1),
		}
		if inf.err != nil {
			return nil, inf.err
		}
		l.Inspections = append(l.Inspections, in)
	}
	if f.err != nil {
		return nil, f.err
	}
	return l, nil
}

func parseKeyDict(what string, m map[string]any) (map[string]*keys.Key, map[string]string, error) {
	out := make(map[string]*keys.Key, len(m))
	sub := map[string]string{}
	for id, raw := range m {
		k, err := keys.FromSSLib(id, raw)
		if err != nil {
			return nil, nil, &verr.InputError{What: what, Offset: -1, Msg: fmt.Sprintf("key %q", id), Err: err}
		}
		out[id] = k
		if rm, ok := raw.(map[string]any); ok {
			if sk, ok := rm["subkeys"].(map[string]any); ok {
				for sid := range sk {
					sub[sid] = id
				}
			}
		}
	}
	return out, sub, nil
}

func parseCADict(what string, m map[string]any) (map[string]*x509.Certificate, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]*x509.Certificate, len(m))
	for id, raw := range m {
		km, _ := raw.(map[string]any)
		kv, _ := km["keyval"].(map[string]any)
		certPEM, _ := kv["certificate"].(string)
		c, err := parseCertPEM(certPEM)
		if err != nil {
			return nil, &verr.InputError{What: what, Offset: -1, Msg: fmt.Sprintf("CA %q", id), Err: err}
		}
		out[id] = c
	}
	return out, nil
}

func parseCertPEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(b.Bytes)
}

// ---- links ----------------------------------------------------------------------------------

// ParseLink parses a link document (Metablock, DSSE with a link payload, or DSSE with an ITE-6
// statement whose predicate is a link v0.2/v0.3) without verifying signatures. A document that
// is a layout (a sublayout) is reported as an *verr.InputError; use ParseEnvelope to tell them
// apart.
func ParseLink(data []byte, lim cjson.Limits) (*Link, *Envelope, error) {
	env, err := parseEnvelope("link", data, lim)
	if err != nil {
		return nil, nil, err
	}
	if env.Type != "link" {
		return nil, nil, verr.Invalid("link", "document is a %s, not a link", env.Type)
	}
	l, err := env.link()
	if err != nil {
		return nil, nil, err
	}
	return l, env, nil
}

// link reads the link content of env.
func (env *Envelope) link() (*Link, error) {
	if env.parsed != nil {
		return env.parsed, nil
	}
	if env.Format == FormatStatement {
		return linkFromStatement(env.signed)
	}
	return linkFromTree(env.signed)
}

// layout reads the layout content of env.
func (env *Envelope) layout() (*Layout, error) { return layoutFromTree(env.signed) }

func linkFromTree(m map[string]any) (*Link, error) {
	f := &fields{what: "link", m: m}
	if f.str("_type", true) != "link" && f.err == nil {
		f.fail("_type is not \"link\"")
	}
	l := &Link{
		Name:        f.str("name", true),
		Command:     f.strList("command"),
		Byproducts:  f.obj("byproducts"),
		Environment: f.obj("environment"),
	}
	if f.err != nil {
		return nil, f.err
	}
	var err error
	if l.Materials, err = artifactsFromMap("link materials", f.obj("materials")); err != nil {
		return nil, err
	}
	if l.Products, err = artifactsFromMap("link products", f.obj("products")); err != nil {
		return nil, err
	}
	return l, f.err
}

func artifactsFromMap(what string, m map[string]any) (rules.Artifacts, error) {
	out := make(rules.Artifacts, len(m))
	for name, v := range m {
		d, err := digests(what, name, v)
		if err != nil {
			return nil, err
		}
		out[name] = d
	}
	return out, nil
}

func digests(what, name string, v any) (rules.Digests, error) {
	if err := rules.ValidateName(name); err != nil {
		return rules.Digests{}, &verr.InputError{What: what, Offset: -1, Msg: fmt.Sprintf("artifact %q", name), Err: err}
	}
	dm, ok := v.(map[string]any)
	if !ok {
		return rules.Digests{}, verr.Invalid(what, "artifact %q: digests are not an object", name)
	}
	d := make(map[string]string, len(dm))
	for alg, hv := range dm {
		hs, ok := hv.(string)
		if !ok {
			return rules.Digests{}, verr.Invalid(what, "artifact %q: digest %q is not a hex string", name, alg)
		}
		d[alg] = hs
	}
	// NewDigests rejects a digest that is empty or not hex.
	dg, err := rules.NewDigests(d)
	if err != nil {
		return rules.Digests{}, &verr.InputError{What: what, Offset: -1, Msg: fmt.Sprintf("artifact %q", name), Err: err}
	}
	return dg, nil
}

func linkFromStatement(m map[string]any) (*Link, error) {
	f := &fields{what: "statement", m: m}
	pt := f.str("predicateType", true)
	pred := f.obj("predicate")
	if f.err != nil {
		return nil, f.err
	}
	if pred == nil {
		return nil, verr.Invalid("statement", "predicate is missing")
	}
	switch pt {
	case PredicateLinkV02, predicateLinkLegacy:
		// The v0.2 predicate is the link itself (with or without _type).
		pm := make(map[string]any, len(pred)+1)
		for k, v := range pred {
			pm[k] = v
		}
		if _, ok := pm["_type"]; !ok {
			pm["_type"] = "link"
		}
		return linkFromTree(pm)
	case PredicateLinkV03:
		pf := &fields{what: "link predicate", m: pred}
		l := &Link{
			Name:        pf.str("name", true),
			Command:     pf.strList("command"),
			Byproducts:  pf.obj("byproducts"),
			Environment: pf.obj("environment"),
		}
		if pf.err != nil {
			return nil, pf.err
		}
		var err error
		if l.Materials, err = descriptors("link predicate materials", pf.list("materials")); err != nil {
			return nil, err
		}
		if l.Products, err = descriptors("statement subject", f.list("subject")); err != nil {
			return nil, err
		}
		if pf.err != nil {
			return nil, pf.err
		}
		return l, f.err
	}
	return nil, verr.Invalid("statement", "predicateType %q is not an in-toto link predicate", pt)
}

func descriptors(what string, l []any) (rules.Artifacts, error) {
	out := make(rules.Artifacts, len(l))
	for i, e := range l {
		rd, ok := e.(map[string]any)
		if !ok {
			return nil, verr.Invalid(what, "entry %d is not an object", i)
		}
		name, ok := rd["name"].(string)
		if !ok {
			return nil, verr.Invalid(what, "entry %d has no name", i)
		}
		if _, dup := out[name]; dup {
			return nil, verr.Invalid(what, "name %q appears twice", name)
		}
		d, err := digests(what, name, rd["digest"])
		if err != nil {
			return nil, err
		}
		out[name] = d
	}
	return out, nil
}
