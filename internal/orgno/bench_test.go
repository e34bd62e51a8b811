package orgno

import "testing"

// BenchmarkNormalize checks an org number as the wizard, a campaign's
// upload and the API do, once per number: plain (a campaign row, the API),
// pasted with spaces (the wizard), and with a wrong check digit.
func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"plain", "923609016"},
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
