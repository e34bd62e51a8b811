package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestStartPageNamesGrants: the start page says what is granted in Altinn's
// words, in the reader's language (the simulator's metadata), and shows no
// raw id.
func TestStartPageNamesGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		product, lang string
		want          []string
	}{
		{"standard", "nb", []string{
			"Skattegrunnlag", "Gir tilgang til tjenester for å hente og rapportere opplysninger som inngår i skattegrunnlaget.",
			"Krav og betalinger", "Gir tilgang til å se virksomhetens krav, innbetalinger og saldo hos Skatteetaten."}},
		{"standard", "nn", []string{
			"Skattegrunnlag", "Gir tilgang til tenester for å hente og rapportere opplysningar som inngår i skattegrunnlaget.",
			"Krav og betalingar", "Gir tilgang til å sjå krava, innbetalingane og saldoen til verksemda hos Skatteetaten."}},
		{"standard", "en", []string{
			"Tax base", "Gives access to services for fetching and reporting information that forms the tax base.",
			"Claims and payments", "Gives access to see the organisation&#39;s claims, payments and balance at the Norwegian Tax Administration."}},
		{"agent", "nb", []string{"Regnskapsfører lønn", "Gir regnskapsfører tilgang til å rapportere lønn for kunden."}},
		{"agent", "en", []string{"Accountant salary", "Allows an accountant to report salaries for the client."}},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.web.URL+"/onboard/"+tc.product, nil)
		req.Header.Set("Accept-Language", tc.lang)
		p := e.browser().do(req)
		if p.status != http.StatusOK {
			t.Fatalf("%s %s: status %d", tc.product, tc.lang, p.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s %s: no %q on the start page", tc.product, tc.lang, w)
			}
		}
		for _, raw := range []string{"urn:", "ske-krav-og-betalinger", "regnskapsforer-lonn"} {
			if strings.Contains(p.body, raw) {
				t.Errorf("%s %s: the start page shows the raw %q", tc.product, tc.lang, raw)
			}
		}
	}
}
