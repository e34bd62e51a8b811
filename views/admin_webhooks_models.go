package views

// WebhookSection is the detail page's account of the events sent to the
// vendor's product about the onboarding: each status change, each endpoint
// it went to, and the attempts.
type WebhookSection struct {
	Show       bool // webhooks are configured, or deliveries exist from when they were
	Configured bool
	Events     []WebhookEvent // newest first
}

// WebhookEvent is one status change as sent, with its deliveries.
type WebhookEvent struct {
	ID             string
	Created        string
	Status         string
	PreviousStatus string // "" for a new onboarding
	Payload        string // pretty-printed JSON
	Deliveries     []WebhookDelivery
}

// WebhookDelivery is one event to one endpoint.
type WebhookDelivery struct {
	ID             int64
	URL            string // without credentials
	Status         string // pending, delivered or failed
	Attempts       int
	LastStatusCode int // 0: no answer, or no attempt yet
	LastError      string
	Delivered      string // when, "" unless delivered
	NextAttempt    string // when, "" unless pending
	RedeliverURL   string // POST target; "" when not offered (a viewer, or webhooks off)
	Recent         []WebhookAttempt
	Older          int // attempts made before those in Recent
}

// WebhookAttempt is one POST of an event.
type WebhookAttempt struct {
	At         string
	StatusCode int // 0: no answer
	Error      string
	LatencyMS  int
}

// WebhookTone is how a delivery status reads at a glance (a CSS class).
func WebhookTone(status string) string {
	switch status {
	case "delivered":
		return "ok"
	case "pending":
		return "wait"
	}
	return "bad"
}
