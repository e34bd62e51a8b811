package mail

import "time"

// Workers are the mail jobs River runs: the periodic sweep every Interval
// and the send jobs in Queue.
type Workers struct {
	Send     *SendWorker
	Sweep    *SweepWorker
	Interval time.Duration
}
