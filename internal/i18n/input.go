package i18n

// The refusal of text the service cannot store (issue 13): not valid
// UTF-8, or holding a NUL character.
func init() { later(textsInput) }

func textsInput() {
	add(map[string]map[string]string{
		"nb": {"error.badtext": "Teksten inneholder tegn vi ikke kan lese. Skriv den inn på nytt, uten spesialtegn som er limt inn fra et annet program."},
		"nn": {"error.badtext": "Teksten inneheld teikn vi ikkje kan lese. Skriv han inn på nytt, utan spesialteikn som er limte inn frå eit anna program."},
		"en": {"error.badtext": "The text holds characters we cannot read. Type it again, without special characters pasted from another program."},
	})
}
