package sim

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stateVersion is the version of the state file's format. A file of another
// version is refused with a message that says how to start afresh; a change
// that old files cannot be read with must raise it.
const stateVersion = 1

// savedState is the state file: what Altinn would keep in its database, so
// that a restart of the simulator forgets nothing it has answered. The
// organisations, the Maskinporten clients and the signing key are not in it:
// they come from the seed and from AddClient at every start (the app
// registers its client each time), and a new signing key only makes clients
// fetch new tokens. Faults, call counters and used grant ids are not kept
// either; a restart clears them as it would at Altinn.
//
// Adding a field to the simulator's state is one line in the saved struct
// and one line in its fields method below (both directions use it).
type savedState struct {
	Version int       `json:"version"`
	Saved   time.Time `json:"saved"`
	// Seed is the fingerprint of the seed's systems the state was saved
	// with: when the seed changes (another seed file, a break option), its
	// systems replace the saved ones.
	Seed string `json:"seed"`
	// Systems is the system register, as changed since the seed.
	Systems        []System          `json:"systems"`
	Requests       []savedRequest    `json:"requests"`
	SystemUsers    []savedSystemUser `json:"systemUsers"`
	ChangeRequests []savedChange     `json:"changeRequests"`
	ReqSeq         int               `json:"reqSeq"`
	UserSeq        int               `json:"userSeq"`
	ChangeSeq      int               `json:"changeSeq"`
	// WorldOffset is how far the admin clock has moved Altinn's clock.
	WorldOffset time.Duration `json:"worldOffset"`
	// ClientDelegations are the clients delegated to agent system users
	// (added in version 1 without a version change: a file without them
	// has none).
	ClientDelegations   []savedDelegation `json:"clientDelegations,omitempty"`
	ClientDelegationSeq int               `json:"clientDelegationSeq,omitempty"`
	// EndedClients are client relationships ended since the seed.
	EndedClients []savedEnded `json:"endedClients,omitempty"`
}

// savedEnded is an ended client relationship in the state file.
type savedEnded struct {
	FirmOrgNo   string `json:"firmOrgNo"`
	ClientOrgNo string `json:"clientOrgNo"`
}

// fields copies the Server's own saved fields into st (save) or back (load).
// The caller holds s.mu.
func (st *savedState) fields(s *Server, save bool) {
	field(save, &st.ReqSeq, &s.reqSeq)
	field(save, &st.UserSeq, &s.userSeq)
	field(save, &st.ChangeSeq, &s.changeSeq)
	field(save, &st.WorldOffset, &s.worldOffset)
	field(save, &st.ClientDelegationSeq, &s.cd.seq)
}

// savedDelegation is a client delegation in the state file.
type savedDelegation struct {
	SystemUserID     string    `json:"systemUserId"`
	ClientID         string    `json:"clientId"`
	ClientOrgNo      string    `json:"clientOrgNo"`
	FacilitatorOrgNo string    `json:"facilitatorOrgNo"`
	By               string    `json:"by,omitempty"`
	Via              string    `json:"via"`
	Created          time.Time `json:"created"`
	Seq              int       `json:"seq"`
}

// fields copies d into sd (save) or sd into d (load), one line a field.
func (sd *savedDelegation) fields(d *delegation, save bool) {
	field(save, &sd.SystemUserID, &d.agent)
	field(save, &sd.ClientID, &d.client)
	field(save, &sd.ClientOrgNo, &d.clientOrgNo)
	field(save, &sd.FacilitatorOrgNo, &d.facilitator)
	field(save, &sd.By, &d.by)
	field(save, &sd.Via, &d.via)
	field(save, &sd.Created, &d.created)
	field(save, &sd.Seq, &d.seq)
}

// savedRequest is a request in the state file.
type savedRequest struct {
	ID               string    `json:"id"`
	Agent            bool      `json:"agent,omitempty"`
	SystemID         string    `json:"systemId"`
	PartyOrgNo       string    `json:"partyOrgNo"`
	ExternalRef      string    `json:"externalRef"`
	IntegrationTitle string    `json:"integrationTitle"`
	Rights           []Right   `json:"rights"`
	Packages         []string  `json:"packages"`
	RedirectURL      *string   `json:"redirectUrl,omitempty"`
	Status           string    `json:"status"`
	Escalated        bool      `json:"escalated,omitempty"`
	Deleted          bool      `json:"deleted,omitempty"`
	Created          time.Time `json:"created"`
	Seq              int       `json:"seq"`
}

// fields copies r into d (save) or d into r (load), one line a field.
func (d *savedRequest) fields(r *request, save bool) {
	field(save, &d.ID, &r.id)
	field(save, &d.Agent, &r.agent)
	field(save, &d.SystemID, &r.systemID)
	field(save, &d.PartyOrgNo, &r.partyOrgNo)
	field(save, &d.ExternalRef, &r.externalRef)
	field(save, &d.IntegrationTitle, &r.integrationTitle)
	rightsField(save, &d.Rights, &r.rights)
	sliceField(save, &d.Packages, &r.packages)
	ptrField(save, &d.RedirectURL, &r.redirectURL)
	field(save, &d.Status, &r.status)
	field(save, &d.Escalated, &r.escalated)
	field(save, &d.Deleted, &r.deleted)
	field(save, &d.Created, &r.created)
	field(save, &d.Seq, &r.seq)
}

// savedSystemUser is a system user in the state file.
type savedSystemUser struct {
	ID               string    `json:"id"`
	Agent            bool      `json:"agent,omitempty"`
	SystemID         string    `json:"systemId"`
	PartyOrgNo       string    `json:"partyOrgNo"`
	ExternalRef      string    `json:"externalRef"`
	IntegrationTitle string    `json:"integrationTitle"`
	Rights           []Right   `json:"rights"`
	Packages         []string  `json:"packages"`
	Created          time.Time `json:"created"`
	Deleted          bool      `json:"deleted,omitempty"`
	Seq              int       `json:"seq"`
}

// fields copies u into d (save) or d into u (load), one line a field.
func (d *savedSystemUser) fields(u *systemUser, save bool) {
	field(save, &d.ID, &u.id)
	field(save, &d.Agent, &u.agent)
	field(save, &d.SystemID, &u.systemID)
	field(save, &d.PartyOrgNo, &u.partyOrgNo)
	field(save, &d.ExternalRef, &u.externalRef)
	field(save, &d.IntegrationTitle, &u.integrationTitle)
	rightsField(save, &d.Rights, &u.rights)
	sliceField(save, &d.Packages, &u.packages)
	field(save, &d.Created, &u.created)
	field(save, &d.Deleted, &u.deleted)
	field(save, &d.Seq, &u.seq)
}

// savedChange is a change request in the state file.
type savedChange struct {
	ID               string    `json:"id"`
	SystemUserID     string    `json:"systemUserId"`
	SystemID         string    `json:"systemId"`
	PartyOrgNo       string    `json:"partyOrgNo"`
	ExternalRef      string    `json:"externalRef"`
	RequiredRights   []Right   `json:"requiredRights"`
	UnwantedRights   []Right   `json:"unwantedRights"`
	RequiredPackages []string  `json:"requiredPackages"`
	UnwantedPackages []string  `json:"unwantedPackages"`
	RedirectURL      *string   `json:"redirectUrl,omitempty"`
	Status           string    `json:"status"`
	Deleted          bool      `json:"deleted,omitempty"`
	Created          time.Time `json:"created"`
	Seq              int       `json:"seq"`
}

// fields copies c into d (save) or d into c (load), one line a field.
func (d *savedChange) fields(c *changeRequest, save bool) {
	field(save, &d.ID, &c.id)
	field(save, &d.SystemUserID, &c.systemUserID)
	field(save, &d.SystemID, &c.systemID)
	field(save, &d.PartyOrgNo, &c.partyOrgNo)
	field(save, &d.ExternalRef, &c.externalRef)
	rightsField(save, &d.RequiredRights, &c.requiredRights)
	rightsField(save, &d.UnwantedRights, &c.unwantedRights)
	sliceField(save, &d.RequiredPackages, &c.requiredPackages)
	sliceField(save, &d.UnwantedPackages, &c.unwantedPackages)
	ptrField(save, &d.RedirectURL, &c.redirectURL)
	field(save, &d.Status, &c.status)
	field(save, &d.Deleted, &c.deleted)
	field(save, &d.Created, &c.created)
	field(save, &d.Seq, &c.seq)
}

// field copies a value field between the live state and the saved one.
func field[T any](save bool, saved, live *T) {
	if save {
		*saved = *live
	} else {
		*live = *saved
	}
}

// sliceField copies a slice field; saving copies the elements, because the
// file is written after the lock is released.
func sliceField[T any](save bool, saved, live *[]T) {
	if save {
		*saved = slices.Clone(*live)
	} else {
		*live = *saved
	}
}

// rightsField copies a list of rights deeply, keeping nil apart from empty.
func rightsField(save bool, saved, live *[]Right) {
	if !save {
		*live = *saved
		return
	}
	if *live == nil {
		*saved = nil
		return
	}
	*saved = cloneRights(*live)
}

// ptrField copies an optional string.
func ptrField(save bool, saved, live **string) {
	if !save {
		*live = *saved
		return
	}
	*saved = nil
	if *live != nil {
		v := **live
		*saved = &v
	}
}

// stateStore keeps the Server's state in a file. Every answer that follows a
// change waits until the change is on disk (group commit): a change bumps the
// Server's generation under s.mu, and commitTo writes one snapshot that holds
// every change made up to the moment it is taken, so many concurrent changes
// share a few writes.
type stateStore struct {
	path string
	seed string // fingerprint of the seed's systems
	// writeMu lets one writer at a time take a snapshot and write it.
	writeMu sync.Mutex
	// saved is the generation on disk; it only grows, under writeMu.
	saved atomic.Uint64
	// writes counts the snapshots written and locked the time their copies
	// held s.mu, for tests and BenchmarkSnapshot.
	writes atomic.Int64
	locked atomic.Int64
	info   StateInfo
}

// StateInfo says where the simulator keeps its state and what New found there.
type StateInfo struct {
	// Path is the state file; "" when the state is kept in memory only.
	Path string
	// Restored is true when New read a saved state from Path.
	Restored bool
	// SeedChanged is true when the seed's systems differ from those the state
	// was saved with: the seed's systems were taken, the saved ones dropped.
	SeedChanged bool
	// Requests, SystemUsers and ChangeRequests count what was restored.
	Requests, SystemUsers, ChangeRequests int
}

// StateInfo returns where the state is kept and what New restored.
func (s *Server) StateInfo() StateInfo {
	if s.state == nil {
		return StateInfo{}
	}
	return s.state.info
}

// openState restores the state saved at path, if there is one, and writes
// the first snapshot otherwise, so that a path that cannot be written fails
// at start rather than at the first change. The seed's systems are in
// s.systems already.
func (s *Server) openState(path string, seed Seed) error {
	fp, err := seedFingerprint(seed)
	if err != nil {
		return fmt.Errorf("sim: state: %w", err)
	}
	st := &stateStore{path: path, seed: fp, info: StateInfo{Path: path}}
	s.state = st
	saved, err := readState(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("sim: state file %s: %w", path, err)
		}
		if err := s.commit(); err != nil {
			return err
		}
		return nil
	case err != nil:
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.restoreLocked(saved, fp); err != nil {
		return fmt.Errorf("sim: state file %s is not a state this simulator can use: %w; %s", path, err, startAfresh)
	}
	st.info.Restored = true
	st.info.SeedChanged = saved.Seed != fp
	st.info.Requests, st.info.SystemUsers, st.info.ChangeRequests = len(s.requests), len(s.users), len(s.changes)
	return nil
}

// startAfresh is the advice given with every unusable state file.
const startAfresh = "delete it to start the simulator afresh from its seed (this forgets its requests and system users)"

// readState reads and decodes the state file. A missing file matches
// fs.ErrNotExist; anything else that is wrong names the file and says how to
// start afresh.
func readState(path string) (*savedState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("sim: read state file %s: %w", path, err)
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.Version == nil {
		why := "it has no version"
		if err != nil {
			why = err.Error()
		}
		return nil, fmt.Errorf("sim: state file %s is corrupt (%s); %s", path, why, startAfresh)
	}
	if *head.Version != stateVersion {
		return nil, fmt.Errorf("sim: state file %s has format version %d, this simulator reads version %d; %s",
			path, *head.Version, stateVersion, startAfresh)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("sim: state file %s is corrupt (%v); %s", path, err, startAfresh)
	}
	return &st, nil
}

// restoreLocked replaces the live state with st. The systems are the saved
// ones unless the seed's systems have changed since (fp). Every id must be a
// GUID in canonical form and unique, and the sequences continue after the
// highest one stored. The caller holds s.mu.
func (s *Server) restoreLocked(st *savedState, fp string) error {
	if st.Seed == fp {
		s.systems = make(map[string]*System, len(st.Systems))
		for _, sys := range st.Systems {
			if sys.ID == "" || s.systems[sys.ID] != nil {
				return fmt.Errorf("system %q is missing its id or stored twice", sys.ID)
			}
			s.systems[sys.ID] = cloneSystem(sys)
		}
	}
	st.fields(s, false)
	for i := range st.Requests {
		r := &request{}
		st.Requests[i].fields(r, false)
		if err := checkSaved("request", r.id, r.seq, s.requests[r.id] != nil); err != nil {
			return err
		}
		s.requests[r.id] = r
		k := requestKey{r.agent, r.systemID, r.partyOrgNo, r.externalRef}
		s.byKey[k] = append(s.byKey[k], r)
		s.reqSeq = max(s.reqSeq, r.seq)
	}
	for i := range st.SystemUsers {
		u := &systemUser{}
		st.SystemUsers[i].fields(u, false)
		if err := checkSaved("system user", u.id, u.seq, s.users[u.id] != nil); err != nil {
			return err
		}
		s.users[u.id] = u
		s.userSeq = max(s.userSeq, u.seq)
	}
	for i := range st.ChangeRequests {
		c := &changeRequest{}
		st.ChangeRequests[i].fields(c, false)
		if err := checkSaved("change request", c.id, c.seq, s.changes[c.id] != nil); err != nil {
			return err
		}
		s.changes[c.id] = c
		s.changeSeq = max(s.changeSeq, c.seq)
	}
	for i := range st.ClientDelegations {
		d := &delegation{}
		st.ClientDelegations[i].fields(d, false)
		k := delegationKey{d.agent, d.client}
		if err := checkSaved("client delegation of system user", d.agent, d.seq, s.cd.delegations[k] != nil); err != nil {
			return err
		}
		if g, ok := parseGUID(d.client); !ok || g != d.client {
			return fmt.Errorf("client delegation: client id %q is not a GUID", d.client)
		}
		s.cd.delegations[k] = d
		s.cd.seq = max(s.cd.seq, d.seq)
	}
	s.restoreEndedLocked(st.EndedClients)
	return nil
}

// checkSaved checks one restored thing's id and sequence number.
func checkSaved(what, id string, seq int, duplicate bool) error {
	if g, ok := parseGUID(id); !ok || g != id {
		return fmt.Errorf("%s id %q is not a GUID", what, id)
	}
	if duplicate {
		return fmt.Errorf("%s %s is stored twice", what, id)
	}
	if seq <= 0 {
		return fmt.Errorf("%s %s has no sequence number", what, id)
	}
	return nil
}

// snapshotLocked copies the live state into a savedState that can be
// encoded after the lock is released. The caller holds s.mu.
func (s *Server) snapshotLocked() *savedState {
	st := &savedState{
		Version:        stateVersion,
		Saved:          s.nowLocked().UTC(),
		Seed:           s.state.seed,
		Systems:        make([]System, 0, len(s.systems)),
		Requests:       make([]savedRequest, len(s.requests)),
		SystemUsers:    make([]savedSystemUser, len(s.users)),
		ChangeRequests: make([]savedChange, len(s.changes)),
	}
	st.fields(s, true)
	for _, sys := range s.systems {
		st.Systems = append(st.Systems, *cloneSystem(*sys))
	}
	i := 0
	for _, r := range s.requests {
		st.Requests[i].fields(r, true)
		i++
	}
	i = 0
	for _, u := range s.users {
		st.SystemUsers[i].fields(u, true)
		i++
	}
	i = 0
	for _, c := range s.changes {
		st.ChangeRequests[i].fields(c, true)
		i++
	}
	for _, d := range s.cd.delegations {
		var sd savedDelegation
		sd.fields(d, true)
		st.ClientDelegations = append(st.ClientDelegations, sd)
	}
	st.EndedClients = s.endedLocked()
	return st
}

// sort puts the lists in creation order, so that the file reads in the
// order things happened. It runs after the lock is released.
func (st *savedState) sort() {
	slices.SortFunc(st.Systems, func(a, b System) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Requests, func(a, b savedRequest) int { return a.Seq - b.Seq })
	slices.SortFunc(st.SystemUsers, func(a, b savedSystemUser) int { return a.Seq - b.Seq })
	slices.SortFunc(st.ChangeRequests, func(a, b savedChange) int { return a.Seq - b.Seq })
	slices.SortFunc(st.ClientDelegations, func(a, b savedDelegation) int { return a.Seq - b.Seq })
}

// seedFingerprint is a hash of the seed's systems, to notice a changed seed.
func seedFingerprint(seed Seed) (string, error) {
	b, err := json.Marshal(seed.Systems)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// commit records that the state may have changed and returns once the
// change is on disk. It is a no-op when the state is kept in memory only.
func (s *Server) commit() error {
	if s.state == nil {
		return nil
	}
	s.mu.Lock()
	s.gen++
	gen := s.gen
	s.mu.Unlock()
	return s.commitTo(gen)
}

// commitAfter commits unless err says that nothing was done, for the
// exported mutators: `return s.commitAfter(err)`.
func (s *Server) commitAfter(err error) error {
	if err != nil {
		return err
	}
	return s.commit()
}

// commitTo returns once generation gen, or a later one, is on disk. One
// writer at a time takes a snapshot and writes it; a writer that finds its
// generation saved by another returns at once.
func (s *Server) commitTo(gen uint64) error {
	st := s.state
	if st == nil || st.saved.Load() >= gen {
		return nil
	}
	st.writeMu.Lock()
	defer st.writeMu.Unlock()
	if st.saved.Load() >= gen {
		return nil
	}
	s.mu.Lock()
	start := time.Now()
	snap := s.snapshotLocked()
	snapGen := s.gen
	st.locked.Add(int64(time.Since(start)))
	s.mu.Unlock()
	snap.sort()
	if err := writeState(st.path, snap); err != nil {
		s.logf("sim: %v", err)
		return err
	}
	st.writes.Add(1)
	st.saved.Store(snapGen)
	return nil
}

// generation returns the generation of the live state.
func (s *Server) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// writeState writes st to path atomically: a temporary file in the same
// folder, synced, renamed over the old one, and the folder synced, so that a
// crash leaves either the old state or the new one. The file is readable by
// its owner only.
func writeState(path string, st *savedState) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("sim: save state to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("sim: save state to %s: %w", path, err)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // a file, not a page: < > & as they are
	if err := enc.Encode(st); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// durable makes the HTTP surface answer only what is on disk. Every answer
// is buffered; after a request that may change the state (any method but
// GET and HEAD: vendor calls, the customer's confirm-page forms, the admin
// API's POSTs) the state is saved before the answer leaves, and after a read
// the answer waits for any change it may have seen to be saved. If the save
// fails, the caller gets a 500 instead of an answer that a restart would
// forget. Maskinporten's /token and the fault injection keep nothing on disk
// and are passed through. With the state in memory only, h is returned as is.
func (s *Server) durable(h http.Handler) http.Handler {
	if s.state == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" || strings.HasPrefix(r.URL.Path, "/_sim/faults") || strings.HasPrefix(r.URL.Path, idportenBase+"/") {
			h.ServeHTTP(w, r)
			return
		}
		buf := &bufferedResponse{header: http.Header{}}
		h.ServeHTTP(buf, r)
		var err error
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			err = s.commitTo(s.generation())
		} else {
			err = s.commit()
		}
		if err != nil {
			writeNotSaved(w, r)
			return
		}
		buf.sendTo(w)
	})
}

// writeNotSaved answers a request whose change could not be saved: a page
// for the customer's browser, a problem for API callers.
func writeNotSaved(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, confirmBase) {
		renderPage(w, http.StatusInternalServerError, "message",
			message{NB: "Noe gikk galt. Prøv igjen senere.", EN: "Something went wrong: the simulator could not save the change. Try again later."})
		return
	}
	p := bareProblem(http.StatusInternalServerError)
	p.Title = "An error occurred while processing your request."
	p.Detail = "The simulator could not save the change to its state file."
	writeProblem(w, p)
}

// bufferedResponse holds an answer until the state it depends on is saved.
type bufferedResponse struct {
	header http.Header
	status int
	body   []byte
}

// Header returns the answer's headers.
func (b *bufferedResponse) Header() http.Header { return b.header }

// WriteHeader records the status; only the first call counts, as in net/http.
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// Write buffers p, with status 200 unless one was set.
func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	b.body = append(b.body, p...)
	return len(p), nil
}

// sendTo writes the buffered answer to w. An answer that was never started
// (a hung call the client gave up on) is sent as net/http would: 200, empty.
func (b *bufferedResponse) sendTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}

// changedLocked records a change to the state kept in the state file; every
// mutation of it calls this under s.mu, so that a read that sees the change
// waits for it to be saved. The caller holds s.mu.
func (s *Server) changedLocked() { s.gen++ }
