package i18n

// The language switch: each language's name in its own language, the same
// text on every page (lang.name.nn reads "Norsk (nynorsk)" on an English
// page too, as Altinn's switch does).
func init() { later(textsLang) }

func textsLang() {
	names := map[string]string{
		"lang.name.nb": "Norsk (bokmål)",
		"lang.name.nn": "Norsk (nynorsk)",
		"lang.name.en": "English",
	}
	add(map[string]map[string]string{"nb": names, "nn": names, "en": names})
}
