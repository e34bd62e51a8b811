package handlers

import "testing"

// TestProblemRedeliverBack: a redeliver from a page of the webhooks
// section's own view goes back to that page; from the Problems page, or
// with a page that is not one, to the Problems page.
func TestProblemRedeliverBack(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ page, want string }{
		{"", "/admin/problems?done=redeliver#webhooks"},
		{"1", "/admin/problems?section=webhooks&done=redeliver"},
		{"3", "/admin/problems?page=3&section=webhooks&done=redeliver"},
		{"0", "/admin/problems?done=redeliver#webhooks"},
		{"-2", "/admin/problems?done=redeliver#webhooks"},
		{"1000001", "/admin/problems?done=redeliver#webhooks"},
		{"3&section=stuck", "/admin/problems?done=redeliver#webhooks"},
		{"//evil.example", "/admin/problems?done=redeliver#webhooks"},
	} {
		if got := problemRedeliverBack(c.page); got != c.want {
			t.Errorf("page %q: back to %q, want %q", c.page, got, c.want)
		}
	}
}
