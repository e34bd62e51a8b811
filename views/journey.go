package views

// The customer journey's small decisions that the status page's markup
// asks for (wizard.templ): colours, button weights and the next step of
// each final state.

// waitColor is the alert colour of a state that waits: a warning when
// Altinn did not answer, else information.
func waitColor(m Outcome) string {
	if m.ErrorCode != "" {
		return "warning"
	}
	return "info"
}

// endColor is the alert colour of a final state other than connected: a
// decision or an end (rejected, expired, cancelled) is a warning, a
// failure or a removed access is danger.
func endColor(status string) string {
	switch status {
	case "failed", "revoked":
		return "danger"
	}
	return "warning"
}

// refreshVariant: "check status again" is the main action only while
// nothing else is offered.
func refreshVariant(m Outcome) string {
	if (m.Detail && (m.ConfirmURL != "" || m.RetryAction != "")) || m.Status == "cancelled" || m.Status == "connected" {
		return "tertiary"
	}
	return "secondary"
}

// nextStep is what the customer does next in a final state: the browser
// that started the onboarding gets its state's own step (with the button
// below it), anyone else the way back through the vendor.
func nextStep(m Outcome) string {
	if m.Detail || m.Status == "cancelled" {
		return m.T("journey.next."+m.Status, m.Vendor)
	}
	return m.T("journey.next.other", m.Vendor)
}
