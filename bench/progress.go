package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line bar, redrawn in place with a carriage
// return. A nil writer disables it.
type progress struct {
	w     io.Writer
	total int
	n     int
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: max(total, 1), start: time.Now()}
}

const barWidth = 24

// step announces that the next case, label, starts.
func (p *progress) step(label string) {
	if p.w == nil {
		return
	}
	filled := barWidth * p.n / p.total
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
	p.n++
	fmt.Fprintf(p.w, "\r\x1b[K[%s] %3d/%d %4.0fs  %s", bar, p.n, p.total, time.Since(p.start).Seconds(), label)
}

// finish erases the bar.
func (p *progress) finish() {
	if p.w != nil {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
