package i18n

// The dashboard's texts about the organisation's name from Brønnøysund's
// Enhetsregisteret (the list's column, the detail page's fact). The
// wizard's texts about the lookup are the wizard's.
func init() { later(textsBrreg) }

func textsBrreg() {
	add(map[string]map[string]string{
		"nb": {
			"admin.field.orgname":      "Navn",
			"admin.field.orgname.none": "Ikke slått opp i Enhetsregisteret",
		},
		"en": {
			"admin.field.orgname":      "Name",
			"admin.field.orgname.none": "Not looked up in Enhetsregisteret",
		},
	})
}
