package core

import "github.com/zerobuffer/zerobuffer-go/internal/failpoint"

// failpointHit marks a point where crash tests (build tag zbfailpoint) can
// kill or stop this process. It compiles to nothing otherwise.
func failpointHit(name string) { failpoint.Hit(name) }

// failpointsEnabled is true in builds with the zbfailpoint tag; code that
// needs extra steps only for a failpoint (a copy split in two) tests it.
const failpointsEnabled = failpoint.Enabled
