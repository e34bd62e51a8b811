package config

import (
	"errors"
	"fmt"
	"net/url"
)

// Example support contact of the simulator in dev (make run), so its pages
// show where a contact goes; a real one is required everywhere else.
const (
	SimSupportEmail = "kundeservice@example.no"
	SimSupportPhone = "+47 22 00 00 00"
)

// loadJourney reads what the customer's journey needs to say whose flow it
// is: the vendor's own address (ONBOARD_VENDOR_URL, the connected page's
// "Back to <vendor>"), and a support contact, which every page that asks
// the customer to contact the vendor shows: at least one of
// ONBOARD_SUPPORT_EMAIL, _PHONE and _URL outside dev. It runs after
// loadBrand, which reads and checks the contact.
func (c *Config) loadJourney(get func(k, def string) string) []error {
	var errs []error
	c.VendorURL = get("ONBOARD_VENDOR_URL", "")
	if c.VendorURL != "" {
		u, err := url.Parse(c.VendorURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
			errs = append(errs, fmt.Errorf("ONBOARD_VENDOR_URL %q must be an absolute http(s) URL", c.VendorURL))
		case !c.Dev && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("ONBOARD_VENDOR_URL %q must be https outside dev", c.VendorURL))
		}
	}
	b := &c.Brand
	if b.SupportEmail == "" && b.SupportPhone == "" && b.SupportURL == "" {
		switch {
		case c.Dev && c.AltinnEnv == EnvSim:
			b.SupportEmail, b.SupportPhone = SimSupportEmail, SimSupportPhone
		case !c.Dev:
			errs = append(errs, errors.New("a support contact is required outside dev: set at least one of "+
				"ONBOARD_SUPPORT_EMAIL, ONBOARD_SUPPORT_PHONE and ONBOARD_SUPPORT_URL (customers are told to contact you)"))
		}
	}
	return errs
}
