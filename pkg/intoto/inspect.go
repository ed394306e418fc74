package intoto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// inspection satisfies one inspection: by prerecorded links (default) or by running it.
func (v *verifier) inspection(ctx context.Context, res *Result, layout *Layout, in Inspection, signerKeys []*keys.Key, src LinkSource, depth int) StepResult {
	if v.opts.Inspections == InspectionsRunUnsafe {
		return v.runInspection(ctx, in)
	}
	var fns []functionary
	threshold := in.Threshold
	if len(in.PubKeys) > 0 {
		for _, id := range in.PubKeys {
			if k, ok := layout.Keys[id]; ok {
				fns = append(fns, functionary{id: id, mainID: id, key: k})
			} else if main, ok := layout.Subkeys[id]; ok {
				fns = append(fns, functionary{id: id, mainID: main, key: layout.Keys[main]})
			}
		}
	} else {
		threshold = 1
		for _, k := range signerKeys {
			fns = append(fns, functionary{id: k.KeyID, mainID: k.KeyID, key: k})
		}
	}
	sr := v.collect(ctx, res, layout, in.Name, true, threshold, fns, nil, src, depth)
	if sr.Err != nil {
		var ve *verr.VerificationError
		if errors.As(sr.Err, &ve) && ve.Reason == verr.Inspection {
			var want []string
			for _, fn := range fns {
				want = append(want, LinkFileName(in.Name, fn.id))
			}
			ve.Msg = fmt.Sprintf("the layout has inspection %q (command %q). tinto never runs inspection commands by default: "+
				"provide a prerecorded inspection link (%s) signed by an authorised key, or opt in to running the command "+
				"on this machine (Options.Inspections = InspectionsRunUnsafe, CLI --run-inspections)",
				in.Name, in.Run, strings.Join(want, " or "))
		} else {
			sr.Err = &verr.VerificationError{Reason: verr.Inspection, Step: in.Name, Msg: "prerecorded inspection link not accepted", Err: sr.Err}
		}
	}
	return sr
}

// runInspection runs the inspection's command (InspectionsRunUnsafe): no shell, a fresh
// temporary directory populated from Options.InspectionFiles, a minimal environment, a timeout.
// Materials are recorded before and products after the command, as sha256 of every regular file.
func (v *verifier) runInspection(ctx context.Context, in Inspection) StepResult {
	sr := StepResult{Name: in.Name, Inspection: true, Threshold: 1, Ran: true}
	fail := func(err error, format string, args ...any) StepResult {
		sr.Err = &verr.VerificationError{Reason: verr.Inspection, Step: in.Name, Msg: fmt.Sprintf(format, args...), Err: err}
		return sr
	}
	if len(in.Run) == 0 || in.Run[0] == "" {
		return fail(nil, "inspection has an empty run command")
	}
	dir, err := os.MkdirTemp("", "tinto-inspection-")
	if err != nil {
		return fail(err, "cannot create a temporary directory")
	}
	defer os.RemoveAll(dir)
	if v.opts.InspectionFiles != nil {
		if err := copyFS(dir, v.opts.InspectionFiles); err != nil {
			return fail(err, "cannot populate the inspection directory")
		}
	}
	mats, err := hashDir(dir)
	if err != nil {
		return fail(err, "cannot record materials")
	}
	timeout := v.opts.InspectionTimeout
	if timeout <= 0 {
		timeout = DefaultInspectionTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, in.Run[0], in.Run[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LANG=C"}
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if cctx.Err() == context.DeadlineExceeded {
		return fail(cctx.Err(), "inspection command %q timed out after %s", in.Run, timeout)
	}
	if err != nil {
		return fail(err, "inspection command %q failed: %s", in.Run, truncate(string(out), 400))
	}
	prods, err := hashDir(dir)
	if err != nil {
		return fail(err, "cannot record products")
	}
	sr.Link = &Link{Name: in.Name, Command: in.Run, Materials: mats, Products: prods,
		Byproducts: map[string]any{"stdout": truncate(string(out), 4096)}}
	return sr
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func copyFS(dir string, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			r, err := fsys.Open(p)
			if err != nil {
				return err
			}
			defer r.Close()
			w, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, r); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		}
		return nil // symlinks and special files are not copied
	})
}

// hashDir records every regular file under dir (symlinks are not followed) by sha256, with
// slash-separated names relative to dir.
func hashDir(dir string) (rules.Artifacts, error) {
	out := rules.Artifacts{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = rules.SHA256(hex.EncodeToString(h.Sum(nil)))
		return nil
	})
	return out, err
}
