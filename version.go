// Package zerobuffer holds what belongs to the module as a whole: its
// version. The protocol lives in package core, typed channels in typed,
// request/response in duplex.
package zerobuffer

// Version is the release of this module, in semantic-version form without
// the leading "v" (the git tag is "v" + Version). It is reported by
// `zerobuffer version` and changes with every entry of CHANGELOG.md. It is
// not the wire protocol version: every release speaks ZeroBuffer v1
// (docs/PROTOCOL.md section 1).
const Version = "0.1.0"
