package orgno

import "testing"

// BenchmarkNormalize checks an org number as the wizard and a campaign's
// upload do, once per number: pasted with spaces, and with a wrong check
// digit.
func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"valid", "923 609 016"},
		{"check digit", "923609017"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Normalize(c.in)
			}
		})
	}
}
