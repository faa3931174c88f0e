package core

import "github.com/zerobuffer/zerobuffer-go/internal/failpoint"

// failpointHit marks a point where crash tests (build tag zbfailpoint) can
// kill or stop this process. It compiles to nothing otherwise.
func failpointHit(name string) { failpoint.Hit(name) }
