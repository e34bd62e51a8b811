package i18n

// The system-users page's copy of Altinn's lists (issue 15): when they were
// read, and reading them again. Staff only: bokmål and English.
func init() { later(textsSystemusers) }

func textsSystemusers() {
	add(map[string]map[string]string{
		"nb": {
			"admin.systemusers.readat": "Lest fra Altinn kl.",
			"admin.systemusers.reload": "Les på nytt fra Altinn",
		},
		"en": {
			"admin.systemusers.readat": "Read from Altinn at",
			"admin.systemusers.reload": "Read again from Altinn",
		},
	})
}
