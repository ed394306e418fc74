package verify

import (
	"log/slog"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/tuf"
)

// DefaultRevocationTarget is the TUF target path of the revocation list when
// Options.RevocationTarget is empty.
const DefaultRevocationTarget = "revocations.json"

// InspectionMode says whether a layout's inspections may run. The zero value refuses them.
// It is a plain value.
type InspectionMode int

const (
	// InspectionsRefuse refuses a layout that declares inspections unless every inspection is
	// covered by a prerecorded inspection link (the zero value).
	InspectionsRefuse InspectionMode = iota
	// InspectionsRunUnsafe runs the layout's inspection commands on this machine, in a fresh
	// temporary directory holding the verified artifact under its base name, with a timeout and a
	// minimal environment. It executes commands named by the repository's metadata: opt in only
	// for layouts you trust to run code. Outcomes are then never cached.
	InspectionsRunUnsafe
)

// Limits bound what a verification may consume. Every zero field means the documented default.
// A Limits is a plain value.
type Limits struct {
	// MaxMetadataBytes bounds each in-toto metadata target (layout, link, bundle, key) and the
	// revocation list. Zero means 16 MiB.
	MaxMetadataBytes int64
	// MaxMetadataFiles bounds the number of in-toto metadata targets one package may list.
	// Zero means 4096.
	MaxMetadataFiles int
	// MaxArtifactBytes bounds the artifact's download on top of its TUF-signed length.
	// Zero means 4 GiB.
	MaxArtifactBytes int64
	// CacheEntries bounds the in-memory cache of verified in-toto results (and four times as
	// many metadata files). Zero means 1024; a negative value disables both caches.
	CacheEntries int
	// CacheBytes bounds the metadata bytes kept by the cache. Zero means 256 MiB.
	CacheBytes int64
	// CacheArtifacts bounds the artifacts (materials and products of every step) held by cached
	// in-toto results. Zero means 4,000,000.
	CacheArtifacts int64
}

func (l Limits) cacheBytes() int64 {
	if l.CacheBytes <= 0 {
		return 256 << 20
	}
	return l.CacheBytes
}

func (l Limits) cacheArtifacts() int64 {
	if l.CacheArtifacts <= 0 {
		return 4_000_000
	}
	return l.CacheArtifacts
}

func (l Limits) maxMetadataBytes() int64 {
	if l.MaxMetadataBytes <= 0 {
		return 16 << 20
	}
	return l.MaxMetadataBytes
}

func (l Limits) maxMetadataFiles() int {
	if l.MaxMetadataFiles <= 0 {
		return maxCustomEntries
	}
	return l.MaxMetadataFiles
}

func (l Limits) maxArtifactBytes() int64 {
	if l.MaxArtifactBytes <= 0 {
		return 4 << 30
	}
	return l.MaxArtifactBytes
}

func (l Limits) cacheEntries() int {
	if l.CacheEntries == 0 {
		return 1024
	}
	return l.CacheEntries
}

// Options configure a Verifier. The zero value of every field is the strict choice; the only
// required fields are one of Remote, Fetcher and Repository. New copies what it needs; an Options value
// is a plain value and may be shared.
type Options struct {
	// Remote is the TUF repository: an http:// or https:// URL (metadata under Remote+"/metadata/",
	// targets under Remote+"/targets/"), or a local directory with the same layout.
	// Ignored when Repository is set.
	Remote string

	// Fetcher, when non-nil, retrieves the repository's files instead of Remote's HTTP or
	// directory fetcher (for example tuf.MemFetcher, an fs.FS, or a fetcher with its own
	// transport). Locations are "metadata/<file>" and "targets/<path>", relative to Remote
	// (which may then be empty). Ignored when Repository is set.
	Fetcher tuf.Fetcher

	// Repository, when non-nil, is the TUF client to use instead of one built from Remote
	// (for example one with a custom fetcher). It must already trust the same root as the
	// trustedRoot given to New.
	Repository Repository

	// CacheDir keeps TUF metadata between processes. Empty means no on-disk cache: every New
	// starts from the trusted root.
	CacheDir string

	// Offline verifies with the TUF metadata kept in CacheDir only: no TUF metadata is fetched
	// (pkg/tuf's offline mode). The cached metadata must verify and be unexpired at Now, and,
	// when MaxCacheAge is set, come from an online refresh at most that long ago; otherwise
	// Verify denies with reason verr.Freeze and says the metadata is stale. The targets the
	// verification reads (in-toto metadata, the revocation list, the artifact) are still read
	// through Remote or Fetcher, checked against the cached metadata: offline, Remote must be a
	// local directory (an http:// or https:// Remote is refused by New) or Fetcher a fetcher
	// over local storage. Offline requires CacheDir (filled by an earlier online Verify) and
	// cannot be combined with Repository (configure that client's own offline mode instead).
	// The zero value (false) refreshes from the repository.
	Offline bool

	// MaxCacheAge, when positive and Offline is set, bounds how long ago the last successful
	// online refresh (recorded in CacheDir) may have been. Zero means only expiry bounds it.
	MaxCacheAge time.Duration

	// RefreshInterval is how long refreshed TUF metadata (and the target lookups made in it) is
	// reused before Verify refreshes it again, measured on Now. Zero means every Verify call
	// refreshes (the strict choice). A long-running package manager may set a few seconds to a
	// minute: metadata that expires within the interval is then noticed at the next refresh.
	RefreshInterval time.Duration

	// Now is the clock. Nil means time.Now. Nothing below this package reads the wall clock.
	Now func() time.Time

	// Policy decides. Nil means DefaultPolicy: every layout must verify, the target must be bound
	// to a product of the supply chain, and anything revoked, or whose revocation status is
	// unknown, denies.
	Policy Policy

	// RevocationTarget is the TUF target path of the revocation list, which must be signed by
	// the top-level targets role. Empty means DefaultRevocationTarget. A repository without the
	// list fails verification unless NoRevocationListUnsafe is set.
	RevocationTarget string

	// RevocationKeys are the keys trusted to sign a revocation list published as a DSSE envelope
	// (pkg/revocation's signed list, one of them must sign). Nil means the keys that the list's
	// own target lists in its custom["in-toto"] (".pub" targets of the top-level role, the
	// convention of layout keys). A plain, unsigned list (RevocationListDoc) needs no keys:
	// TUF's signature covers it.
	RevocationKeys []*keys.Key

	// NoRevocationListUnsafe accepts a repository that publishes no revocation list. The zero
	// value (false) requires one.
	NoRevocationListUnsafe bool

	// Revocation lists extra revocation sources, consulted in order after the TUF-distributed
	// list. A result that involved extra sources is never cached, since their answers may change
	// at any time.
	Revocation []revocation.Checker

	// RootLayout is a fixed TUF target path of the root layout, for repositories that follow the
	// ITE-3 deployment in which packages list only their links. Empty means each package target
	// must list its layout(s) in custom["in-toto"].
	RootLayout string

	// LayoutThreshold is the number of distinct layout keys that must sign each layout. Zero means
	// every key listed by the layout's target must sign (the reference behaviour).
	LayoutThreshold int

	// Inspections says whether inspections may run. The zero value refuses them.
	Inspections InspectionMode

	// Params returns the in-toto parameter substitutions for a target (ITE-3 derives them from
	// the target's name). Nil means no parameters: a layout that uses any fails.
	Params func(targetName string) map[string]string

	// Limits bound sizes and counts. The zero value means the documented defaults.
	Limits Limits

	// Logger receives debug and info records about each phase. Nil means no logging.
	Logger *slog.Logger

	// Progress, when non-nil, is called while the artifact downloads with the bytes written so far
	// and the target's signed length. It may be called from several goroutines at once (one per
	// concurrent verification). Nil means no progress reports.
	Progress func(target string, done, total int64)
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Options) revocationTarget() string {
	if o.RevocationTarget == "" {
		return DefaultRevocationTarget
	}
	return o.RevocationTarget
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
