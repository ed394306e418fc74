package intoto

import (
	"io/fs"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
)

// InspectionMode says how the inspections of a layout are satisfied.
type InspectionMode int

const (
	// InspectionsPrerecorded (the zero value) never runs a command. Each inspection must be
	// satisfied by a prerecorded inspection link "<inspection>.<keyid8>.link", signed by a key
	// the layout authorises for it (see Inspection.PubKeys). A layout with an inspection and no
	// such link fails with verr.Inspection.
	InspectionsPrerecorded InspectionMode = iota
	// InspectionsRunUnsafe runs each inspection's command on this machine, as in-toto's
	// reference implementation does: in a fresh temporary directory (populated from
	// Options.InspectionFiles), with a timeout, a minimal environment and no shell. The command
	// comes from the layout: only use this with layouts whose signers you trust to run code here.
	InspectionsRunUnsafe
)

// Default limits.
const (
	DefaultMaxLinkBytes      = 16 << 20 // per link or layout document
	DefaultInspectionTimeout = 60 * time.Second
	// MaxSublayoutDepth bounds the nesting of sublayouts.
	MaxSublayoutDepth = 8
)

// Options configure Verify. The zero value of every field is the strict choice; an Options
// value is only read by Verify, so one value may be shared by concurrent calls as long as it is
// not modified (and the LinkSource and Revocation checker it holds are safe for concurrent use).
type Options struct {
	// LayoutKeys are the keys trusted to sign the layout. Signatures by other keys are ignored.
	// Zero value: none, and verification fails (a layout needs at least one trusted key).
	LayoutKeys []*keys.Key
	// LayoutThreshold is how many distinct LayoutKeys must have signed the layout.
	// Zero value: every key in LayoutKeys must have signed (in-toto's reference behaviour).
	LayoutThreshold int
	// Links is where link files are read from. Zero value: nil, and every step lacks its links.
	Links LinkSource
	// Now returns the verification time (layout expiry, certificate validity, revocation).
	// Zero value: nil, which means time.Now, read once at the start of Verify.
	Now func() time.Time
	// Params substitutes "{NAME}" in the layout's artifact rules, expected commands and
	// inspection commands, as python in-toto's substitute_parameters does. Zero value: nil, and
	// nothing is substituted (text is kept literally). When Params is non-nil (even empty),
	// every "{NAME}" must be in Params, "{{" and "}}" stand for literal braces, and anything else
	// is a verr.LayoutInvalid error.
	Params map[string]string
	// Inspections says how inspections are satisfied. Zero value: InspectionsPrerecorded,
	// which never runs a command.
	Inspections InspectionMode
	// InspectionFiles populates the temporary directory an inspection runs in (only with
	// InspectionsRunUnsafe). Zero value: nil, an empty directory.
	InspectionFiles fs.FS
	// InspectionTimeout bounds each inspection command. Zero value: DefaultInspectionTimeout.
	InspectionTimeout time.Duration
	// Revocation, when set, is asked about every key that would count towards a layout or step
	// threshold (revocation.KindKey, and revocation.KindFunctionary with the step name). A key
	// that is Revoked, Unknown, or whose check fails does not count (fail closed), and the
	// answer is recorded in the Result. Zero value: nil, no revocation checks.
	Revocation revocation.Checker
	// Limits bound every document read (layout, links, payloads). Zero value: the cjson
	// defaults (16 MiB, depth 128).
	Limits cjson.Limits
}

// LinkSource is where Verify reads link files from. Names are slash-separated paths relative to
// the source's root that satisfy fs.ValidPath, such as "build.1a2b3c4d.link" or, for the links
// of a sublayout, "build.1a2b3c4d/compile.5e6f7a8b.link". A missing file is an error that
// matches fs.ErrNotExist. Implementations must be safe for concurrent use if Verify is called
// concurrently with the same source.
type LinkSource interface {
	ReadLink(name string) ([]byte, error)
	// ListLinks returns the names of the files directly in dir ("." for the root), sorted.
	// It is used to find links signed by X.509 functionaries, whose keyid is not in the layout.
	ListLinks(dir string) ([]string, error)
}

// Result holds the facts that Verify established. When Verify returns a non-nil error, the
// Result (if any) describes what was checked and where it failed, and Verified is false: it must
// not be taken as evidence. A Result is not modified after Verify returns and is safe for
// concurrent reads.
type Result struct {
	// Verified is true only when Verify returned a nil error.
	Verified bool
	// LayoutDigest is "sha256:<hex>" of the layout document as received.
	LayoutDigest string
	Format       Format
	Layout       *Layout
	// LayoutSigners are the keyids of the given layout keys whose signatures verified, sorted.
	LayoutSigners []string
	Steps         []StepResult
	Inspections   []StepResult
	// Revocations lists every revocation answer that stopped a key from counting.
	Revocations []RevocationRecord
	// Warnings are observations that do not fail verification (a command that differs from
	// the step's expected command, links signed by several subkeys of one key).
	Warnings []string
	// Summary is the link that summarises the chain (materials of the first step, products of
	// the last), as python in-toto computes it for a sublayout.
	Summary *Link
}

// StepResult is what was established for one step or inspection.
type StepResult struct {
	Name       string
	Inspection bool
	Threshold  int
	// Signers are the distinct keyids (main keys) whose links counted, sorted.
	Signers []string
	// Links are the link documents that counted.
	Links []LinkRecord
	// Rejected are the candidate link files that did not count, with why.
	Rejected []Rejection
	// Link is the step's agreed content (the links that counted agree on materials and products).
	Link *Link
	// Materials and Products are the artifact rule results. For a step's links, which rule
	// consumed each artifact is kept in the compact form (rules.RunOptions.CompactConsumers):
	// ConsumedBy is nil, and Result.ConsumerOf and Result.Consumers give the same facts.
	Materials, Products *rules.Result
	// Ran is true when the inspection command was run (InspectionsRunUnsafe).
	Ran bool
	// Err is this step's failure, nil if it passed.
	Err error
}

// LinkRecord identifies a link document that counted.
type LinkRecord struct {
	File   string
	KeyID  string
	Digest string // sha256:<hex> of the file as received
	Format Format
	// Sublayout is set when the "link" was a layout verified recursively.
	Sublayout *Result
}

// Rejection records a candidate link that did not count.
type Rejection struct {
	File  string
	KeyID string
	Err   error
}

// RevocationRecord records a revocation answer that stopped a key from counting.
type RevocationRecord struct {
	Ref    revocation.Ref
	Status revocation.Status
	Err    error
}
