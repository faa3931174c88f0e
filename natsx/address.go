package natsx

import (
	"fmt"
	"net/url"
	"strings"
)

// Address is a parsed bridge endpoint: shm://NAME or
// nats://[user:pass@]host:port/SUBJECT.
type Address struct {
	// Scheme is "shm" or "nats".
	Scheme string
	// Name is the buffer name (shm) or the subject (nats).
	Name string
	// Server is the NATS server URL without the subject, e.g.
	// "nats://host:4222"; empty for shm and for "nats:///SUBJECT" (no
	// server given: use an embedded one).
	Server string
}

// ParseAddress parses a bridge endpoint. Errors match [ErrBadURL] (and
// [ErrBadSubject] for a subject that cannot name a channel).
func ParseAddress(s string) (Address, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %w", ErrBadURL, s, err)
	}
	switch u.Scheme {
	case "shm":
		name := u.Host + u.Path
		if name == "" || strings.ContainsAny(name, "/\\\x00") || u.RawQuery != "" || u.User != nil {
			return Address{}, fmt.Errorf("%w: %q: want shm://NAME", ErrBadURL, s)
		}
		return Address{Scheme: "shm", Name: name}, nil
	case "nats", "tls":
		subj := strings.TrimPrefix(u.Path, "/")
		if err := validSubject(subj); err != nil {
			return Address{}, fmt.Errorf("%w: %q: %w", ErrBadURL, s, err)
		}
		a := Address{Scheme: "nats", Name: subj}
		if u.Host != "" {
			srv := *u
			srv.Path, srv.RawPath, srv.RawQuery, srv.Fragment = "", "", "", ""
			a.Server = srv.String()
		}
		return a, nil
	default:
		return Address{}, fmt.Errorf("%w: %q: want shm://NAME or nats://host:port/SUBJECT", ErrBadURL, s)
	}
}
