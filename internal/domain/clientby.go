package domain

// ChangedByAltinn is a client row's changed_by when the change was made in
// Altinn's portal (noticed by the clients page or the reconciler), not by a
// person through the service.
const ChangedByAltinn = "altinn"

// Who changed a client, as the vendor is told (API and webhooks): never the
// person's identity, only whether a person did it through the service or it
// was done in Altinn's portal.
const (
	ClientByPerson = "person"
	ClientByAltinn = "altinn"
)

// ClientChangedBy is who changed a client, from its changed_by: "altinn"
// for Altinn's portal, "person" for anyone else (a person's pairwise sub,
// which is not passed on).
func ClientChangedBy(changedBy string) string {
	if changedBy == ChangedByAltinn {
		return ClientByAltinn
	}
	return ClientByPerson
}
