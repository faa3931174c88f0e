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
