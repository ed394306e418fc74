package tuf

import "context"

// TopLevelTarget looks name up in the top-level targets role only: no delegation is followed.
// It is for targets that only the top-level role may sign (with its offline keys), such as the
// in-toto root layouts, their keys and the revocation list that pkg/verify reads. A target the
// top-level role does not list is a verr.NotFound error, even when a delegated role lists it.
func (c *Client) TopLevelTarget(ctx context.Context, name string) (*TargetFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.state
	if t == nil {
		return nil, errNotRefreshed
	}
	tg := t.Targets(RoleTargets)
	if tg == nil {
		return nil, errNotRefreshed
	}
	tf, err := tg.Targets.lookup(name)
	if err != nil {
		return nil, err
	}
	if tf == nil {
		return nil, errNotFound(name, "the top-level targets role does not list %q", name)
	}
	return tf, nil
}
