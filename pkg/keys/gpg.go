package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/verr"
)

// GPGOptions configures LoadGPG. The zero value runs "gpg2" or else "gpg" from PATH on the
// default keyring with a 30-second timeout.
type GPGOptions struct {
	// Program is the gpg binary. "" means gpg2 if it is on PATH, else gpg.
	Program string
	// Home is the GnuPG home directory (--homedir). "" means gpg's default.
	Home string
	// Timeout bounds the gpg run. Zero means 30 seconds.
	Timeout time.Duration
}

// LoadGPG exports the public key named by keyid (a fingerprint, a long keyid or a subkey's id)
// from a GnuPG keyring by running "gpg --export", as python in-toto-verify's -g/--gpg-home flags
// do, and parses it with ParseOpenPGP. It is a helper for the command line only: it runs an
// external program, so nothing in verification calls it.
func LoadGPG(ctx context.Context, keyid string, opts GPGOptions) (*Key, error) {
	if !isHex(keyid) || len(keyid) < 8 || len(keyid) > 40 {
		return nil, invalid("GPG keyid %q is not 8 to 40 hex digits", keyid)
	}
	prog := opts.Program
	if prog == "" {
		prog = "gpg2"
		if _, err := exec.LookPath(prog); err != nil {
			prog = "gpg"
		}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"--batch", "--no-tty"}
	if opts.Home != "" {
		args = append(args, "--homedir", opts.Home)
	}
	args = append(args, "--export", keyid)
	cmd := exec.CommandContext(ctx, prog, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("keys: %s --export %s: %w: %s", prog, keyid, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return nil, &verr.InputError{What: "GPG key " + keyid, Offset: -1, Msg: "not found in the keyring"}
	}
	k, err := ParseOpenPGP(stdout.Bytes())
	if err != nil {
		var ie *verr.InputError
		if errors.As(err, &ie) {
			ie2 := *ie
			ie2.What = "GPG key " + keyid
			return nil, &ie2
		}
		return nil, err
	}
	if !k.Owns(strings.ToLower(keyid)) && !ownsSuffix(k, strings.ToLower(keyid)) {
		return nil, invalid("gpg exported a key that is not %q", keyid)
	}
	return k, nil
}

// ownsSuffix reports whether a long keyid (a fingerprint suffix) names k or one of its subkeys.
func ownsSuffix(k *Key, id string) bool {
	if strings.HasSuffix(k.KeyID, id) {
		return true
	}
	for _, s := range k.SubkeyIDs() {
		if strings.HasSuffix(s, id) {
			return true
		}
	}
	return false
}
