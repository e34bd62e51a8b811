package handlers

import (
	"context"

	"github.com/onboard-altinn/onboard/internal/brreg"
)

// Register looks an organisation number up in Brønnøysund's
// Enhetsregisteret (*brreg.Client, or the simulator's fake register behind
// one). Lookup returns brreg.ErrUnknown, brreg.ErrDeleted (with the Entity)
// or brreg.ErrUnavailable; on ErrUnavailable the wizard goes on without a
// name. A nil Register on Handler means no lookup at all.
type Register interface {
	Lookup(ctx context.Context, orgNo string) (brreg.Entity, error)
}
