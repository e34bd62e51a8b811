package setup

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/config"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
)

// explainProbe says why a token for scope could not be had, and what to do:
// Maskinporten's MP codes in words (maskinporten.md §3.2,
// systemuser-token.md §4). With a skewed clock the clock is blamed, since
// Maskinporten then refuses every grant whatever its scope.
func explainProbe(cfg *config.Config, scope string, err error, clockBad bool) (detail, fix Text) {
	var me *maskinporten.Error
	if !errors.As(err, &me) {
		return T("setup.detail.token.unreachable", cfg.MaskinportenIssuer, err.Error()), T("setup.fix.token.unreachable")
	}
	code := me.MPCode()
	label := strings.TrimSpace(code + " " + me.Code)
	if label == "" {
		label = me.Description
	}
	if clockBad {
		return T("setup.detail.token.refused", label, T("setup.mp.clock")), T("setup.fix.clock")
	}
	desc := strings.ToLower(me.Description)
	client := cfg.MaskinportenClientID
	switch {
	case code == "MP-200" || (code == "" && me.Code == "invalid_scope"):
		return T("setup.detail.token.refused", label, T("setup.mp.MP-200", scope, client)), T("setup.fix.token.MP-200", scope, client)
	case code == "MP-201":
		return T("setup.detail.token.refused", label, T("setup.mp.MP-201", scope)), T("setup.fix.token.MP-201", client)
	case code == "MP-250" || code == "MP-251" || (code == "" && me.Code == "forbidden"):
		return T("setup.detail.token.refused", label, T("setup.mp.MP-250", scope)), T("setup.fix.token.MP-250", scope, client)
	case code == "MP-100" || code == "MP-110" || strings.Contains(desc, "client not found"):
		return T("setup.detail.token.refused", label, T("setup.mp.MP-100", client)), T("setup.fix.token.MP-100")
	case slices.Contains([]string{"MP-120", "MP-121", "MP-122", "MP-123", "MP-124"}, code) || strings.Contains(desc, "kid") ||
		strings.Contains(desc, "signature"):
		return T("setup.detail.token.refused", label, T("setup.mp.key")), T("setup.fix.token.key", client)
	case code == "MP-012" || code == "MP-130" || strings.Contains(desc, "issue time") || strings.Contains(desc, "expired"):
		return T("setup.detail.token.refused", label, T("setup.mp.clock")), T("setup.fix.clock")
	}
	return T("setup.detail.token.refused", label, T("setup.mp.other", oneLine(me.Description))), T("setup.fix.token.other")
}

// vldCodes are the system register's validation codes there are words for
// (systemregister.md §3).
var vldCodes = []string{"00000", "00001", "00002", "00003", "00004", "00005", "00006", "00007", "00008",
	"00009", "00011", "00012", "00013", "00017", "00018"}

// ExplainRefusal says in words why Altinn refused a write to the system
// register: each AUTH.VLD code of a validation 400 with its meaning and the
// ids Altinn named, or the status and Altinn's own text for other refusals.
func ExplainRefusal(err error) []Text {
	var p *altinn.Problem
	if !errors.As(err, &p) {
		return []Text{T("setup.refused.error", err.Error())}
	}
	var out []Text
	for _, v := range p.Validation {
		meaning := T("setup.vld.unknown", v.Title)
		if n, ok := strings.CutPrefix(strings.ToUpper(v.Code), "AUTH.VLD-"); ok && slices.Contains(vldCodes, n) {
			meaning = T("setup.vld." + n)
		}
		var ids []string
		for _, k := range sortedKeys(v.Extensions) {
			ids = append(ids, strings.TrimSpace(v.Extensions[k]))
		}
		if len(ids) > 0 {
			out = append(out, T("setup.refused.vld.ids", v.Code, meaning, strings.Join(ids, ", ")))
		} else {
			out = append(out, T("setup.refused.vld", v.Code, meaning))
		}
	}
	if len(out) > 0 {
		return out
	}
	switch {
	case errors.Is(err, altinn.ErrNotOwner):
		return []Text{T("setup.refused.owner")}
	case errors.Is(err, altinn.ErrSystemDeleted):
		return []Text{T("setup.refused.deleted")}
	}
	msg := p.Body
	if msg == "" {
		msg = strings.TrimPrefix(p.Error(), "altinn: ")
	}
	return []Text{T("setup.refused.status", p.Status, oneLine(msg))}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// systemLister is the part of *altinn.Client that lists the vendor's
// systems, for finding which system holds the client id.
type systemLister interface {
	ListSystems(ctx context.Context) ([]altinn.SystemSummary, error)
}

// ExplainRefusal says in words why Altinn refused to register or update
// systemID, as the package's ExplainRefusal does, and with what the
// service knows besides: a 403 when the system id does not start with the
// organisation the Maskinporten client belongs to (read from a fresh
// systemregister.write token) says so, and AUTH.VLD-00004 names the client
// id and, when Altinn's vendor list shows it, the system that holds it.
func (s *Service) ExplainRefusal(ctx context.Context, systemID string, err error) []Text {
	out := ExplainRefusal(err)
	var p *altinn.Problem
	if !errors.As(err, &p) {
		return out
	}
	cid := s.Config.MaskinportenClientID
	if errors.Is(err, altinn.ErrNotOwner) && len(p.Validation) == 0 {
		org, _ := VendorOrgNo(systemID)
		if client := s.clientOrg(ctx); client != "" && org != "" && client != org {
			return []Text{T("setup.refused.org", systemID, org, client)}
		}
		return out
	}
	for i, v := range p.Validation {
		if !strings.EqualFold(v.Code, "AUTH.VLD-00004") {
			continue
		}
		if other := s.systemWithClient(ctx, systemID, cid); other != "" {
			out[i] = T("setup.refused.clientid.on", v.Code, cid, other)
		} else {
			out[i] = T("setup.refused.clientid", v.Code, cid)
		}
	}
	return out
}

// clientOrg is the organisation of the Maskinporten client, from a fresh
// token's consumer claim; "" when no token can be had.
func (s *Service) clientOrg(ctx context.Context) string {
	if s.Tokens == nil {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := s.Tokens.Probe(cctx, altinn.ScopeSystemRegisterWrite)
	if err != nil || res == nil {
		return ""
	}
	return ConsumerOrg(res.AccessToken)
}

// systemWithClient is the vendor's other system whose clientId list holds
// cid, or "" when none of them (or it could not be read: the client id
// may then be on another vendor's system).
func (s *Service) systemWithClient(ctx context.Context, except, cid string) string {
	l, ok := s.Register.(systemLister)
	if !ok {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	list, err := l.ListSystems(cctx)
	if err != nil {
		return ""
	}
	for _, sum := range list {
		if sum.ID == except {
			continue
		}
		sys, err := s.Register.GetSystem(cctx, sum.ID)
		if err == nil && !sys.IsDeleted && slices.Contains(sys.ClientIDs, cid) {
			return sum.ID
		}
	}
	return ""
}
