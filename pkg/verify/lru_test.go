package verify

import "testing"

func TestLRU(t *testing.T) {
	c := newLRU[int](3, 10)
	c.put("a", 1, 4)
	c.put("b", 2, 4)
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", 3, 4) // weight 12 > 10: evicts the least recent, b
	if _, ok := c.get("b"); ok {
		t.Fatal("b kept over the weight budget")
	}
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Fatal("a evicted instead of b")
	}
	c.put("huge", 9, 11) // heavier than the whole budget: not stored, nothing evicted
	if _, ok := c.get("huge"); ok {
		t.Fatal("stored an entry heavier than the budget")
	}
	c.put("d", 4, 1)
	c.put("e", 5, 1) // 4 entries > 3: evicts the least recent
	if len(c.items) != 3 || c.order.Len() != 3 {
		t.Fatalf("%d entries", len(c.items))
	}
	off := newLRU[int](0, 10)
	off.put("a", 1, 1)
	if _, ok := off.get("a"); ok {
		t.Fatal("disabled cache stored an entry")
	}
}
