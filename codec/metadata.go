package codec

import (
	"bytes"
	"fmt"
	"strings"
)

// Metadata format
//
// A typed sender declares its codec in the buffer metadata (which the
// protocol lets a writer set once per buffer) as one ASCII line, optionally
// followed by application bytes:
//
//	zerobuffer-codec=NAME\n<user metadata>
//
// NAME satisfies [ValidateName]. Everything after the first '\n' belongs to
// the application and is opaque to this package.

// MetadataPrefix starts every codec header.
const MetadataPrefix = "zerobuffer-codec="

// MaxNameLen is the longest accepted codec name in bytes.
const MaxNameLen = 128

// ValidateName reports whether name can be used as a codec name: 1 to
// [MaxNameLen] bytes from the set [A-Za-z0-9] and "._:/+-". Errors wrap
// [ErrInvalidName].
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: length %d not in 1..%d", ErrInvalidName, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%w: %q has byte %#x at %d", ErrInvalidName, name, name[i], i)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._:/+-", c) >= 0
}

// AppendMetadata appends the header declaring codec name, followed by user,
// to dst and returns the extended slice.
func AppendMetadata(dst []byte, name string, user []byte) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return dst, err
	}
	dst = append(dst, MetadataPrefix...)
	dst = append(dst, name...)
	dst = append(dst, '\n')
	return append(dst, user...), nil
}

// MetadataLen is the size of the metadata that [AppendMetadata] produces for
// name and userLen bytes of user metadata.
func MetadataLen(name string, userLen int) int {
	return len(MetadataPrefix) + len(name) + 1 + userLen
}

// ParseMetadata splits buffer metadata into the declared codec name and the
// user part. user aliases md. Metadata that does not start with
// [MetadataPrefix], lacks the terminating '\n' or carries an invalid name
// yields an error wrapping [ErrMetadata].
func ParseMetadata(md []byte) (name string, user []byte, err error) {
	rest, ok := bytes.CutPrefix(md, []byte(MetadataPrefix))
	if !ok {
		return "", nil, fmt.Errorf("%w: no %q header", ErrMetadata, MetadataPrefix)
	}
	n, user, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return "", nil, fmt.Errorf("%w: unterminated header", ErrMetadata)
	}
	if err := ValidateName(string(n)); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return string(n), user, nil
}

// CheckMetadata verifies that md declares codec want. Missing metadata (nil
// or empty) or metadata without a codec header gives a [*MismatchError] with
// an empty Got; a different name gives one with Got set. Both match
// [ErrMismatch].
func CheckMetadata(md []byte, want string) error {
	got, _, err := ParseMetadata(md)
	if err != nil {
		return &MismatchError{Want: want}
	}
	if got != want {
		return &MismatchError{Want: want, Got: got}
	}
	return nil
}

// Type line
//
// A sender whose encoder implements [Fingerprinter] adds a second line
// that names the message type, before the user metadata:
//
//	zerobuffer-codec=NAME\nzerobuffer-type=FINGERPRINT\n<user metadata>
//
// Readers that do not know the line (older Go versions) see it as part of
// the user metadata; peers that write none (C++, C#, Python) are accepted
// by every check.

// TypePrefix starts the optional type line after the codec header.
const TypePrefix = "zerobuffer-type="

// Fingerprinter is implemented by encoders and decoders that can name the
// type of their messages, so that a receiver refuses a sender of another
// type at connect instead of decoding its bytes into zero values. A
// fingerprint is 1 to [MaxNameLen] bytes from the set of [ValidateName]
// plus '@'. Two fingerprints of the form NAME@DIGEST match when their
// digests are equal (the Go type names may differ: the digest covers the
// wire layout); any other pair matches only when equal.
type Fingerprinter interface {
	Fingerprint() string
}

// FingerprintOf returns the fingerprint of c if it implements
// [Fingerprinter], and "" otherwise.
func FingerprintOf(c any) string {
	if f, ok := c.(Fingerprinter); ok {
		return f.Fingerprint()
	}
	return ""
}

// ValidateFingerprint reports whether fp can be written as a type line.
// Errors wrap [ErrInvalidName].
func ValidateFingerprint(fp string) error {
	return ValidateName(strings.ReplaceAll(fp, "@", "."))
}

// AppendType appends the type line declaring fp to dst.
func AppendType(dst []byte, fp string) ([]byte, error) {
	if err := ValidateFingerprint(fp); err != nil {
		return dst, err
	}
	dst = append(dst, TypePrefix...)
	dst = append(dst, fp...)
	return append(dst, '\n'), nil
}

// TypeLineLen is the size of the type line that [AppendType] writes for fp.
func TypeLineLen(fp string) int { return len(TypePrefix) + len(fp) + 1 }

// ParseType splits the user part of metadata (as returned by
// [ParseMetadata]) into a declared fingerprint and the rest. Without a
// type line, fp is "" and rest is user.
func ParseType(user []byte) (fp string, rest []byte) {
	line, ok := bytes.CutPrefix(user, []byte(TypePrefix))
	if !ok {
		return "", user
	}
	f, rest, ok := bytes.Cut(line, []byte{'\n'})
	if !ok || ValidateFingerprint(string(f)) != nil {
		return "", user
	}
	return string(f), rest
}

// SameType reports whether fingerprints a and b match (see
// [Fingerprinter]).
func SameType(a, b string) bool {
	_, da, oka := strings.Cut(a, "@")
	_, db, okb := strings.Cut(b, "@")
	if oka && okb {
		return da == db
	}
	return a == b
}

// DeclaresType reports whether the metadata md declares a type whose
// fingerprint matches want (see [SameType]). An empty want, or metadata
// without a type line, gives false.
func DeclaresType(md []byte, want string) bool {
	if want == "" {
		return false
	}
	_, user, err := ParseMetadata(md)
	if err != nil {
		return false
	}
	got, _ := ParseType(user)
	return got != "" && SameType(got, want)
}

// CheckType verifies that the metadata md, which declares codec name, is
// compatible with the fingerprint want: md declares no type, or one that
// matches. A mismatch is a [*MismatchError] naming both types, matching
// [ErrMismatch]. An empty want accepts everything.
func CheckType(md []byte, name, want string) error {
	if want == "" {
		return nil
	}
	_, user, err := ParseMetadata(md)
	if err != nil {
		return nil // CheckMetadata reports this
	}
	got, _ := ParseType(user)
	if got == "" || SameType(got, want) {
		return nil
	}
	return &MismatchError{Want: name + " type " + want, Got: name + " type " + got}
}
