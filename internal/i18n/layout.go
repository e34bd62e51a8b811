package i18n

// The layout's frame (views/layout.templ): the language switch's name for
// screen readers.
func init() { later(textsLayout) }

func textsLayout() {
	add(map[string]map[string]string{
		"nb": {"lang.nav.label": "Språk"},
		"nn": {"lang.nav.label": "Språk"},
		"en": {"lang.nav.label": "Language"},
	})
}
