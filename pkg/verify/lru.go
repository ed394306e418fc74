package verify

import (
	"container/list"
	"sync"
)

// lru is a small, bounded, concurrency-safe least-recently-used map. It is bounded by a number
// of entries and by a total weight (bytes for metadata, artifacts for in-toto evidence); an entry
// heavier than the whole budget is not stored. A capacity <= 0 disables it.
type lru[V any] struct {
	mu        sync.Mutex
	cap       int
	maxWeight int64
	weight    int64
	order     *list.List // of *lruEntry[V], most recent first
	items     map[string]*list.Element
}

type lruEntry[V any] struct {
	key    string
	val    V
	weight int64
}

func newLRU[V any](capacity int, maxWeight int64) *lru[V] {
	return &lru[V]{cap: capacity, maxWeight: maxWeight, order: list.New(), items: make(map[string]*list.Element)}
}

func (c *lru[V]) get(key string) (V, bool) {
	var zero V
	if c.cap <= 0 || key == "" {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

func (c *lru[V]) put(key string, val V, weight int64) {
	if c.cap <= 0 || key == "" || weight > c.maxWeight {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		old := e.Value.(*lruEntry[V])
		c.weight += weight - old.weight
		old.val, old.weight = val, weight
		c.order.MoveToFront(e)
	} else {
		c.items[key] = c.order.PushFront(&lruEntry[V]{key: key, val: val, weight: weight})
		c.weight += weight
	}
	for c.order.Len() > c.cap || c.weight > c.maxWeight {
		last := c.order.Back()
		ent := last.Value.(*lruEntry[V])
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.weight -= ent.weight
	}
}
