package policy

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/revocation"
)

// This file writes a built-in Decision's JSON form straight from its compact trail, the same
// bytes as encoding/json writes for the materialised Decision (TestCompactTrail and
// FuzzAppendJSONString compare them).

// appendJSON appends d's JSON form (MediaType's schema) to b.
func (cp *compact) appendJSON(b []byte, d *Decision) ([]byte, error) {
	b = append(b, `{"mediaType":`...)
	b = appendJSONString(b, MediaType)
	b = append(b, `,"effect":`...)
	b = appendJSONString(b, string(d.Effect))
	if len(d.Warnings) > 0 {
		b = append(b, `,"warnings":`...)
		b = appendJSONStrings(b, d.Warnings)
	}
	b = append(b, `,"policyId":`...)
	b = appendJSONString(b, d.PolicyID)
	b = append(b, `,"time":`...)
	b, err := appendJSONTime(b, d.Time)
	if err != nil {
		return nil, err
	}
	if len(d.DecidedBy) > 0 {
		b = append(b, `,"decidedBy":`...)
		b = appendJSONStrings(b, d.DecidedBy)
	}
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, d.Reason)
	b = append(b, `,"trail":[`...)
	for i := range cp.entries {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = cp.appendEntry(b, d, &cp.entries[i]); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}

// appendEntry appends the JSON form of entry e (a TrailEntry's).
func (cp *compact) appendEntry(b []byte, d *Decision, e *centry) ([]byte, error) {
	var r *rule
	verb, subject, source := VerbRevocation, "all", ""
	switch e.rule {
	case entLayouts:
		verb, subject = VerbLayouts, "layout"
	case entRevocation:
	default:
		r = cp.c.rules[e.rule]
		verb, subject, source = r.verb, r.subjName, r.src
	}
	b = append(b, `{"rule":`...)
	b = appendJSONString(b, cp.ruleID(e))
	b = append(b, `,"verb":`...)
	b = appendJSONString(b, string(verb))
	if subject != "" {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, subject)
	}
	st, err := cp.strength(e).MarshalText()
	if err != nil {
		return nil, err
	}
	b = append(b, `,"strength":`...)
	b = appendJSONString(b, string(st))
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, string(outcomeOf(e.outcome)))
	eff := effectOf(e.effect)
	if eff != "" {
		b = append(b, `,"effect":`...)
		b = appendJSONString(b, string(eff))
	}
	if e.flags&flagNotApplicable != 0 {
		b = append(b, `,"notApplicable":true`...)
	}
	if e.flags&flagWarning != 0 {
		b = append(b, `,"warning":true`...)
	}
	if m := cp.message(e); m != "" {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, m)
	}
	revoke := r != nil && r.verb == VerbRevoke
	switch {
	case revoke:
		b, err = cp.appendRevokeEvidence(b, r)
	case e.evLen > 0:
		b = append(b, `,"evidence":[`...)
		for i := range cp.evs[e.evOff : e.evOff+e.evLen] {
			if i > 0 {
				b = append(b, ',')
			}
			x := &cp.evs[int(e.evOff)+i]
			kind, ref := cp.in.subjRef(&subj{li: x.li, si: x.si, ki: x.ki, kind: x.kind, side: x.side, name: cp.text(x.name)})
			b = appendEvidence(b, kind, ref.layout, ref.step, ref.name, resultText(x.result), cp.text(x.detail))
		}
		b = append(b, ']')
	}
	if err != nil {
		return nil, err
	}
	if d != nil && eff != "" && eff != d.Effect && len(d.DecidedBy) > 0 {
		b = append(b, `,"overriddenBy":`...)
		b = appendJSONStrings(b, d.DecidedBy)
	}
	switch {
	case e.rule == entRevocation && len(cp.lks) > 0:
		b = append(b, `,"revocations":[`...)
		for i := range cp.lks {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = cp.appendLookup(b, &cp.lks[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	case revoke:
		first := true
		me := r.byIndex()
		for i := range cp.lks {
			if cp.lks[i].by() != me {
				continue
			}
			if first {
				b = append(b, `,"revocations":[`...)
			} else {
				b = append(b, ',')
			}
			first = false
			if b, err = cp.appendLookup(b, &cp.lks[i]); err != nil {
				return nil, err
			}
		}
		if !first {
			b = append(b, ']')
		}
	}
	if rs := e.getReason(); rs != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, string(rs))
	}
	if source != "" {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, source)
	}
	return append(b, '}'), nil
}

// appendRevokeEvidence appends the evidence of REVOKE rule r's entry (compact.revokeRecords).
func (cp *compact) appendRevokeEvidence(b []byte, r *rule) ([]byte, error) {
	me := r.byIndex()
	first := true
	for i := range cp.lks {
		l := &cp.lks[i]
		if l.by() != me {
			continue
		}
		if first {
			b = append(b, `,"evidence":[`...)
		} else {
			b = append(b, ',')
		}
		first = false
		ref, st := cp.ref(l), cp.status(l)
		res := "revoked"
		if ref.Kind == revocation.KindKey || ref.Kind == revocation.KindFunctionary {
			res = "revoked; excluded from thresholds"
		}
		b = appendEvidence(b, string(ref.Kind), ref.Name, ref.Step, ref.KeyID+ref.Digest, res, "source "+st.Source)
	}
	if !first {
		b = append(b, ']')
	}
	return b, nil
}

// appendEvidence appends an Evidence's JSON form.
func appendEvidence(b []byte, kind, layout, step, ref, result, detail string) []byte {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, kind)
	if layout != "" {
		b = append(b, `,"layout":`...)
		b = appendJSONString(b, layout)
	}
	if step != "" {
		b = append(b, `,"step":`...)
		b = appendJSONString(b, step)
	}
	b = append(b, `,"ref":`...)
	b = appendJSONString(b, ref)
	b = append(b, `,"result":`...)
	b = appendJSONString(b, result)
	if detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, detail)
	}
	return append(b, '}')
}

// appendLookup appends a Lookup's JSON form.
func (cp *compact) appendLookup(b []byte, l *clk) ([]byte, error) {
	ref, st := cp.ref(l), cp.status(l)
	b = append(b, `{"ref":{"kind":`...)
	b = appendJSONString(b, string(ref.Kind))
	for _, f := range [...]struct{ key, v string }{{`,"keyid":`, ref.KeyID}, {`,"digest":`, ref.Digest}, {`,"name":`, ref.Name}, {`,"step":`, ref.Step}} {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.v)
		}
	}
	if ref.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, ref.Version, 10)
	}
	for _, f := range [...]struct{ key, v string }{{`,"issuer":`, ref.Issuer}, {`,"serial":`, ref.Serial}} {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.v)
		}
	}
	b = append(b, `},"status":{"state":`...)
	b = appendJSONString(b, string(st.State))
	b = append(b, `,"source":`...)
	b = appendJSONString(b, st.Source)
	var err error
	if !st.RevokedAt.IsZero() {
		b = append(b, `,"revoked_at":`...)
		if b, err = appendJSONTime(b, st.RevokedAt); err != nil {
			return nil, err
		}
	}
	if st.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, st.Reason)
	}
	for _, f := range [...]struct {
		key string
		t   time.Time
	}{{`,"fetched_at":`, st.FetchedAt}, {`,"next_update":`, st.NextUpdate}} {
		if !f.t.IsZero() {
			b = append(b, f.key...)
			if b, err = appendJSONTime(b, f.t); err != nil {
				return nil, err
			}
		}
	}
	b = append(b, '}')
	if e := cp.text(l.err); e != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, e)
	}
	return append(b, '}'), nil
}

func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	j, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string exactly as encoding/json writes it (HTML
// characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
