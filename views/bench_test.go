package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// BenchmarkStartPage renders the wizard's first page, in the shared layout,
// as a customer gets it: the product's grants, the vendor's support contact,
// in bokmål.
func BenchmarkStartPage(b *testing.B) {
	m := Start{
		Page: Page{Lang: "nb", Title: "Koble til", Sim: true, LangURL: "/lang/en?next=%2Fonboard%2Fstandard",
			CSSURL: "/static/style.css", LogoURL: "/static/logo.svg", LogoType: "image/svg+xml",
			Support: Support{Email: "support@example.com", Phone: "+47 22 00 00 00"}},
		Product: Product{ID: "standard", Name: "Regnskap", URL: "/onboard/standard", Grants: []Grant{
			{Label: "Lese regnskapsdata", ID: "app_ttd_regnskap"},
			{Label: "Skattegrunnlag", ID: "urn:altinn:accesspackage:skattegrunnlag"},
		}},
		Vendor: "Smart Cloud AS", OrgURL: "/onboard/standard/org",
	}
	var buf bytes.Buffer
	if err := StartPage(m).Render(context.Background(), &buf); err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Smart Cloud AS") || !strings.Contains(buf.String(), "Skattegrunnlag") {
		b.Fatalf("the page lacks the vendor or a grant:\n%s", buf.String())
	}
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		buf.Reset()
		if err := StartPage(m).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
}
